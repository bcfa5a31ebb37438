// ClientLoop: creates its clients, starts them at the ramp rate with a bounded number of
// handshakes in flight, publishes its counts, and closes everything on stop.
#include "client_loop.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <ctime>

#include "bench_clock.hpp"
#include "sse_client.hpp"
#include "ws_client.hpp"

namespace tern::bridge_bench {

namespace {

constexpr uint64_t kTickMs = 5;

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

std::string basic_authorization(const Options& options) {
    if (options.user.empty()) {
        return {};
    }
    const std::string credentials = options.user + ":" + options.password;
    std::string encoded(4 * ((credentials.size() + 2) / 3) + 1, '\0');
    const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(credentials.data()),
                                     static_cast<int>(credentials.size()));
    encoded.resize(static_cast<std::size_t>(size));
    return "Authorization: Basic " + encoded + "\r\n";
}

}  // namespace

ClientLoop::ClientLoop(const Options& options, SharedCounters& shared, uint32_t index,
                       uint32_t loops)
    : _options(options), _shared(shared), _index(index), _loops(loops), _read_buffer(256 * 1024) {
    uv_loop_init(&_loop);
    uv_timer_init(&_loop, &_timer);
    _timer.data = this;
    uv_ip4_addr(options.host.c_str(), options.http_port, &_target);
    in_addr base{};
    inet_pton(AF_INET, options.source_base.c_str(), &base);
    for (uint32_t i = 0; i < options.source_ips; ++i) {
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(ntohl(base.s_addr) + i);
        _sources.push_back(source);
    }
}

ClientLoop::~ClientLoop() {
    join();
    uv_loop_close(&_loop);
}

void ClientLoop::start() {
    const std::string host_header = _options.host + ":" + std::to_string(_options.http_port);
    const std::string authorization = basic_authorization(_options);
    const uint32_t total = _options.sse_clients + _options.ws_clients;
    for (uint32_t i = _index; i < total; i += _loops) {
        const uint32_t group = i % _options.groups;
        const std::string filter = replace_all(_options.filter, "{group}", std::to_string(group));
        if (i < _options.sse_clients) {
            _clients.push_back(std::make_unique<SseClient>(*this, group, filter, host_header,
                                                           authorization, _options.conflate_ms));
        } else {
            _clients.push_back(
                std::make_unique<WsClient>(*this, group, filter, host_header, authorization, i));
        }
    }
    _thread = std::thread([this] { run(); });
}

void ClientLoop::join() {
    if (_thread.joinable()) {
        _thread.join();
    }
}

void ClientLoop::run() {
    _ramp_start_ns = bench::monotonic_ns();
    uv_timer_start(&_timer, &ClientLoop::on_tick, 0, kTickMs);
    uv_run(&_loop, UV_RUN_DEFAULT);
    timespec cpu{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    _thread_cpu_s = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
}

void ClientLoop::on_tick(uv_timer_t* timer) noexcept {
    auto* self = static_cast<ClientLoop*>(timer->data);
    for (std::size_t k = 0; k < kKinds; ++k) {
        // Published for the progress line; the exact totals are merged after the join.
        self->_shared.delivered[k].fetch_add(self->_stats[k].delivered - self->_reported[k],
                                             std::memory_order_relaxed);
        self->_reported[k] = self->_stats[k].delivered;
    }
    if (self->_shared.stop.load(std::memory_order_acquire)) {
        self->stop_all();
        return;
    }
    self->ramp();
}

void ClientLoop::ramp() {
    uint64_t allowed = _clients.size();
    if (_options.ramp != 0) {
        // This loop's share of the global ramp rate.
        const double elapsed_s = static_cast<double>(bench::monotonic_ns() - _ramp_start_ns) / 1e9;
        allowed = static_cast<uint64_t>(elapsed_s * _options.ramp / _loops) + 1;
    }
    while (_next < _clients.size() && _next < allowed && _pending < _options.handshakes) {
        const sockaddr_in* source =
            _sources.empty() ? nullptr : &_sources[(_next * _loops + _index) % _sources.size()];
        ++_pending;
        _clients[_next++]->start(_target, source);
    }
}

void ClientLoop::stop_all() {
    if (_stopping) {
        // Wait for every uv_close callback before letting the loop end.
        for (const auto& client : _clients) {
            if (!client->handle_closed()) {
                return;
            }
        }
        uv_close(reinterpret_cast<uv_handle_t*>(&_timer), nullptr);
        return;
    }
    _stopping = true;
    for (const auto& client : _clients) {
        client->stop();
    }
}

void ClientLoop::on_ready(ClientKind kind, uint32_t group) {
    --_pending;
    _shared.ready[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    _shared.live_of(kind, group).fetch_add(1, std::memory_order_relaxed);
}

void ClientLoop::on_failed(ClientKind kind) {
    --_pending;
    _shared.failed[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
}

void ClientLoop::on_cut(ClientKind kind, uint32_t group) {
    _shared.cut[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    _shared.live_of(kind, group).fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace tern::bridge_bench
