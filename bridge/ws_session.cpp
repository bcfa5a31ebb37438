// The /ws JSON protocol on one WebSocket: commands, subscriptions, publishes, requests, presence.
#include "ws_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <algorithm>
#include <stdexcept>

#include "bridge.hpp"
#include "envelope.hpp"
#include "handlers.hpp"
#include "http_connection.hpp"
#include "loop_context.hpp"
#include "net/broker.hpp"
#include "net/presence.hpp"
#include "net/worker_loop.hpp"
#include "stream_backlog.hpp"
#include "websocket_upgrade.hpp"

namespace tern::bridge {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// The reply topic's subscription identifier; client subscriptions count up from the next one.
constexpr uint32_t kReplySubscriptionId = 1;

// `size` bytes from the kernel's CSPRNG: reply topics and correlation data must not be
// guessable, or another client could read or forge replies.
std::string random_bytes(std::size_t size) {
    std::string out(size, '\0');
    std::size_t filled = 0;
    while (filled < size) {
        const ssize_t got = ::getrandom(out.data() + filled, size - filled, 0);
        if (got <= 0) {
            throw std::runtime_error("getrandom failed");
        }
        filled += static_cast<std::size_t>(got);
    }
    return out;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        out += kDigits[byte >> 4];
        out += kDigits[byte & 0xF];
    }
    return out;
}

// The sentence of a refusal made by check_filter (its body is {"error","message"}).
std::string refusal_message(const HttpResponse& response) {
    const Json body = Json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
        return body["message"].get<std::string>();
    }
    return "refused";
}

OrderedJson ordered(const Json& id) {
    return OrderedJson::parse(id.dump());
}

}  // namespace

WsSession::WsSession(WebSocketStream& stream, Identity who, core::MonoMillis conflate_ms)
    : _stream(stream),
      _bridge(stream.connection().bridge()),
      _who(std::move(who)),
      _next_subscription_id(kReplySubscriptionId + 1),
      _conflator(conflate_ms) {}

WsSession::~WsSession() {
    on_closed();
}

bool WsSession::send(std::string_view text) {
    return !_closed && _stream.send_text(text);
}

bool WsSession::send_error(const Json& id, std::string_view code, std::string_view message) {
    return send(ws_error_answer(id, code, message));
}

bool WsSession::send_message(const Json& sub, std::string_view envelope) {
    std::string text = R"({"type":"message","sub":)";
    text += sub.dump();
    text += R"(,"data":)";
    text += envelope;
    text += '}';
    _bridge.stats().events_sent.fetch_add(1, std::memory_order_relaxed);
    return send(text);
}

void WsSession::on_text(std::string_view text) {
    std::vector<WsCommand> commands = parse_ws_frame(text);
    for (WsCommand& command : commands) {
        if (_closed || !_stream.open()) {
            return;  // cut off (byte cap) by an earlier answer
        }
        if (!command.args) {
            send_error(command.id, command.error.code, command.error.message);
            continue;
        }
        execute(command);
    }
}

void WsSession::execute(WsCommand& command) {
    const Json& id = command.id;
    WsCommandArgs& args = *command.args;
    if (std::holds_alternative<PingCommand>(args)) {
        send(ws_ok(id));
    } else if (auto* subscribe_args = std::get_if<SubscribeCommand>(&args)) {
        subscribe(id, *subscribe_args);
    } else if (auto* unsubscribe_args = std::get_if<UnsubscribeCommand>(&args)) {
        unsubscribe(id, *unsubscribe_args);
    } else if (auto* publish_args = std::get_if<PublishCommand>(&args)) {
        publish(id, *publish_args);
    } else if (auto* request_args = std::get_if<RequestCommand>(&args)) {
        request(id, *request_args);
    } else if (std::holds_alternative<PresenceSubscribeCommand>(args)) {
        presence_subscribe(id);
    } else if (std::holds_alternative<PresenceUnsubscribeCommand>(args)) {
        presence_unsubscribe(id);
    }
}

void WsSession::add_filter(const std::string& filter, uint32_t subscription_id) {
    net::WorkerLoop& loop = _stream.connection().loop();
    net::Broker& broker = _bridge.broker();
    if (_uid == 0) {
        _uid = broker.next_session_uid();
        loop.add_sink(_uid, this);
    }
    core::SubscriptionOptions options;
    options.qos = 2;  // the envelope shows the QoS the message was published with
    options.subscription_id = subscription_id;
    broker.subscriptions().subscribe({loop.index(), _uid}, filter, options);
}

void WsSession::subscribe(const Json& id, const SubscribeCommand& command) {
    if (_by_filter.contains(command.filter)) {
        send_error(id, ws_error::kAlreadySubscribed,
                   "already subscribed to '" + command.filter + "'");
        return;
    }
    const uint32_t max = _bridge.broker().settings().limits.max_subscriptions_per_client;
    if (max != 0 && _subscriptions.size() >= max) {
        send_error(id, ws_error::kTooManySubscriptions,
                   "at most " + std::to_string(max) + " subscriptions per connection");
        return;
    }
    if (auto refusal = check_filter(_bridge, _who, command.filter)) {
        send_error(id, refusal->status == 403 ? ws_error::kForbidden : ws_error::kInvalidFilter,
                   refusal_message(*refusal));
        return;
    }
    const uint32_t subscription_id = _next_subscription_id++;
    add_filter(command.filter, subscription_id);
    _subscriptions.emplace(subscription_id, Subscription{id, command.filter});
    _by_filter.emplace(command.filter, subscription_id);
    // Taken after subscribing: every later message reaches us live, every earlier one is in
    // the snapshot or the history.
    const net::StreamPosition head = _bridge.broker().history().head();
    send_backlog(id, command);
    OrderedJson fields;
    if (head.seq != 0) {
        fields["position"] = head.to_string();
    }
    send(ws_ok(id, std::move(fields)));
}

void WsSession::send_backlog(const Json& id, const SubscribeCommand& command) {
    const std::span<const std::string> filters(&command.filter, 1);
    const uint64_t epoch = _bridge.broker().history().epoch();
    const uint64_t now_ms = net::Presence::unix_now_ms();
    const core::MonoMillis now = _stream.connection().loop().now();
    const auto send_snapshot = [&] {
        for (const core::MessagePtr& message : retained_snapshot(_bridge, _who, filters, now)) {
            if (!send_message(id, envelope_json(*message, true, epoch, now_ms))) {
                return;
            }
        }
    };
    if (!command.from) {
        send_snapshot();
        return;
    }
    Replay replay = replay_history(_bridge, _who, filters, *command.from);
    if (replay.gap) {
        // What was missed is not all in the history: say so, then give the current values.
        OrderedJson gap;
        gap["type"] = "gap";
        gap["sub"] = ordered(id);
        gap["from"] = command.from->to_string();
        gap["message"] = replay.gap_reason;
        if (!send(dump_json(gap))) {
            return;
        }
        send_snapshot();
    }
    for (const net::HistoryEntry& entry : replay.entries) {
        if (!send_message(id, envelope_json(*entry.message, false, epoch, now_ms))) {
            return;
        }
    }
    _replayed.remember(replay.seqs, now);
}

void WsSession::unsubscribe(const Json& id, const UnsubscribeCommand& command) {
    const auto it = _by_filter.find(command.filter);
    if (it == _by_filter.end()) {
        send_error(id, ws_error::kNotSubscribed, "not subscribed to '" + command.filter + "'");
        return;
    }
    net::WorkerLoop& loop = _stream.connection().loop();
    _bridge.broker().subscriptions().unsubscribe({loop.index(), _uid}, command.filter);
    _subscriptions.erase(it->second);
    _by_filter.erase(it);
    send(ws_ok(id));
}

bool WsSession::refuse_publish(const Json& id, const PublishRequest& publish) {
    auto refusal = check_publish(_bridge, _who, publish);
    if (!refusal) {
        return false;
    }
    send_error(id,
               refusal->status == 403   ? ws_error::kForbidden
               : refusal->invalid_topic ? ws_error::kInvalidTopic
                                        : ws_error::kInvalidField,
               refusal->message);
    return true;
}

void WsSession::publish(const Json& id, PublishCommand& command) {
    if (refuse_publish(id, command.publish)) {
        return;
    }
    HttpConnection& connection = _stream.connection();
    LoopContext* context = &connection.context();
    publish_request(
        _bridge, connection.loop(), std::move(command.publish),
        [this, context, connection_id = connection.id(), id](const PublishResult& result) {
            // The connection (and this session with it) may be gone by now.
            if (context->find(connection_id) == nullptr) {
                return;
            }
            OrderedJson fields;
            if (!result.position.empty()) {
                fields["position"] = result.position;
            }
            fields["receivers"] = result.receivers;
            send(ws_ok(id, std::move(fields)));
        });
}

void WsSession::ensure_reply_topic() {
    if (_reply_topic.empty()) {
        _reply_topic = std::string(kReplyPrefix) + to_hex(random_bytes(16));
        add_filter(_reply_topic, kReplySubscriptionId);
    }
}

void WsSession::request(const Json& id, RequestCommand& command) {
    if (refuse_publish(id, command.publish)) {
        return;
    }
    if (_requests.size() >= kMaxPendingRequests) {
        send_error(id, ws_error::kTooManyRequests,
                   "at most " + std::to_string(kMaxPendingRequests) +
                       " requests may wait for a reply per connection");
        return;
    }
    ensure_reply_topic();
    std::string correlation = random_bytes(16);
    codec::Properties& props = command.publish.properties;
    props.response_topic = _reply_topic;
    props.correlation_data = correlation;
    HttpConnection& connection = _stream.connection();
    _requests[correlation] =
        PendingRequest{id, connection.loop().now() + command.timeout_ms, command.timeout_ms};
    const PublishResult result =
        publish_request(_bridge, connection.loop(), std::move(command.publish), nullptr);
    if (result.receivers == 0) {
        // Nobody can answer: say so now rather than after the timeout.
        _requests.erase(correlation);
        send_error(id, ws_error::kNoSubscribers, "no client is subscribed to the request's topic");
    }
}

void WsSession::on_reply(const core::MessagePtr& message) {
    const auto& correlation = message->properties().correlation_data;
    if (!correlation) {
        return;
    }
    const auto it = _requests.find(*correlation);
    if (it == _requests.end()) {
        return;  // late (timed out), answered already, or not ours
    }
    const Json id = std::move(it->second.id);
    _requests.erase(it);
    OrderedJson fields;
    fields["data"] =
        envelope(*message, false, _bridge.broker().history().epoch(), net::Presence::unix_now_ms());
    send(ws_ok(id, std::move(fields)));
}

void WsSession::expire_requests(core::MonoMillis now) {
    for (auto it = _requests.begin(); it != _requests.end() && !_closed;) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        const PendingRequest expired = std::move(it->second);
        it = _requests.erase(it);
        send_error(expired.id, ws_error::kTimeout,
                   "no reply within " + std::to_string(expired.timeout_ms) + " ms");
    }
}

void WsSession::presence_subscribe(const Json& id) {
    if (_presence_token != 0) {
        send_error(id, ws_error::kAlreadySubscribed, "already subscribed to presence");
        return;
    }
    net::Presence& presence = _bridge.broker().presence();
    _presence_id = id;
    _presence_token =
        presence.listen(_stream.connection().loop(),
                        [this](const net::PresenceEvent& event) { on_presence(event); });
    // Listening first: a change after the snapshot arrives as an event after this answer.
    OrderedJson clients = OrderedJson::array();
    for (const net::PresenceRecord& record : presence.snapshot()) {
        clients.push_back(presence_json(record));
    }
    OrderedJson fields;
    fields["clients"] = std::move(clients);
    send(ws_ok(id, std::move(fields)));
}

void WsSession::presence_unsubscribe(const Json& id) {
    if (_presence_token == 0) {
        send_error(id, ws_error::kNotSubscribed, "not subscribed to presence");
        return;
    }
    _bridge.broker().presence().unlisten(_stream.connection().loop(), _presence_token);
    _presence_token = 0;
    send(ws_ok(id));
}

void WsSession::on_presence(const net::PresenceEvent& event) {
    if (_closed) {
        return;
    }
    OrderedJson out;
    out["type"] = "presence";
    out["sub"] = ordered(_presence_id);
    OrderedJson data = presence_json(event.record);
    data["reason"] = event.reason;
    out["data"] = std::move(data);
    send(dump_json(out));
}

void WsSession::on_overload(uint64_t dropped) {
    // At most one gap a second per subscription: an overloaded loop sheds on every flush.
    const core::MonoMillis now = _stream.connection().loop().now();
    if (_closed || (_last_overload_gap != 0 && now - _last_overload_gap < 1000)) {
        return;
    }
    _last_overload_gap = now;
    for (const auto& [subscription_id, subscription] : _subscriptions) {
        OrderedJson gap;
        gap["type"] = "gap";
        gap["sub"] = ordered(subscription.id);
        gap["message"] = "the server is overloaded: " + std::to_string(dropped) +
                         " messages for this loop's clients were dropped";
        if (!send(dump_json(gap))) {
            return;
        }
    }
}

void WsSession::on_message(const core::OutgoingMessage& outgoing) {
    if (_closed) {
        return;
    }
    const core::MessagePtr& message = outgoing.message;
    const core::MonoMillis now = _stream.connection().loop().now();
    if (message->expired(now)) {
        return;  // [MQTT-3.3.2-5]
    }
    const std::vector<uint32_t>& ids = outgoing.subscription_ids;
    if (std::find(ids.begin(), ids.end(), kReplySubscriptionId) != ids.end()) {
        // The reply topic is the server's own: no ACL read rule is asked of the user.
        on_reply(message);
        if (ids.size() == 1) {
            return;  // the reply topic alone
        }
    }
    if (!may_receive(_bridge, _who, message->topic)) {
        return;  // the filter may be wider than what this user may read
    }
    if (_replayed.contains(message->seq)) {
        return;  // already replayed from the history
    }
    if (!_conflator.enabled() || _conflator.send_now(now)) {
        deliver(message, ids);
        return;
    }
    _stream.check_cap(_conflator.hold(outgoing));
}

bool WsSession::deliver(const core::MessagePtr& message,
                        const std::vector<uint32_t>& subscription_ids) {
    for (const uint32_t subscription_id : subscription_ids) {
        const auto it = _subscriptions.find(subscription_id);
        if (it == _subscriptions.end()) {
            continue;  // the reply topic, or unsubscribed while the message travelled
        }
        if (!send_message(it->second.id, _stream.connection().context().envelope(message, false))) {
            return false;
        }
    }
    return true;
}

void WsSession::flush_conflated(core::MonoMillis now) {
    for (const core::OutgoingMessage& outgoing : _conflator.take_due(now)) {
        if (_closed || !deliver(outgoing.message, outgoing.subscription_ids)) {
            return;
        }
    }
}

void WsSession::on_tick(core::MonoMillis now) {
    if (_closed) {
        return;
    }
    _replayed.tick(now);
    expire_requests(now);
    if (!_closed) {
        flush_conflated(now);
    }
}

void WsSession::on_closed() {
    if (_closed) {
        return;
    }
    _closed = true;
    net::WorkerLoop& loop = _stream.connection().loop();
    net::Broker& broker = _bridge.broker();
    if (_uid != 0) {
        for (const auto& [filter, subscription_id] : _by_filter) {
            broker.subscriptions().unsubscribe({loop.index(), _uid}, filter);
        }
        if (!_reply_topic.empty()) {
            broker.subscriptions().unsubscribe({loop.index(), _uid}, _reply_topic);
        }
        loop.remove_sink(_uid);
        _uid = 0;
    }
    _subscriptions.clear();
    _by_filter.clear();
    _requests.clear();
    _conflator.clear();
    if (_presence_token != 0) {
        broker.presence().unlisten(loop, _presence_token);
        _presence_token = 0;
    }
}

namespace handlers {

void ws(HttpConnection& connection, const HttpRequest& request, const Identity& who) {
    if (request.header("upgrade") == nullptr) {
        // A plain GET: say what the endpoint speaks (RFC 7231 §6.5.15).
        HttpResponse response =
            json_error(426, "upgrade_required", request.path + " is a WebSocket endpoint");
        response.headers.emplace_back("Upgrade", "websocket");
        return connection.respond(std::move(response));
    }
    websocket::HandshakePolicy policy;
    // Bridge::dispatch has already refused an Origin that is neither this server nor in
    // bridge.allowed_origins (the same rule as CORS).
    policy.allowed_origins = {"*"};
    const websocket::HandshakeResult result = check_upgrade(request, policy);
    if (!result.accepted()) {
        return connection.respond_and_close(upgrade_refusal(result));
    }
    core::MonoMillis conflate_ms = 0;
    if (const std::string* conflate = request.query_value("conflate")) {
        const auto ms = parse_duration_ms(*conflate);
        if (!ms) {
            return connection.respond(
                json_error(400, "bad_request",
                           "conflate must be a duration like 250, 250ms or 2s (at most one hour)"));
        }
        conflate_ms = *ms;
    }
    websocket::DecoderOptions options;
    options.max_message_size = connection.bridge().settings().max_body_bytes;
    options.accept_text = true;
    options.accept_binary = false;  // the protocol is JSON text: binary closes with 1003
    auto stream = std::make_unique<WebSocketStream>(connection, options);
    stream->set_listener(std::make_unique<WsSession>(*stream, who, conflate_ms));
    connection.set_response_headers({});
    connection.start_stream(std::move(stream), result.response);
}

}  // namespace handlers

}  // namespace tern::bridge
