// Connection I/O through a transport (TLS): wire bytes in, application bytes to the codec, and
// the codec's output back out as records; handshake outcomes and the certificate identity.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "connection.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {
constexpr std::size_t kShrinkAbove = 64 * 1024;
}  // namespace

void Connection::receive_wire(const char* data, std::size_t size) {
    LoopStats::add(_loop.stats().bytes_received, size);
    const bool was_ready = _transport->ready();
    std::string& wire = rare().wire;
    const Transport::Status status = _transport->receive({data, size}, wire);
    if (!wire.empty()) {
        _loop.mark_dirty(this);  // handshake records, or the alert explaining a failure
    }
    if (status != Transport::Status::Ok) {
        transport_ended(status, _transport->error());
        return;
    }
    if (!was_ready && _transport->ready()) {
        LoopStats::add(_loop.stats().tls_handshakes, 1);
        if (spdlog::should_log(spdlog::level::debug)) {
            spdlog::debug("client ({}): {} handshake done: {}", _peer, _transport->name(),
                          _transport->describe());
        }
    }
    // `data` was copied by receive(): the loop's read buffer is free for the plaintext.
    pull_transport();
}

void Connection::pull_transport() {
    const uv_buf_t buffer = _loop.read_buffer();
    // consume() may close the connection, move it (and its transport) to another loop, or
    // stop reading (a refused CONNECT waits for its delayed CONNACK, a PUBLISH to a slow
    // subscriber paused it): then the rest stays in the transport, as unread bytes stay in the
    // socket on plain TCP.
    while (!_closing && _transport && !refusing()) {
        if (paused_for_subscriber() && reads_held()) {
            _parsing_stopped = true;  // resume_reading() pulls the rest
            return;
        }
        std::size_t got = 0;
        std::string& wire = rare().wire;
        const Transport::Status status = _transport->read({buffer.base, buffer.len}, got, wire);
        if (!wire.empty()) {
            _loop.mark_dirty(this);
        }
        if (got > 0) {
            consume(buffer.base, got, false);
            continue;
        }
        if (status != Transport::Status::Ok) {
            transport_ended(status, _transport->error());
        }
        return;
    }
}

void Connection::transport_ended(Transport::Status status, std::string_view reason) {
    if (status == Transport::Status::Closed) {
        close("connection closed by client (" + std::string(_transport->name()) + " close)");
        return;
    }
    if (!_transport->ready()) {
        // Scanners, plain MQTT clients on the TLS port, wrong or missing client certificates.
        LoopStats::add(_loop.stats().tls_handshake_failures, 1);
        spdlog::info("client ({}): {} handshake failed: {}", _peer, _transport->name(), reason);
        close("TLS handshake failed");
        return;
    }
    spdlog::info("client {} ({}): {} error: {}", client_id(), _peer, _transport->name(), reason);
    close(std::string(_transport->name()) + " error");
}

void Connection::flush_transport() {
    if (_handle_closed) {
        return;
    }
    if (!_out.empty()) {
        if (_closing) {
            // shutdown_transport() encoded everything sent before the close, then close_notify:
            // nothing may follow it.
            _out.clear();
        } else if (_transport->ready()) {
            // One SSL_write per loop iteration: every packet queued since the last flush goes
            // out in as few records as possible.
            const Transport::Status status = _transport->write(_out, rare().wire);
            _out.clear();
            if (_out.capacity() > kShrinkAbove) {
                _out.shrink_to_fit();
            }
            if (status != Transport::Status::Ok) {
                transport_ended(status, _transport->error());
            }
        }
    }
    write_buffer(rare().wire);
    if (_close_after_write && !_handle_closed && !has_wire() && !writing()) {
        finish_close();
    }
}

void Connection::shutdown_transport() {
    if (_transport->ready() && !_out.empty()) {
        // The last packets (CONNACK, DISCONNECT) travel before close_notify.
        _transport->write(_out, rare().wire);
        _out.clear();
    }
    _transport->shutdown(rare().wire);
}

bool Connection::apply_transport_identity(codec::Connect& connect) {
    if (!_transport) {
        return true;
    }
    TransportIdentity identity = _transport->identity();
    if (!identity.as_username) {
        return true;
    }
    if (!identity.username) {
        LoopStats::add(_loop.stats().auth_failures, 1);
        spdlog::warn(
            "client {} ({}): authentication failed: the client certificate has no "
            "single common name to use as user name",
            connect.client_id, _peer);
        return reject_connect(codec::ReasonCode::NotAuthorized,
                              "client certificate has no usable common name");
    }
    // The certificate, verified against ca_file during the handshake, is the credential: the
    // user name and password of the CONNECT are not used (as Mosquitto does).
    connect.username = std::move(identity.username);
    connect.password.reset();
    _user_from_transport = true;
    return true;
}

}  // namespace tern::net
