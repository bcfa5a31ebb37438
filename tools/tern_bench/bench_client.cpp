// BenchClient: handshake, publishing in batches, receiving and acknowledging.
#include "bench_client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "bench_clock.hpp"
#include "codec/packets.hpp"
#include "load_loop.hpp"
#include "packet_view.hpp"
#include "payload_header.hpp"

namespace tern::bench {

namespace {

using codec::PacketType;

constexpr std::size_t kBatchBytes = 256 * 1024;  // produced per publisher per loop iteration
constexpr std::size_t kHighWater = 1024 * 1024;  // stop producing while this much is queued
constexpr uint16_t kSubscribePacketId = 1;

std::string hex_code(uint8_t code) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02X", code);
    return text;
}

}  // namespace

BenchClient::BenchClient(LoadLoop& loop, const ClientSpec& spec)
    : StreamConnection(loop.io()), _loop(loop), _spec(spec) {
    _connect_request.data = this;
    for (const uint32_t index : spec.links) {
        _links.push_back(loop.link(index));
    }
    if (spec.role == Role::Subscriber && _links.size() > 1) {
        _links_by_publisher.assign(loop.publisher_count(), nullptr);
        for (Link* link : _links) {
            _links_by_publisher[link->publisher] = link;
        }
    }
    if (spec.role == Role::Publisher) {
        const auto& o = loop.options();
        _template.emplace(spec.topic, o.qos, o.payload_size, spec.id, o.version);
        _max_batch =
            static_cast<uint32_t>(std::max<std::size_t>(1, kBatchBytes / _template->packet_size()));
    }
}

void BenchClient::connect(const sockaddr_in& target, const sockaddr_in* source) {
    _state = State::Connecting;
    int rc = source != nullptr ? bind_source(*source) : 0;
    if (rc == 0) {
        rc = uv_tcp_connect(&_connect_request, tcp(), reinterpret_cast<const sockaddr*>(&target),
                            &BenchClient::on_connect);
    }
    if (rc != 0) {
        fail(std::string("connect failed: ") + uv_strerror(rc));
    }
}

int BenchClient::bind_source(const sockaddr_in& source) {
    // Binding the source address first spreads connections over several addresses, each with
    // its own ephemeral port range. IP_BIND_ADDRESS_NO_PORT defers the port choice to
    // connect(), which only needs the 4-tuple to be unique: a plain bind() to port 0 reserves
    // the port for every destination and the kernel's search for a free one grows with the
    // number of bound sockets (and TIME_WAIT leftovers of the previous run) until it dominates.
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return uv_translate_sys_error(errno);
    }
    const int on = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
        const int error = errno;
        ::close(fd);
        return uv_translate_sys_error(error);
    }
    const int rc = uv_tcp_open(tcp(), fd);  // the handle owns fd from here on
    if (rc != 0) {
        ::close(fd);
    }
    return rc;
}

void BenchClient::on_connect(uv_connect_t* request, int status) noexcept {
    auto* self = static_cast<BenchClient*>(request->data);
    if (status != 0) {
        if (status != UV_ECANCELED) {
            self->fail(std::string("connect failed: ") + uv_strerror(status));
        }
        return;
    }
    if (self->closing()) {
        return;
    }
    // tern-bench batches its own writes; Nagle would only add delay to the latency figures.
    uv_tcp_nodelay(self->tcp(), 1);
    std::string error;
    if (!self->start_reading(error)) {
        self->fail("read start failed: " + error);
        return;
    }
    self->_state = State::AwaitConnack;
    const BenchOptions& o = self->_loop.options();
    // --persistent: the subscribers' sessions (subscription, queue) outlive their connections.
    const bool persistent = o.persistent && self->_spec.role == Role::Subscriber;
    self->_loop.writer().append_connect(self->output(), self->_spec.client_id, o.keep_alive,
                                        !persistent, persistent ? kPersistentSessionExpiryS : 0);
    self->_last_send_ns = monotonic_ns();
    self->mark_dirty();
}

void BenchClient::on_data_arrived() {
    _read_ns = monotonic_ns();
}

void BenchClient::on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    switch (header.type()) {
        case PacketType::Publish:
            on_publish(header, body);
            return;
        case PacketType::Puback:
        case PacketType::Pubrec:
        case PacketType::Pubrel:
        case PacketType::Pubcomp:
            on_ack(header.type(), body);
            return;
        case PacketType::Connack:
            on_connack(header, body);
            return;
        case PacketType::Suback:
            on_suback(header, body);
            return;
        case PacketType::Pingresp:
            ++_loop.mutable_stats().pongs;
            return;
        case PacketType::Disconnect: {
            const uint8_t reason = body.empty() ? 0 : body[0];
            protocol_error("the broker sent DISCONNECT (reason " + hex_code(reason) + ")");
            return;
        }
        default:
            protocol_error("unexpected " + std::string(codec::packet_type_name(header.type())) +
                           " from the broker");
            return;
    }
}

void BenchClient::on_connack(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    codec::Packet packet;
    if (_state != State::AwaitConnack) {
        protocol_error("CONNACK after the handshake");
        return;
    }
    if (auto error = codec::decode_packet(header, body, _loop.options().version, packet)) {
        protocol_error("bad CONNACK: " + error->reason);
        return;
    }
    const auto& connack = std::get<codec::Connack>(packet);
    if (connack.reason_code != 0) {
        protocol_error("connection refused (CONNACK " + hex_code(connack.reason_code) + ")");
        return;
    }
    if (connack.session_present) {
        // Only possible with Clean Session 0 (3.1.1 [MQTT-3.2.2-1], 5 [MQTT-3.2.2-2]): the wipe
        // before the run did not
        // leave this id without a session (e.g. another run uses it). Counted, not fatal: what
        // the old session delivers shows up as unexpected or duplicate messages.
        ++_loop.mutable_stats().sessions_resumed;
    }
    if (_spec.role == Role::Publisher) {
        const auto& o = _loop.options();
        FlowLimits limits;
        limits.window = o.open_loop || _links.empty() ? 0 : o.effective_window();
        if (o.qos > 0) {
            // [MQTT-3.3.4-7]: never more unacknowledged QoS 1/2 PUBLISHes than the server's
            // Receive Maximum; absent (and before MQTT 5) it is 65,535 (section 3.2.2.3.3),
            // which is also the size of the packet identifier space.
            limits.max_unacked = connack.properties.receive_maximum.value_or(UINT16_MAX);
            if (o.persistent && limits.window != 0) {
                // A storing broker acknowledges once the message is stored, possibly long after
                // delivering it: close the loop on the acknowledgements too, so that the run
                // goes at the pace the broker stores, not at the pace it forwards.
                limits.max_unacked = std::min(limits.max_unacked, limits.window);
            }
        }
        limits.rate = o.rate / std::max<uint32_t>(1, _loop.publisher_count());
        limits.stall_timeout_ns = uint64_t{o.stall_timeout_ms} * kNanosPerMilli;
        _flow.emplace(limits);
    }
    if (_spec.role == Role::Subscriber) {
        _state = State::AwaitSuback;
        _loop.writer().append_subscribe(output(), kSubscribePacketId, _spec.topic,
                                        _loop.options().qos);
        _last_send_ns = monotonic_ns();
        mark_dirty();
        return;
    }
    become_ready();
}

void BenchClient::on_suback(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    codec::Packet packet;
    if (_state != State::AwaitSuback) {
        protocol_error("unexpected SUBACK");
        return;
    }
    if (auto error = codec::decode_packet(header, body, _loop.options().version, packet)) {
        protocol_error("bad SUBACK: " + error->reason);
        return;
    }
    const auto& suback = std::get<codec::Suback>(packet);
    if (suback.packet_id != kSubscribePacketId || suback.reason_codes.size() != 1) {
        protocol_error("SUBACK does not match the SUBSCRIBE");
        return;
    }
    if (suback.reason_codes[0] >= 0x80) {
        protocol_error("subscription to '" + _spec.topic + "' refused (" +
                       hex_code(suback.reason_codes[0]) + ")");
        return;
    }
    become_ready();
}

void BenchClient::become_ready() {
    _state = State::Ready;
    _loop.client_settled(true);
}

void BenchClient::start_publishing(uint64_t start_ns) {
    if (_flow) {
        _flow->start(start_ns);
        _publishing = true;
    }
}

uint32_t BenchClient::delivered() const noexcept {
    if (_links.empty()) {
        return 0;
    }
    uint32_t slowest = UINT32_MAX;
    for (const Link* link : _links) {
        slowest = std::min(slowest, link->highest.load(std::memory_order_acquire));
    }
    return slowest;
}

bool BenchClient::produce(uint64_t now_ns) {
    if (!_publishing || _state != State::Ready || closing() || write_blocked() ||
        queued_bytes() >= kHighWater) {
        return false;
    }
    const uint32_t count = _flow->allowance(now_ns, delivered(), _max_batch);
    if (count == 0) {
        return false;
    }
    std::string& out = output();
    out.reserve(out.size() + count * _template->packet_size());
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t sequence = _flow->next_sequence();
        const auto packet_id = _flow->on_sent();
        _template->append(out, sequence, now_ns, packet_id.value_or(0));
    }
    auto& stats = _loop.mutable_stats();
    stats.sent += count;
    stats.expected += uint64_t{count} * _links.size();
    _last_send_ns = now_ns;
    mark_dirty();
    return count == _max_batch;
}

Link* BenchClient::incoming_link(uint32_t publisher_id) const noexcept {
    if (_links_by_publisher.empty()) {
        return _links.size() == 1 && _links[0]->publisher == publisher_id ? _links[0] : nullptr;
    }
    return publisher_id < _links_by_publisher.size() ? _links_by_publisher[publisher_id] : nullptr;
}

void BenchClient::on_publish(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    PublishView view;
    const bool v5 = _loop.options().version == codec::ProtocolVersion::V5;
    if (!parse_publish_view(header.first_byte, body, v5, view)) {
        protocol_error("malformed PUBLISH from the broker");
        return;
    }
    auto& stats = _loop.mutable_stats();
    ++stats.received;
    stats.last_receive_ns = _read_ns;
    PayloadHeader payload;
    Link* link = nullptr;
    if (read_payload_header(view.payload, payload) && payload.sequence != 0) {
        link = incoming_link(payload.publisher_id);
    }
    if (link == nullptr) {
        ++stats.unexpected;
    } else {
        const auto outcome = link->tracker.record(payload.sequence);
        if (outcome == SequenceTracker::Outcome::Duplicate) {
            ++stats.duplicates;
        } else {
            ++stats.unique;
            stats.reordered += outcome == SequenceTracker::Outcome::Late ? 1 : 0;
            stats.latency.record(_read_ns > payload.sent_ns ? _read_ns - payload.sent_ns : 0);
            link->highest.store(link->tracker.highest(), std::memory_order_release);
            _loop.note_delivery();
        }
    }
    if (view.qos == 1) {
        _loop.writer().append_ack(output(), PacketType::Puback, view.packet_id);  // [MQTT-4.3.2]
        mark_dirty();
    } else if (view.qos == 2) {
        _loop.writer().append_ack(output(), PacketType::Pubrec, view.packet_id);  // [MQTT-4.3.3]
        mark_dirty();
    }
}

void BenchClient::on_ack(PacketType type, std::span<const uint8_t> body) {
    AckView ack;
    if (!parse_ack_view(body, ack)) {
        protocol_error("malformed " + std::string(codec::packet_type_name(type)));
        return;
    }
    auto& stats = _loop.mutable_stats();
    if (type == PacketType::Pubrel) {
        // QoS 2 receiver: PUBREL releases the identifier, answer PUBCOMP [MQTT-4.3.3].
        _loop.writer().append_ack(output(), PacketType::Pubcomp, ack.packet_id);
        mark_dirty();
        return;
    }
    if (!_flow) {
        protocol_error(std::string(codec::packet_type_name(type)) + " to a non-publisher");
        return;
    }
    if (type == PacketType::Pubrec && ack.reason_code < 0x80) {
        // QoS 2 sender: answer PUBREC with PUBREL; the identifier stays in use until PUBCOMP.
        _loop.writer().append_ack(output(), PacketType::Pubrel, ack.packet_id);
        mark_dirty();
        return;
    }
    // PUBACK, PUBCOMP, or a PUBREC with a failure code, which ends the exchange [MQTT-4.3.3].
    if (!_flow->release(ack.packet_id)) {
        protocol_error(std::string(codec::packet_type_name(type)) + " for packet id " +
                       std::to_string(ack.packet_id) + " which is not in flight");
        return;
    }
    ++stats.acked;
    stats.last_ack_ns = _read_ns;
    stats.rejected += ack.reason_code >= 0x80 ? 1 : 0;
    _loop.request_iteration();
}

void BenchClient::on_write_done() {
    if (_publishing) {
        _loop.request_iteration();
    }
}

void BenchClient::keep_alive(uint64_t now_ns) {
    const uint16_t seconds = _loop.options().keep_alive;
    if (seconds == 0 || _state != State::Ready || closing()) {
        return;
    }
    if (now_ns - _last_send_ns >= uint64_t{seconds} * kNanosPerSecond) {
        _loop.writer().append_pingreq(output());
        ++_loop.mutable_stats().pings;
        _last_send_ns = now_ns;
        mark_dirty();
    }
}

void BenchClient::shutdown() {
    if (closing()) {
        return;
    }
    if (_state == State::Ready || _state == State::AwaitSuback) {
        // A normal DISCONNECT: no Will, the broker closes its side without error.
        _loop.writer().append_disconnect(output());
        flush();
    }
    _state = State::Closed;
    close();
}

void BenchClient::protocol_error(const std::string& reason) {
    fail(reason);
}

void BenchClient::on_stream_error(const std::string& reason) {
    const bool settled = _state == State::Ready || _state == State::Closed;
    _state = State::Closed;
    _publishing = false;
    if (!settled) {
        _loop.client_settled(false);
    }
    _loop.client_error(*this, reason);
}

}  // namespace tern::bench
