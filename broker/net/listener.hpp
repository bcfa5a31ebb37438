// A TCP listener for MQTT on a worker loop; accepted sockets become Connections on that loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/settings.hpp"

namespace tern::net {

class WorkerLoop;
class TlsListenerContext;

class Listener {
  public:
    Listener(WorkerLoop& loop, core::ListenerSettings settings);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Binds and listens. Throws std::runtime_error("cannot listen on ADDR:PORT: reason").
    void open();
    // Closes the socket; safe to call twice. The object must live until the loop ends.
    void close();
    uint16_t bound_port() const noexcept { return _bound_port; }
    // Makes this a TLS listener: each accepted socket gets a TLS transport from the context's
    // current configuration (which SIGHUP may replace). Before open().
    void set_tls(std::shared_ptr<TlsListenerContext> tls) { _tls = std::move(tls); }

  private:
    static void on_connection(uv_stream_t* server, int status) noexcept;

    WorkerLoop& _loop;
    core::ListenerSettings _settings;
    uv_tcp_t _handle{};
    bool _open = false;
    uint16_t _bound_port = 0;
    std::shared_ptr<TlsListenerContext> _tls;  // null = plain TCP
};

}  // namespace tern::net
