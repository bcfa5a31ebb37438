// The sink: one libuv loop, sessions that parse only fixed headers on the PUBLISH path.
#include "sink_server.hpp"

#include <uv.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "bench_clock.hpp"
#include "codec/encoder.hpp"
#include "codec/packets.hpp"
#include "packet_writer.hpp"
#include "process_stats.hpp"
#include "stream_connection.hpp"

namespace tern::bench {

namespace {

using codec::PacketType;

struct SinkCounters {
    uint64_t publishes = 0;
    uint64_t bytes = 0;
    uint64_t connections = 0;
    uint64_t first_publish_ns = 0;
    uint64_t last_publish_ns = 0;
};

class SinkServer;

class SinkSession final : public StreamConnection {
  public:
    SinkSession(SinkServer& server, IoContext& io, SinkCounters& counters)
        : StreamConnection(io), _server(server), _counters(counters) {}

  protected:
    void on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) override;
    void on_stream_error(const std::string&) override {}
    void on_handle_closed() override;

  private:
    void on_publish(uint8_t first_byte, std::span<const uint8_t> body);
    void on_control(const codec::FrameHeader& header, std::span<const uint8_t> body);

    SinkServer& _server;
    SinkCounters& _counters;
    std::optional<PacketWriter> _writer;  // set by CONNECT: the session's protocol version
};

class SinkServer {
  public:
    explicit SinkServer(const BenchOptions& options) : _options(options), _io(&_loop) {}

    int run();
    void forget(SinkSession* session) { _sessions.erase(session); }

  private:
    static void on_connection(uv_stream_t* server, int status) noexcept;
    static void on_check(uv_check_t* handle) noexcept;
    static void on_progress(uv_timer_t* handle) noexcept;
    static void on_stop(uv_handle_t* handle) noexcept;
    void stop();
    void report(uint64_t start_ns, double cpu_s);

    const BenchOptions& _options;
    uv_loop_t _loop{};
    IoContext _io;
    uv_tcp_t _listener{};
    uv_check_t _check{};
    uv_timer_t _progress{};
    uv_timer_t _deadline{};
    uv_signal_t _sigint{};
    uv_signal_t _sigterm{};
    SinkCounters _counters;
    uint64_t _last_publishes = 0;      // at the previous check: did anything arrive?
    uint64_t _progress_publishes = 0;  // at the previous progress line
    uint64_t _start_ns = 0;
    bool _stopping = false;
    std::unordered_map<SinkSession*, std::unique_ptr<SinkSession>> _sessions;
};

void SinkSession::on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    if (header.type() == PacketType::Publish && _writer) {
        on_publish(header.first_byte, body);
        return;
    }
    on_control(header, body);
}

void SinkSession::on_publish(uint8_t first_byte, std::span<const uint8_t> body) {
    ++_counters.publishes;
    _counters.bytes += body.size();
    const uint8_t qos = (first_byte >> 1) & 0x03;
    if (qos == 0) {
        return;
    }
    // The Packet Identifier follows the Topic Name (2-byte length + bytes) [MQTT-2.2.1-2].
    const std::size_t at = 2 + (body.size() >= 2 ? (std::size_t{body[0]} << 8 | body[1]) : 0);
    if (at + 2 > body.size()) {
        fail("malformed PUBLISH");
        return;
    }
    const auto id = static_cast<uint16_t>(body[at] << 8 | body[at + 1]);
    _writer->append_ack(output(), qos == 1 ? PacketType::Puback : PacketType::Pubrec, id);
    mark_dirty();
}

void SinkSession::on_control(const codec::FrameHeader& header, std::span<const uint8_t> body) {
    const auto version = _writer ? _writer->version() : codec::ProtocolVersion::V311;
    codec::Packet packet;
    if (auto error = codec::decode_packet(header, body, version, packet)) {
        fail(error->reason);
        return;
    }
    if (!_writer && header.type() != PacketType::Connect) {
        fail("the first packet must be CONNECT [MQTT-3.1.0-1]");
        return;
    }
    std::string& out = output();
    switch (header.type()) {
        case PacketType::Connect:
            if (_writer) {
                fail("second CONNECT [MQTT-3.1.0-2]");
                return;
            }
            _writer.emplace(std::get<codec::Connect>(packet).version);
            codec::encode(codec::Connack{}, _writer->version(), out);
            ++_counters.connections;
            break;
        case PacketType::Subscribe: {
            // Grant every filter at the QoS asked for; the sink never sends anything anyway.
            const auto& subscribe = std::get<codec::Subscribe>(packet);
            codec::Suback suback;
            suback.packet_id = subscribe.packet_id;
            for (const auto& entry : subscribe.entries) {
                suback.reason_codes.push_back(entry.qos);
            }
            codec::encode(suback, _writer->version(), out);
            break;
        }
        case PacketType::Unsubscribe: {
            const auto& unsubscribe = std::get<codec::Unsubscribe>(packet);
            codec::Unsuback unsuback;
            unsuback.packet_id = unsubscribe.packet_id;
            if (_writer->version() == codec::ProtocolVersion::V5) {
                unsuback.reason_codes.assign(unsubscribe.filters.size(), 0);
            }
            codec::encode(unsuback, _writer->version(), out);
            break;
        }
        case PacketType::Pubrel:
            _writer->append_ack(out, PacketType::Pubcomp, std::get<codec::Ack>(packet).packet_id);
            break;
        case PacketType::Pingreq:
            _writer->append_pingresp(out);
            break;
        case PacketType::Disconnect:
            close();
            return;
        default:
            return;  // acks for nothing we sent, AUTH: ignored
    }
    mark_dirty();
}

void SinkSession::on_handle_closed() {
    _server.forget(this);
}

int SinkServer::run() {
    uv_loop_init(&_loop);
    sockaddr_in address{};
    uv_ip4_addr(_options.host.c_str(), _options.port, &address);
    uv_tcp_init(&_loop, &_listener);
    _listener.data = this;
    int rc = uv_tcp_bind(&_listener, reinterpret_cast<const sockaddr*>(&address), 0);
    if (rc == 0) {
        rc =
            uv_listen(reinterpret_cast<uv_stream_t*>(&_listener), 1024, &SinkServer::on_connection);
    }
    if (rc != 0) {
        std::cerr << "tern-bench: cannot listen on " << _options.host << ':' << _options.port
                  << ": " << uv_strerror(rc) << '\n';
        uv_close(reinterpret_cast<uv_handle_t*>(&_listener), nullptr);
        uv_run(&_loop, UV_RUN_DEFAULT);
        uv_loop_close(&_loop);
        return 1;
    }
    std::cerr << "tern-bench sink listening on " << _options.host << ':' << _options.port << '\n';
    uv_check_init(&_loop, &_check);
    uv_timer_init(&_loop, &_progress);
    uv_timer_init(&_loop, &_deadline);
    uv_signal_init(&_loop, &_sigint);
    uv_signal_init(&_loop, &_sigterm);
    _check.data = _progress.data = _deadline.data = _sigint.data = _sigterm.data = this;
    uv_check_start(&_check, &SinkServer::on_check);
    uv_timer_start(&_progress, &SinkServer::on_progress, 1000, 1000);
    const auto stop_cb = [](uv_signal_t* handle, int) {
        static_cast<SinkServer*>(handle->data)->stop();
    };
    uv_signal_start(&_sigint, stop_cb, SIGINT);
    uv_signal_start(&_sigterm, stop_cb, SIGTERM);
    if (_options.duration_given) {
        uv_timer_start(
            &_deadline, [](uv_timer_t* handle) { static_cast<SinkServer*>(handle->data)->stop(); },
            static_cast<uint64_t>(_options.duration_s * 1000), 0);
    }
    _start_ns = monotonic_ns();
    const double cpu_before = self_cpu_seconds();
    uv_run(&_loop, UV_RUN_DEFAULT);
    report(_start_ns, self_cpu_seconds() - cpu_before);
    _sessions.clear();
    uv_loop_close(&_loop);
    return 0;
}

void SinkServer::on_connection(uv_stream_t* server, int status) noexcept {
    auto* self = static_cast<SinkServer*>(server->data);
    if (status != 0) {
        return;
    }
    auto session = std::make_unique<SinkSession>(*self, self->_io, self->_counters);
    SinkSession* raw = session.get();
    self->_sessions.emplace(raw, std::move(session));
    std::string error;
    if (uv_accept(server, raw->stream()) != 0 || !raw->start_reading(error)) {
        raw->close();
        return;
    }
    uv_tcp_nodelay(raw->tcp(), 1);
}

void SinkServer::on_check(uv_check_t* handle) noexcept {
    auto* self = static_cast<SinkServer*>(handle->data);
    // Time the PUBLISH span once per iteration rather than per packet.
    if (self->_counters.publishes != self->_last_publishes) {
        const uint64_t now = monotonic_ns();
        if (self->_last_publishes == 0) {
            self->_counters.first_publish_ns = now;
        }
        self->_counters.last_publish_ns = now;
        self->_last_publishes = self->_counters.publishes;
    }
    self->_io.flush_dirty();
}

void SinkServer::on_progress(uv_timer_t* handle) noexcept {
    auto* self = static_cast<SinkServer*>(handle->data);
    if (!self->_options.progress) {
        return;
    }
    const double seconds = static_cast<double>(monotonic_ns() - self->_start_ns) / 1e9;
    std::fprintf(
        stderr, "[%5.1fs] sink       connections %zu  received %llu (+%llu)\n", seconds,
        self->_sessions.size(), static_cast<unsigned long long>(self->_counters.publishes),
        static_cast<unsigned long long>(self->_counters.publishes - self->_progress_publishes));
    self->_progress_publishes = self->_counters.publishes;
}

void SinkServer::stop() {
    if (_stopping) {
        return;  // a second signal, or the deadline after a signal
    }
    _stopping = true;
    for (auto& [raw, session] : _sessions) {
        raw->close();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&_listener), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_check), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_progress), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_deadline), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_sigterm), nullptr);
}

void SinkServer::report(uint64_t start_ns, double cpu_s) {
    const SinkCounters& c = _counters;
    const double span = c.last_publish_ns > c.first_publish_ns
                            ? static_cast<double>(c.last_publish_ns - c.first_publish_ns) / 1e9
                            : 0.0;
    const double rate = span > 0 ? static_cast<double>(c.publishes) / span : 0.0;
    const double elapsed = static_cast<double>(monotonic_ns() - start_ns) / 1e9;
    std::printf(
        "tern-bench sink  %s:%u\n  connections     %llu\n  received        %llu PUBLISH, "
        "%llu bytes\n  rate            %.0f msg/s over %.3f s\n  CPU             %.2f s\n",
        _options.host.c_str(), _options.port, static_cast<unsigned long long>(c.connections),
        static_cast<unsigned long long>(c.publishes), static_cast<unsigned long long>(c.bytes),
        rate, span, cpu_s);
    nlohmann::ordered_json j;
    j["tool"] = "tern-bench";
    j["mode"] = "sink";
    j["listen"] = _options.host + ":" + std::to_string(_options.port);
    j["connections"] = c.connections;
    j["received"] = c.publishes;
    j["bytes"] = c.bytes;
    j["active_s"] = std::round(span * 1000) / 1000;
    j["rate_received"] = std::round(rate * 10) / 10;
    j["elapsed_s"] = std::round(elapsed * 1000) / 1000;
    j["cpu_s"] = std::round(cpu_s * 1000) / 1000;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
}

}  // namespace

int run_sink(const BenchOptions& options) {
    raise_file_limit();
    SinkServer server(options);
    return server.run();
}

}  // namespace tern::bench
