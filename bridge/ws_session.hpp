// One /ws client's JSON protocol session: its subscriptions (snapshot or replay, then live), its
// publishes, its requests waiting for a device's MQTT 5 reply, and its presence subscription.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/message_sink.hpp"
#include "request_auth.hpp"
#include "stream_dedup.hpp"
#include "websocket_stream.hpp"
#include "ws_command.hpp"

namespace tern::net {
struct PresenceEvent;
}

namespace tern::bridge {

class Bridge;

// Owned by its WebSocketStream; runs on the connection's loop. Messages reach it as a
// net::MessageSink registered under one uid; each subscription (and the reply topic) is a filter
// of that uid with its own subscription identifier, so a delivery names the subscriptions it
// matched.
class WsSession final : public WebSocketStream::Listener, public net::MessageSink {
  public:
    // Requests waiting for their reply, per connection.
    static constexpr std::size_t kMaxPendingRequests = 100;
    // Reply topics are "<kReplyPrefix><32 hex digits>", one per connection (made at its first
    // request). A leading '$' keeps them out of other clients' "#" and "+/..." subscriptions
    // [MQTT-4.7.2-1]; devices answering need write access to "$bridge/reply/+".
    static constexpr std::string_view kReplyPrefix = "$bridge/reply/";

    // `conflate_ms` (?conflate=): 0 sends every message; otherwise at most the latest message
    // per topic in each interval.
    WsSession(WebSocketStream& stream, Identity who, core::MonoMillis conflate_ms = 0);
    ~WsSession() override;

    void on_text(std::string_view text) override;
    void on_tick(core::MonoMillis now) override;
    void on_closed() override;
    void on_message(const core::OutgoingMessage& message) override;
    void on_overload(uint64_t dropped) override;

  private:
    struct Subscription {
        nlohmann::json id;  // the subscribe command's id, repeated as "sub" in its messages
        std::string filter;
    };
    struct PendingRequest {
        nlohmann::json id;
        core::MonoMillis deadline = 0;
        core::MonoMillis timeout_ms = 0;
    };

    void execute(WsCommand& command);
    void subscribe(const nlohmann::json& id, const SubscribeCommand& command);
    void send_backlog(const nlohmann::json& id, const SubscribeCommand& command);
    void unsubscribe(const nlohmann::json& id, const UnsubscribeCommand& command);
    void publish(const nlohmann::json& id, PublishCommand& command);
    void request(const nlohmann::json& id, RequestCommand& command);
    // Answers `id` with the error check_publish() finds, if any; true when refused.
    bool refuse_publish(const nlohmann::json& id, const PublishRequest& publish);
    void presence_subscribe(const nlohmann::json& id);
    void presence_unsubscribe(const nlohmann::json& id);
    void on_presence(const net::PresenceEvent& event);
    void on_reply(const core::MessagePtr& message);
    // Sends `message` once for each of the subscription identifiers still subscribed.
    bool deliver(const core::MessagePtr& message, const std::vector<uint32_t>& subscription_ids);
    void flush_conflated(core::MonoMillis now);
    void expire_requests(core::MonoMillis now);
    // Subscribes the session's uid to `filter` with `subscription_id` (registers the sink first).
    void add_filter(const std::string& filter, uint32_t subscription_id);
    void ensure_reply_topic();
    // `envelope` is the message's envelope JSON (envelope.hpp).
    bool send_message(const nlohmann::json& sub, std::string_view envelope);
    bool send_error(const nlohmann::json& id, std::string_view code, std::string_view message);
    bool send(std::string_view text);

    WebSocketStream& _stream;
    Bridge& _bridge;
    Identity _who;
    uint64_t _uid = 0;  // 0 until the first filter
    bool _closed = false;
    core::MonoMillis _last_overload_gap = 0;

    std::unordered_map<uint32_t, Subscription> _subscriptions;  // by subscription identifier
    std::unordered_map<std::string, uint32_t> _by_filter;
    uint32_t _next_subscription_id;

    std::string _reply_topic;                                   // empty until the first request
    std::unordered_map<std::string, PendingRequest> _requests;  // by correlation data

    nlohmann::json _presence_id;
    uint64_t _presence_token = 0;

    Conflator<core::OutgoingMessage> _conflator;
    ReplayedSeqs _replayed;
};

}  // namespace tern::bridge
