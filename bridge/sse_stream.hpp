// GET /events: a Server-Sent Events stream of the messages on some MQTT filters — retained values
// first, then live — with resume from the history, presence events, conflation, heartbeats and
// a byte cap for slow consumers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/history.hpp"
#include "net/message_sink.hpp"
#include "request_auth.hpp"
#include "stream_dedup.hpp"
#include "stream_handler.hpp"

namespace tern::net {
struct PresenceEvent;
}

namespace tern::bridge {

class HttpConnection;

class SseStream final : public StreamHandler, public net::MessageSink {
  public:
    struct Options {
        std::vector<std::string> filters;           // checked (check_filter), no duplicates
        bool presence = false;                      // also send presence events
        core::MonoMillis conflate_ms = 0;           // 0 = every message
        std::optional<net::StreamPosition> resume;  // Last-Event-ID
    };

    SseStream(HttpConnection& connection, Identity who, Options options);
    ~SseStream() override;

    // Once the connection streams: subscribes, then writes the retained snapshot (or the
    // replay from the history) before any live message.
    void begin();

    ClientKind kind() const noexcept override { return ClientKind::Sse; }
    void on_tick(core::MonoMillis now) override;
    void on_close() override;
    void on_message(const core::OutgoingMessage& message) override;
    void on_overload(uint64_t dropped) override;

  private:
    void send_snapshot(std::string_view id);
    void send_replay(const net::StreamPosition& head);
    void send_gap(std::string_view reason);
    void send_message(const core::MessagePtr& message, bool retain, std::string_view id,
                      bool cached);
    void send_live(const core::MessagePtr& message);
    void on_presence(const net::PresenceEvent& event);
    void flush_conflated(core::MonoMillis now);
    void write(std::string_view bytes);
    // Past bridge.max_client_buffer (output plus `held` bytes kept for conflation): a final
    // "error" event, then close. False when it cut the client off.
    bool check_cap(std::size_t held = 0);

    HttpConnection& _connection;
    Identity _who;
    Options _options;
    uint64_t _uid = 0;
    uint64_t _presence_token = 0;
    bool _subscribed = false;
    bool _closed = false;
    core::MonoMillis _last_write = 0;
    std::string _last_id;  // the last "id:" sent
    core::MonoMillis _last_overload_gap = 0;

    Conflator<core::MessagePtr> _conflator;
    ReplayedSeqs _replayed;
};

}  // namespace tern::bridge
