// TCP listener: binds, accepts, and hands each socket to a new Connection on the same loop.
#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#include "connection.hpp"
#include "tls_context.hpp"
#include "tls_transport.hpp"
#include "worker_loop.hpp"

namespace tern::net {

Listener::Listener(WorkerLoop& loop, core::ListenerSettings settings)
    : _loop(loop), _settings(std::move(settings)) {}

Listener::~Listener() = default;

void Listener::open() {
    const std::string where = _settings.address + ":" + std::to_string(_settings.port);
    sockaddr_storage address{};
    std::string host = _settings.address == "localhost" ? "127.0.0.1" : _settings.address;
    if (uv_ip4_addr(host.c_str(), _settings.port, reinterpret_cast<sockaddr_in*>(&address)) != 0 &&
        uv_ip6_addr(host.c_str(), _settings.port, reinterpret_cast<sockaddr_in6*>(&address)) != 0) {
        throw std::runtime_error("cannot listen on " + where + ": not an IP address");
    }
    uv_tcp_init(_loop.uv(), &_handle);
    _handle.data = this;
    _open = true;
    int rc = uv_tcp_bind(&_handle, reinterpret_cast<const sockaddr*>(&address), 0);
    if (rc == 0) {
        rc = uv_listen(reinterpret_cast<uv_stream_t*>(&_handle), 1024, &Listener::on_connection);
    }
    if (rc != 0) {
        throw std::runtime_error("cannot listen on " + where + ": " + uv_strerror(rc));
    }
    sockaddr_storage bound{};
    int length = sizeof(bound);
    uv_tcp_getsockname(&_handle, reinterpret_cast<sockaddr*>(&bound), &length);
    _bound_port =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void Listener::close() {
    if (_open) {
        _open = false;
        uv_close(reinterpret_cast<uv_handle_t*>(&_handle), nullptr);
    }
}

void Listener::on_connection(uv_stream_t* server, int status) noexcept {
    auto* self = static_cast<Listener*>(server->data);
    if (status != 0) {
        spdlog::warn("accept failed: {}", uv_strerror(status));
        return;
    }
    try {
        std::unique_ptr<Transport> transport;
        if (self->_tls) {
            try {
                transport = std::make_unique<TlsTransport>(*self->_tls->current());
            } catch (const TlsError& error) {
                // Accepted and closed at once: a socket left pending would stall the listener.
                spdlog::error("TLS listener {}: {}", listener_name(self->_settings), error.what());
                if (Connection* refused = Connection::accept(self->_loop, server)) {
                    refused->close("no memory for TLS");
                }
                return;
            }
        }
        Connection* connection = Connection::accept(self->_loop, server, std::move(transport));
        // admit(): the per-address limits reset the socket at once when they refuse it.
        if (connection != nullptr && connection->admit()) {
            connection->start();
        }
    } catch (const std::exception& error) {
        spdlog::error("accept failed: {}", error.what());
    }
}

}  // namespace tern::net
