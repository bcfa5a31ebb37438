// RFC 6455 framing over an HttpConnection: decoding, pings, the closing handshake, the byte cap.
#include "websocket_stream.hpp"

#include <spdlog/spdlog.h>

#include "bridge.hpp"
#include "http_connection.hpp"
#include "net/worker_loop.hpp"
#include "websocket/frame_encoder.hpp"

namespace tern::bridge {

namespace ws = tern::websocket;

WebSocketStream::WebSocketStream(HttpConnection& connection, ws::DecoderOptions options)
    : _connection(connection), _decoder(options) {
    _last_write = connection.loop().now();
}

WebSocketStream::~WebSocketStream() {
    on_close();
}

void WebSocketStream::on_data(std::string_view bytes) {
    if (_closed) {
        return;
    }
    _input.assign(bytes.begin(), bytes.end());
    _decoder.feed(_input, *this);
}

void WebSocketStream::on_message(ws::Opcode opcode, std::span<const uint8_t> payload) {
    // The decoder refuses binary messages (accept_binary false): only text reaches here.
    (void)opcode;
    if (_listener && open()) {
        _listener->on_text(
            std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
    }
    if (_closed || !_close.can_send_data()) {
        _decoder.stop();
    }
}

void WebSocketStream::on_ping(std::span<const uint8_t> payload) {
    // A ping is answered with a pong carrying the same payload (§5.5.2).
    if (_close.state() != ws::CloseHandshake::State::Closed) {
        ws::append_frame(_frames, ws::Opcode::Pong, payload);
        write_frames();
        check_cap();
    }
}

void WebSocketStream::on_pong(std::span<const uint8_t>) {
    // Our pings only keep intermediaries busy; an unsolicited pong needs no answer (§5.5.3).
}

void WebSocketStream::on_close(uint16_t code, std::string_view reason) {
    spdlog::debug("bridge: client {}: websocket close {} '{}'", _connection.peer(), code, reason);
    _close.on_peer_close(_frames, code);
    write_frames();
}

void WebSocketStream::on_error(uint16_t code, std::string_view reason) {
    spdlog::debug("bridge: client {}: websocket failed ({}): {}", _connection.peer(), code, reason);
    _close.fail(_frames, code, reason);
    write_frames();
}

bool WebSocketStream::send_text(std::string_view text) {
    if (!open()) {
        return false;
    }
    ws::append_frame(_frames, ws::Opcode::Text, text);
    write_frames();
    return check_cap();
}

void WebSocketStream::write_frames() {
    if (!_frames.empty()) {
        _connection.write(_frames);
        _frames.clear();
        _last_write = _connection.loop().now();
    }
    if (_close.should_close_tcp() && !_closed) {
        // The server closes the TCP connection first (§7.1.1), after the close frame is out.
        _connection.close("websocket closed");  // calls on_close()
    }
}

bool WebSocketStream::check_cap(std::size_t held) {
    const uint64_t cap = _connection.bridge().client_buffer_cap();
    if (_closed || _connection.pending_output() + held <= cap) {
        return !_closed;
    }
    _connection.bridge().stats().slow_consumers_cut.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("bridge: client {}: cut off: more than {} bytes queued", _connection.peer(), cap);
    // The close frame goes behind what is queued; the connection gives up flushing after a
    // few seconds.
    _close.fail(_frames, kSlowConsumerCode,
                "slow consumer: more than " + std::to_string(cap) + " bytes queued");
    write_frames();
    return false;
}

void WebSocketStream::on_tick(core::MonoMillis now) {
    if (_closed) {
        return;
    }
    if (_listener) {
        _listener->on_tick(now);
    }
    if (!_closed && open() &&
        now - _last_write >= _connection.bridge().settings().heartbeat_interval_ms) {
        // Keeps proxies and load balancers from closing an idle connection.
        ws::append_frame(_frames, ws::Opcode::Ping, std::string_view{});
        write_frames();
    }
}

void WebSocketStream::on_close() {
    if (_closed) {
        return;
    }
    _closed = true;
    if (_listener) {
        _listener->on_closed();
    }
}

}  // namespace tern::bridge
