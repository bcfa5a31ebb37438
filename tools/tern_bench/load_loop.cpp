// LoadLoop: connection ramp, per-iteration produce-and-flush, phases and live counters.
#include "load_loop.hpp"

#include <arpa/inet.h>

#include <cmath>

#include "bench_clock.hpp"

namespace tern::bench {

namespace {

constexpr uint64_t kKeepAlivePeriodNs = 100 * kNanosPerMilli;

sockaddr_in make_address(const std::string& ip, uint16_t port) {
    sockaddr_in address{};
    uv_ip4_addr(ip.c_str(), port, &address);
    return address;
}

}  // namespace

LoadLoop::LoadLoop(uint32_t index, const BenchOptions& options, RunState& state)
    : _index(index),
      _options(options),
      _state(state),
      _writer(options.version),
      _io((uv_loop_init(&_loop), &_loop)) {
    uv_check_init(&_loop, &_check);
    uv_idle_init(&_loop, &_idle);
    uv_async_init(&_loop, &_async, &LoadLoop::on_async);
    uv_timer_init(&_loop, &_timer);
    _check.data = _idle.data = _async.data = _timer.data = this;
    _target = make_address(options.host, options.port);
    const uint32_t base = ntohl(inet_addr(options.source_base.c_str()));
    for (uint32_t i = 0; i < options.source_ips; ++i) {
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(base + i);
        source.sin_port = 0;
        _sources.push_back(source);
    }
}

LoadLoop::~LoadLoop() {
    // run() closed every handle; clients must go before the loop they were registered with.
    _clients.clear();
    uv_loop_close(&_loop);
}

void LoadLoop::add_client(const ClientSpec& spec) {
    _clients.push_back(std::make_unique<BenchClient>(*this, spec));
    if (spec.role == Role::Publisher) {
        _publishers.push_back(_clients.back().get());
    }
}

void LoadLoop::run() {
    uv_check_start(&_check, &LoadLoop::on_check);
    // Rate pacing needs a fine tick; otherwise 10 ms is plenty for ramp and keep-alive.
    const uint64_t tick_ms = _options.rate > 0.0 ? 1 : 10;
    uv_timer_start(&_timer, &LoadLoop::on_timer, 0, tick_ms);
    uv_run(&_loop, UV_RUN_DEFAULT);
}

void LoadLoop::on_check(uv_check_t* handle) noexcept {
    static_cast<LoadLoop*>(handle->data)->iterate();
}

void LoadLoop::on_idle(uv_idle_t*) noexcept {
    // Only keeps the poll phase from blocking while publishers have more to send.
}

void LoadLoop::on_async(uv_async_t* handle) noexcept {
    auto* self = static_cast<LoadLoop*>(handle->data);
    self->follow_phase();
    self->_spin = true;  // maybe a peer's delivery: look at the publishers' windows again
}

void LoadLoop::on_timer(uv_timer_t* handle) noexcept {
    auto* self = static_cast<LoadLoop*>(handle->data);
    self->follow_phase();
    if (self->_closed) {
        return;
    }
    const uint64_t now = monotonic_ns();
    // An idle run's drain only collects the last PINGRESPs: send no new PINGREQ then.
    const bool collecting =
        self->_phase == Phase::Draining && self->_options.scenario == Scenario::Idle;
    if (!collecting && now - self->_last_keep_alive_ns >= kKeepAlivePeriodNs) {
        self->_last_keep_alive_ns = now;
        for (auto& client : self->_clients) {
            client->keep_alive(now);
        }
    }
}

void LoadLoop::iterate() {
    if (_closed) {
        return;
    }
    const uint64_t now = monotonic_ns();
    if (_phase == Phase::Connecting) {
        ramp_connections(now);
    }
    bool more = false;
    if (_publishing) {
        for (BenchClient* publisher : _publishers) {
            more = publisher->produce(now) || more;
        }
    }
    _io.flush_dirty();
    publish_live();
    if (_delivered) {
        _delivered = false;
        for (LoadLoop* peer : _peers) {
            peer->wake();  // a publisher there may be waiting for this delivery
        }
    }
    // A request from a callback (ack, write completion) means "look again next iteration".
    const bool spin = more || _spin;
    _spin = false;
    if (spin && !_idle_active) {
        uv_idle_start(&_idle, &LoadLoop::on_idle);
        _idle_active = true;
    } else if (!spin && _idle_active) {
        uv_idle_stop(&_idle);
        _idle_active = false;
    }
}

void LoadLoop::follow_phase() {
    const Phase phase = _state.phase.load(std::memory_order_acquire);
    if (phase == _phase || _closed) {
        return;
    }
    _phase = phase;
    if (phase == Phase::Running) {
        const uint64_t start = _state.start_ns.load(std::memory_order_acquire);
        for (BenchClient* publisher : _publishers) {
            publisher->start_publishing(start);
        }
        _publishing = true;
    } else if (phase == Phase::Draining) {
        _publishing = false;
    } else if (phase == Phase::Closing) {
        close_everything();
        return;
    }
    _spin = true;
}

void LoadLoop::ramp_connections(uint64_t now_ns) {
    if (_ramp_start_ns == 0) {
        _ramp_start_ns = now_ns;
    }
    std::size_t due = _clients.size();
    if (_options.ramp > 0.0) {
        const double per_loop = _options.ramp / _options.threads;
        const double elapsed = static_cast<double>(now_ns - _ramp_start_ns) / 1e9;
        due = std::min<std::size_t>(due, static_cast<std::size_t>(per_loop * elapsed) + 1);
    }
    while (_next_connect < due && _connecting < _options.handshakes) {
        BenchClient& client = *_clients[_next_connect];
        const int source = client.source_ip();
        ++_next_connect;
        ++_connecting;
        client.connect(_target, source < 0 ? nullptr : &_sources[static_cast<std::size_t>(source)]);
    }
}

void LoadLoop::client_settled(bool ok) {
    --_connecting;
    ++(ok ? _stats.ready : _stats.failed);
}

void LoadLoop::client_error(const BenchClient& client, const std::string& reason) {
    if (_phase == Phase::Closing) {
        return;
    }
    _state.report_error(client.client_id() + ": " + reason);
}

void LoadLoop::publish_live() {
    LiveCounters& live = *_state.live[_index];
    constexpr auto relaxed = std::memory_order_relaxed;
    live.sent.store(_stats.sent, relaxed);
    live.expected.store(_stats.expected, relaxed);
    live.acked.store(_stats.acked, relaxed);
    live.received.store(_stats.received, relaxed);
    live.unique.store(_stats.unique, relaxed);
    live.last_receive_ns.store(_stats.last_receive_ns, relaxed);
    live.last_ack_ns.store(_stats.last_ack_ns, relaxed);
    live.ready.store(_stats.ready, relaxed);
    live.failed.store(_stats.failed, relaxed);
    live.pings.store(_stats.pings, relaxed);
    live.pongs.store(_stats.pongs, relaxed);
    if (_phase == Phase::Draining) {
        // The drain also waits for what publishers produced to reach the socket.
        uint64_t unwritten = 0;
        for (BenchClient* publisher : _publishers) {
            unwritten += publisher->closing() ? 0 : publisher->queued_bytes();
        }
        live.unwritten.store(unwritten, relaxed);
    }
    live.phase.store(_phase, std::memory_order_release);  // after the counters it covers
}

void LoadLoop::close_everything() {
    _publishing = false;
    for (auto& client : _clients) {
        _stats.stalls += client->stalls();
        client->shutdown();
    }
    publish_live();
    _closed = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&_check), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_idle), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_async), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_timer), nullptr);
}

}  // namespace tern::bench
