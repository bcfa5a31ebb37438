// Server-Sent Events: subscription through a message sink, snapshot or replay, then live events.
#include "sse_stream.hpp"

#include <algorithm>

#include "bridge.hpp"
#include "envelope.hpp"
#include "handlers.hpp"
#include "http_connection.hpp"
#include "loop_context.hpp"
#include "net/broker.hpp"
#include "net/presence.hpp"
#include "net/worker_loop.hpp"
#include "stream_backlog.hpp"

namespace tern::bridge {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kStreamHead =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";

bool is_true(const std::string* value) {
    return value != nullptr && (*value == "1" || *value == "true" || *value == "yes");
}

}  // namespace

SseStream::SseStream(HttpConnection& connection, Identity who, Options options)
    : _connection(connection),
      _who(std::move(who)),
      _options(std::move(options)),
      _conflator(_options.conflate_ms) {}

SseStream::~SseStream() {
    on_close();
}

void SseStream::begin() {
    net::WorkerLoop& loop = _connection.loop();
    net::Broker& broker = _connection.bridge().broker();
    _last_write = loop.now();
    _uid = broker.next_session_uid();
    loop.add_sink(_uid, this);
    core::SubscriptionOptions options;
    options.qos = 2;  // the envelope shows the QoS the message was published with
    for (const std::string& filter : _options.filters) {
        broker.subscriptions().subscribe({loop.index(), _uid}, filter, options);
    }
    _subscribed = true;
    if (_options.presence) {
        _presence_token = broker.presence().listen(
            loop, [this](const net::PresenceEvent& event) { on_presence(event); });
    }
    // Taken after subscribing: every later message reaches us live, every earlier one is in
    // the snapshot or the history.
    net::History& history = broker.history();
    const net::StreamPosition head = history.head();
    if (_options.resume) {
        send_replay(head);
    } else {
        send_snapshot(history.enabled() && head.seq != 0 ? head.to_string() : "");
    }
}

void SseStream::send_snapshot(std::string_view id) {
    for (const core::MessagePtr& message : retained_snapshot(
             _connection.bridge(), _who, _options.filters, _connection.loop().now())) {
        send_message(message, true, id, false);
    }
}

void SseStream::send_replay(const net::StreamPosition& head) {
    Replay replay = replay_history(_connection.bridge(), _who, _options.filters, *_options.resume);
    if (!_connection.bridge().broker().history().enabled()) {
        send_gap(replay.gap_reason);
        send_snapshot("");
        return;
    }
    if (replay.gap) {
        // What was missed is not all in the history: say so, then give the current values.
        send_gap(replay.gap_reason);
        send_snapshot("");
    }
    const uint64_t epoch = _connection.bridge().broker().history().epoch();
    for (const net::HistoryEntry& entry : replay.entries) {
        send_message(entry.message, false, net::StreamPosition{epoch, entry.seq}.to_string(),
                     false);
    }
    _replayed.remember(replay.seqs, _connection.loop().now());
    const std::string head_id = head.to_string();
    if (head.seq != 0 && _last_id != head_id) {
        // An "id" line alone moves the client's Last-Event-ID to here without an event.
        write("id: " + head_id + "\n\n");
    }
}

void SseStream::on_overload(uint64_t dropped) {
    // At most one gap a second: an overloaded loop sheds on every flush of its publishers.
    const core::MonoMillis now = _connection.loop().now();
    if (_closed || (_last_overload_gap != 0 && now - _last_overload_gap < 1000)) {
        return;
    }
    _last_overload_gap = now;
    send_gap("the server is overloaded: " + std::to_string(dropped) +
             " messages for this loop's clients were dropped; resume from the last id");
    check_cap();
}

void SseStream::send_gap(std::string_view reason) {
    Json data;
    data["last_event_id"] = _options.resume ? _options.resume->to_string() : "";
    data["message"] = reason;
    write(sse_event("gap", "", dump_json(data)));
}

void SseStream::send_message(const core::MessagePtr& message, bool retain, std::string_view id,
                             bool cached) {
    std::string text;
    if (cached) {
        text = _connection.context().envelope(message, retain);
    } else {
        const uint64_t epoch = _connection.bridge().broker().history().epoch();
        text = envelope_json(*message, retain, epoch, net::Presence::unix_now_ms());
    }
    write(sse_event("", id, text));
    if (!id.empty()) {
        _last_id = id;
    }
    _connection.bridge().stats().events_sent.fetch_add(1, std::memory_order_relaxed);
}

void SseStream::send_live(const core::MessagePtr& message) {
    const uint64_t epoch = _connection.bridge().broker().history().epoch();
    const std::string id =
        message->seq != 0 ? net::StreamPosition{epoch, message->seq}.to_string() : "";
    send_message(message, false, id, true);
    check_cap();
}

void SseStream::on_message(const core::OutgoingMessage& outgoing) {
    if (_closed) {
        return;
    }
    const core::MessagePtr& message = outgoing.message;
    const core::MonoMillis now = _connection.loop().now();
    if (message->expired(now)) {
        return;  // [MQTT-3.3.2-5]
    }
    if (!may_receive(_connection.bridge(), _who, message->topic)) {
        return;  // the filter may be wider than what this user may read
    }
    if (_replayed.contains(message->seq)) {
        return;  // already replayed from the history
    }
    if (!_conflator.enabled() || _conflator.send_now(now)) {
        send_live(message);
        return;
    }
    check_cap(_conflator.hold(message));
}

void SseStream::flush_conflated(core::MonoMillis now) {
    for (const core::MessagePtr& message : _conflator.take_due(now)) {
        if (_closed) {
            return;
        }
        send_live(message);
    }
}

void SseStream::on_presence(const net::PresenceEvent& event) {
    if (_closed) {
        return;
    }
    Json data = presence_json(event.record);
    data["reason"] = event.reason;
    write(sse_event("presence", "", dump_json(data)));
    check_cap();
}

void SseStream::on_tick(core::MonoMillis now) {
    if (_closed) {
        return;
    }
    _replayed.tick(now);
    flush_conflated(now);
    if (!_closed && now - _last_write >= _connection.bridge().settings().heartbeat_interval_ms) {
        // A comment: keeps proxies and load balancers from closing an idle stream.
        write(": heartbeat\n\n");
    }
}

void SseStream::write(std::string_view bytes) {
    _connection.write(bytes);
    _last_write = _connection.loop().now();
}

bool SseStream::check_cap(std::size_t held) {
    const uint64_t cap = _connection.bridge().client_buffer_cap();
    if (_closed || _connection.pending_output() + held <= cap) {
        return true;
    }
    Json data;
    data["error"] = "slow_consumer";
    data["message"] =
        "more than " + std::to_string(cap) + " bytes waiting for this client: it reads too slowly";
    write(sse_event("error", "", dump_json(data)));
    _connection.bridge().stats().slow_consumers_cut.fetch_add(1, std::memory_order_relaxed);
    _connection.close("slow consumer");  // calls on_close()
    return false;
}

void SseStream::on_close() {
    if (_closed) {
        return;
    }
    _closed = true;
    _conflator.clear();
    net::WorkerLoop& loop = _connection.loop();
    net::Broker& broker = _connection.bridge().broker();
    if (_subscribed) {
        for (const std::string& filter : _options.filters) {
            broker.subscriptions().unsubscribe({loop.index(), _uid}, filter);
        }
        loop.remove_sink(_uid);
        _subscribed = false;
    }
    if (_presence_token != 0) {
        broker.presence().unlisten(loop, _presence_token);
        _presence_token = 0;
    }
}

namespace handlers {

void events(HttpConnection& connection, const HttpRequest& request, const Identity& who) {
    Bridge& bridge = connection.bridge();
    SseStream::Options options;
    options.presence = is_true(request.query_value("presence"));
    for (std::string& filter : request.query_values("topic")) {
        if (std::find(options.filters.begin(), options.filters.end(), filter) ==
            options.filters.end()) {
            options.filters.push_back(std::move(filter));
        }
    }
    if (options.filters.empty() && !options.presence) {
        return connection.respond(
            json_error(400, "bad_request", "give at least one topic=FILTER (or presence=1)"));
    }
    const uint32_t max_filters = bridge.broker().settings().limits.max_subscriptions_per_client;
    if (max_filters != 0 && options.filters.size() > max_filters) {
        return connection.respond(
            json_error(400, "bad_request", "more than " + std::to_string(max_filters) + " topics"));
    }
    for (const std::string& filter : options.filters) {
        if (auto refusal = check_filter(bridge, who, filter)) {
            return connection.respond(std::move(*refusal));
        }
    }
    if (const std::string* conflate = request.query_value("conflate")) {
        const auto ms = parse_duration_ms(*conflate);
        if (!ms) {
            return connection.respond(
                json_error(400, "bad_request",
                           "conflate must be a duration like 250, 250ms or 2s (at most one hour)"));
        }
        options.conflate_ms = *ms;
    }
    // A reconnecting EventSource sends the header; the parameter is for the first connection.
    const std::string* last_id = request.header("last-event-id");
    if (last_id == nullptr || last_id->empty()) {
        last_id = request.query_value("last_event_id");
    }
    if (last_id != nullptr && !last_id->empty()) {
        net::StreamPosition position;
        if (!net::StreamPosition::parse(*last_id, position)) {
            return connection.respond(json_error(
                400, "bad_request", "last event id '" + *last_id + "' is not <epoch>-<seq>"));
        }
        options.resume = position;
    }
    auto stream = std::make_unique<SseStream>(connection, who, std::move(options));
    SseStream* raw = stream.get();
    connection.start_stream(std::move(stream), kStreamHead);
    raw->begin();
}

}  // namespace handlers

}  // namespace tern::bridge
