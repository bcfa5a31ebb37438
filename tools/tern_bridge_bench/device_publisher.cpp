// Device publishers: CONNECT/CONNACK through tern-bench's StreamConnection, PUBLISH QoS 0 encoded
// here because the payload (JSON with a wall-clock stamp) differs per message.
#include "device_publisher.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "codec/protocol.hpp"

namespace tern::bridge_bench {

namespace {

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

uint64_t realtime_ns() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
}

// Variable Byte Integer (MQTT 3.1.1 §2.2.3).
void append_remaining_length(std::string& out, std::size_t length) {
    do {
        uint8_t byte = length % 128;
        length /= 128;
        if (length > 0) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    } while (length > 0);
}

}  // namespace

DevicePublisher::DevicePublisher(bench::IoContext& io, const bench::PacketWriter& writer,
                                 std::string client_id)
    : StreamConnection(io), _writer(writer), _client_id(std::move(client_id)) {
    _connect.data = this;
}

bool DevicePublisher::connect(const sockaddr_in& target, std::string& error) {
    const int rc = uv_tcp_connect(&_connect, tcp(), reinterpret_cast<const sockaddr*>(&target),
                                  &DevicePublisher::on_connect);
    if (rc != 0) {
        error = std::string("MQTT connect: ") + uv_strerror(rc);
        return false;
    }
    return true;
}

void DevicePublisher::on_connect(uv_connect_t* request, int status) noexcept {
    auto* self = static_cast<DevicePublisher*>(request->data);
    if (self->closing()) {
        return;
    }
    if (status != 0) {
        self->fail(std::string("MQTT connect: ") + uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(self->tcp(), 1);
    std::string error;
    if (!self->start_reading(error)) {
        self->fail(error);
        return;
    }
    // Keep Alive 0 turns keep-alive off (MQTT 3.1.1 §3.1.2.10): no PINGREQ during a run.
    self->_writer.append_connect(self->output(), self->_client_id, 0);
    self->mark_dirty();
}

void DevicePublisher::on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    if (header.type() == codec::PacketType::Connack) {
        // Byte 2 of a 3.1.1 CONNACK is the return code; 0 accepts [MQTT-3.2.2-5].
        if (body.size() >= 2 && body[1] == 0) {
            _ready = true;
        } else {
            fail("CONNACK refused the publisher");
        }
    }
}

void DevicePublisher::on_stream_error(const std::string& reason) {
    if (_error.empty()) {
        _error = reason;
    }
}

DeviceFleet::DeviceFleet(const Options& options, bench::IoContext& io, SharedCounters& shared)
    : _options(options), _io(io), _shared(shared), _writer(codec::ProtocolVersion::V311) {
    for (uint32_t d = 0; d < options.devices; ++d) {
        const uint32_t group = d % options.groups;
        std::string topic = replace_all(options.topic, "{group}", std::to_string(group));
        _topics.push_back(replace_all(std::move(topic), "{device}", std::to_string(d)));
        _groups.push_back(group);
    }
}

void DeviceFleet::connect(std::string& error) {
    sockaddr_in target{};
    uv_ip4_addr(_options.host.c_str(), _options.mqtt_port, &target);
    const std::string prefix = "tbb" + std::to_string(::getpid()) + "-";
    for (uint32_t i = 0; i < _options.publishers; ++i) {
        _connections.push_back(
            std::make_unique<DevicePublisher>(_io, _writer, prefix + std::to_string(i)));
        if (!_connections.back()->connect(target, error)) {
            return;
        }
    }
}

bool DeviceFleet::all_ready(std::string& error) const {
    bool ready = true;
    for (const auto& connection : _connections) {
        if (!connection->error().empty()) {
            error = connection->error();
            return false;
        }
        ready = ready && connection->ready();
    }
    return ready;
}

void DeviceFleet::publish_due(uint64_t start_ns, uint64_t now_ns) {
    const double elapsed_s = static_cast<double>(now_ns - start_ns) / 1e9;
    const auto due = static_cast<uint64_t>(elapsed_s * _options.rate);
    if (due > _totals.sent + static_cast<uint64_t>(_options.rate * 0.05)) {
        ++_totals.late_ticks;  // the loop fell behind: the generator is a bottleneck
    }
    while (_totals.sent < due) {
        publish_one();
    }
    for (const auto& connection : _connections) {
        _totals.max_queued = std::max<uint64_t>(_totals.max_queued, connection->queued_bytes());
    }
}

void DeviceFleet::publish_one() {
    const uint64_t n = _totals.sent++;
    const auto device = static_cast<uint32_t>(n % _options.devices);
    DevicePublisher& connection = *_connections[device % _connections.size()];
    std::string payload = "{\"t\":" + std::to_string(realtime_ns()) +
                          ",\"d\":" + std::to_string(device) + ",\"v\":" + std::to_string(n);
    if (payload.size() + 1 < _options.payload_size) {
        // ,"p":"xxx…" brings the JSON object to the requested size.
        const std::size_t pad = _options.payload_size - payload.size() - 1;
        if (pad >= 7) {
            payload += ",\"p\":\"" + std::string(pad - 7, 'x') + "\"";
        }
    }
    payload += '}';
    const std::string& topic = _topics[device];
    std::string& out = connection.output();
    out.push_back(static_cast<char>(0x30));  // PUBLISH, QoS 0, no DUP, no RETAIN
    append_remaining_length(out, 2 + topic.size() + payload.size());
    out.push_back(static_cast<char>(topic.size() >> 8));
    out.push_back(static_cast<char>(topic.size() & 0xFF));
    out += topic;
    out += payload;
    connection.mark_dirty();
    const uint32_t group = _groups[device];
    for (std::size_t k = 0; k < kKinds; ++k) {
        _totals.expected[k] +=
            _shared.live_of(static_cast<ClientKind>(k), group).load(std::memory_order_relaxed);
    }
}

void DeviceFleet::disconnect() {
    for (const auto& connection : _connections) {
        if (!connection->closing()) {
            _writer.append_disconnect(connection->output());
            connection->flush();
            connection->close();
        }
    }
}

bool DeviceFleet::all_closed() const {
    for (const auto& connection : _connections) {
        if (!connection->handle_closed()) {
            return false;
        }
    }
    return true;
}

}  // namespace tern::bridge_bench
