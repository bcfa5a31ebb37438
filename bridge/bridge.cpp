// The bridge's listener: a socket bound at start-up, accepted on loop 0 and handed round-robin
// to the worker loops, where each connection then lives.
#include "bridge.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "http_connection.hpp"
#include "loop_context.hpp"
#include "net/broker.hpp"
#include "net/tls_context.hpp"
#include "net/worker_loop.hpp"

namespace tern::bridge {

namespace {

// Accepts per poll callback, so that a connection storm does not starve loop 0's clients.
constexpr int kAcceptBatch = 64;
constexpr core::MonoMillis kAcceptRetryMs = 1000;

std::string format_peer(const sockaddr_storage& address) {
    char host[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        std::string peer = "[";
        peer.append(host).append("]:").append(std::to_string(ntohs(in6->sin6_port)));
        return peer;
    }
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in4->sin_port));
}

}  // namespace

Bridge::Bridge(net::Broker& broker, core::BridgeSettings settings)
    : _broker(broker), _settings(std::move(settings)) {
    _contexts.resize(broker.loop_count());
    if (!_settings.jwt_secret.empty()) {
        _jwt = JwtPolicy{_settings.jwt_secret, _settings.jwt_username_claim, _settings.jwt_issuer,
                         _settings.jwt_audience, static_cast<int64_t>(_settings.jwt_leeway_s)};
    }
}

Bridge::~Bridge() {
    if (_listen_fd >= 0) {
        ::close(_listen_fd);
    }
}

void Bridge::open() {
    if (_settings.tls) {
        // The bridge port as a "mqtt+tls" listener: the same files, checks and messages.
        core::ListenerSettings listener;
        listener.type = "mqtt+tls";
        listener.address = _settings.address;
        listener.port = _settings.port;
        listener.cert_file = _settings.cert_file;
        listener.key_file = _settings.key_file;
        listener.ca_file = _settings.ca_file;
        listener.require_certificate = _settings.require_certificate;
        listener.tls_min_version = _settings.tls_min_version;
        listener.ciphers = _settings.ciphers;
        listener.ciphersuites = _settings.ciphersuites;
        _tls = std::make_unique<net::TlsListenerContext>(std::move(listener));
    }
    const std::string host = _settings.address == "localhost" ? "127.0.0.1" : _settings.address;
    const std::string where = _settings.address + ":" + std::to_string(_settings.port);
    sockaddr_storage address{};
    socklen_t length = 0;
    auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(_settings.port);
        length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(_settings.port);
        length = sizeof(sockaddr_in6);
    } else {
        throw std::runtime_error("cannot listen on " + where + ": not an IP address");
    }
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(errno));
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
        ::listen(fd, 1024) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(error));
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof(bound);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
    _bound_port =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    _listen_fd = fd;
    if (const auto tls = tls_context()) {
        spdlog::info("listening for HTTPS (bridge) on {}:{} with {}", _settings.address,
                     _bound_port, tls->certificate_summary());
    } else {
        spdlog::info("listening for HTTP (bridge) on {}:{}", _settings.address, _bound_port);
    }
}

void Bridge::start() {
    if (_listen_fd < 0) {
        return;
    }
    _broker.loop(0).post([this](net::WorkerLoop& loop) {
        LoopContext* context = this->context(loop);
        if (context == nullptr) {
            return;  // already shutting down; ~Bridge closes the socket
        }
        // Polled, not uv_listen()ed: accept4() here gives a plain fd to hand to any loop.
        uv_poll_init_socket(loop.uv(), &_poll, _listen_fd);
        _poll.data = this;
        uv_poll_start(&_poll, UV_READABLE, &Bridge::on_acceptable);
        _polling = true;
        loop.add_stop_hook([this](net::WorkerLoop&) { stop_listening(); });
    });
}

void Bridge::stop_listening() {
    if (!_polling) {
        return;
    }
    _polling = false;
    uv_poll_stop(&_poll);
    // The fd is closed by ~Bridge, after libuv has let go of the handle.
    uv_close(reinterpret_cast<uv_handle_t*>(&_poll), nullptr);
}

LoopContext* Bridge::context(net::WorkerLoop& loop) {
    auto& slot = _contexts[loop.index()];
    if (!slot) {
        if (loop.stopping()) {
            return nullptr;
        }
        slot = std::make_unique<LoopContext>(*this, loop);
    }
    return slot->stopping() ? nullptr : slot.get();
}

void Bridge::on_acceptable(uv_poll_t* handle, int status, int) noexcept {
    auto* self = static_cast<Bridge*>(handle->data);
    if (status != 0) {
        spdlog::warn("bridge: accept failed: {}", uv_strerror(status));
        return;
    }
    try {
        self->accept_pending();
    } catch (const std::exception& error) {
        spdlog::error("bridge: accept failed: {}", error.what());
    }
}

void Bridge::accept_pending() {
    for (int i = 0; i < kAcceptBatch; ++i) {
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        const int fd = ::accept4(_listen_fd, reinterpret_cast<sockaddr*>(&address), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                // Out of descriptors or memory: pause accepting for a moment rather than spin
                // on a socket that stays readable (resumed by resume_accepting()).
                spdlog::warn("bridge: accept failed: {}; pausing for {} ms", std::strerror(errno),
                             kAcceptRetryMs);
                uv_poll_stop(&_poll);
                _accept_paused_until = _broker.loop(0).now() + kAcceptRetryMs;
                if (LoopContext* context = this->context(_broker.loop(0))) {
                    context->keep_ticking();
                }
            }
            return;
        }
        hand_over(fd, format_peer(address));
    }
}

void Bridge::resume_accepting(core::MonoMillis now) {
    if (_polling && _accept_paused_until != 0 && now >= _accept_paused_until) {
        _accept_paused_until = 0;
        uv_poll_start(&_poll, UV_READABLE, &Bridge::on_acceptable);
    }
}

void Bridge::hand_over(int fd, std::string peer) {
    _stats.connections_total.fetch_add(1, std::memory_order_relaxed);
    const uint64_t open = _open.fetch_add(1, std::memory_order_relaxed);
    const bool over_limit = _settings.max_connections != 0 && open >= _settings.max_connections;
    uint32_t target = 0;
    if (over_limit) {
        // Answered 503 right here on loop 0.
        _stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
    } else {
        target = _next_loop;
        _next_loop = (_next_loop + 1) % _broker.loop_count();
    }
    auto adopt = [this, fd, over_limit, peer = std::move(peer)](net::WorkerLoop& loop) mutable {
        LoopContext* context = this->context(loop);
        if (context == nullptr) {
            ::close(fd);
            connection_closed();
            return;
        }
        if (HttpConnection* connection = HttpConnection::adopt(*context, fd, std::move(peer))) {
            connection->start(over_limit);
        }
    };
    if (target == 0) {
        adopt(_broker.loop(0));
    } else {
        _broker.loop(target).post(std::move(adopt));
    }
}

uint64_t Bridge::client_buffer_cap() const noexcept {
    constexpr uint64_t kFloor = 64 * 1024;  // a few large messages must still fit
    const int64_t streaming =
        _stats.clients[static_cast<std::size_t>(ClientKind::Sse)].load(std::memory_order_relaxed) +
        _stats.clients[static_cast<std::size_t>(ClientKind::WebSocket)].load(
            std::memory_order_relaxed);
    uint64_t cap = _settings.max_client_buffer;
    if (streaming > 0) {
        const uint64_t share = _settings.max_total_buffer / static_cast<uint64_t>(streaming);
        cap = std::min(cap, std::max(share, kFloor));
    }
    return cap;
}

bool Bridge::reload_tls() {
    return _tls ? _tls->reload() : true;
}

std::shared_ptr<const net::TlsContext> Bridge::tls_context() const {
    return _tls ? _tls->current() : nullptr;
}

}  // namespace tern::bridge
