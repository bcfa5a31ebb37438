// The bridge: Tern's HTTP port for web clients (REST, Server-Sent Events, metrics), served on the
// broker's worker loops.
#pragma once

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/message.hpp"
#include "core/settings.hpp"
#include "jwt.hpp"
#include "request_parser.hpp"
#include "stream_handler.hpp"

namespace tern::net {
class Broker;
class TlsContext;
class TlsListenerContext;
class WorkerLoop;
}  // namespace tern::net

namespace tern::bridge {

class HttpConnection;
class LoopContext;

// Counters for /metrics. Relaxed atomics: written by every loop, read by the metrics request.
struct BridgeStats {
    std::array<std::atomic<int64_t>, kClientKinds> clients{};  // open, by kind
    std::atomic<uint64_t> connections_total{0};                // accepted sockets
    std::atomic<uint64_t> connections_refused{0};              // 503: over max_connections
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> timeouts{0};            // 408 answers
    std::atomic<uint64_t> auth_failures{0};       // 401 answers to wrong credentials
    std::atomic<uint64_t> publishes{0};           // messages published by POST /api/publish
    std::atomic<uint64_t> events_sent{0};         // SSE message events written
    std::atomic<uint64_t> slow_consumers_cut{0};  // clients cut off at max_client_buffer
    std::atomic<uint64_t> bytes_sent{0};

    void client_opened(ClientKind kind) noexcept { add(kind, 1); }
    void client_closed(ClientKind kind) noexcept { add(kind, -1); }
    void client_changed(ClientKind from, ClientKind to) noexcept {
        add(from, -1);
        add(to, 1);
    }

  private:
    void add(ClientKind kind, int64_t delta) noexcept {
        clients[static_cast<std::size_t>(kind)].fetch_add(delta, std::memory_order_relaxed);
    }
};

// Threading: open() and start() on the main thread; everything else on the worker loops.
class Bridge {
  public:
    Bridge(net::Broker& broker, core::BridgeSettings settings);
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Binds and listens on settings.address:port now, so that a bad address fails start-up with
    // a message naming it. Throws std::runtime_error("cannot listen on ADDR:PORT: reason"). With
    // settings.tls, loads the certificate, key and CA first: throws net::TlsError naming the
    // file.
    void open();
    // SIGHUP (signal thread): loads the TLS files again for connections accepted from now on;
    // live ones keep theirs. A file that fails keeps the context in use (logged); false then.
    // True without TLS.
    bool reload_tls();

    // Bytes one streaming client may have queued before it is cut off: max_client_buffer, or
    // less when max_total_buffer shared among the open SSE and WebSocket clients is smaller.
    uint64_t client_buffer_cap() const noexcept;
    // The TLS context for a new connection; null when the bridge speaks plain HTTP.
    std::shared_ptr<const net::TlsContext> tls_context() const;
    // After Broker::start(): loop 0 starts accepting. Connections are spread over the worker
    // loops round-robin.
    void start();
    uint16_t bound_port() const noexcept { return _bound_port; }

    net::Broker& broker() noexcept { return _broker; }
    const core::BridgeSettings& settings() const noexcept { return _settings; }
    BridgeStats& stats() noexcept { return _stats; }
    // What bearer tokens must satisfy; null when no JWT secret is configured (tokens refused).
    const JwtPolicy* jwt_policy() const noexcept { return _jwt ? &*_jwt : nullptr; }
    uint64_t open_connections() const noexcept { return _open.load(std::memory_order_relaxed); }

    // The bridge's state on `loop`, made on first use. Call on that loop's thread. Null once the
    // loop is shutting down.
    LoopContext* context(net::WorkerLoop& loop);

    // Answers `request` (routes.cpp): every handler ends with connection.respond(),
    // respond_later(), start_stream(), or a later respond() for asynchronous work.
    void dispatch(HttpConnection& connection, HttpRequest& request);

    // An HttpConnection ended (its socket no longer counts against max_connections).
    void connection_closed() noexcept { _open.fetch_sub(1, std::memory_order_relaxed); }
    // Loop 0's tick: accepting starts again after a pause for lack of descriptors.
    void resume_accepting(core::MonoMillis now);
    bool accept_paused() const noexcept { return _accept_paused_until != 0; }

  private:
    static void on_acceptable(uv_poll_t* handle, int status, int events) noexcept;
    void accept_pending();
    void hand_over(int fd, std::string peer);
    void stop_listening();

    net::Broker& _broker;
    core::BridgeSettings _settings;
    BridgeStats _stats;
    std::optional<JwtPolicy> _jwt;
    std::unique_ptr<net::TlsListenerContext> _tls;  // https/wss; null for plain HTTP
    int _listen_fd = -1;
    uint16_t _bound_port = 0;
    uv_poll_t _poll{};
    bool _polling = false;
    uint32_t _next_loop = 0;  // round-robin target (loop 0's thread only)
    core::MonoMillis _accept_paused_until = 0;
    std::atomic<uint64_t> _open{0};
    // One per loop, made lazily on that loop's thread and only touched there.
    std::vector<std::unique_ptr<LoopContext>> _contexts;
};

}  // namespace tern::bridge
