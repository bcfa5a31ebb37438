// MQTT over WebSocket: frames decoded into an MQTT byte stream, MQTT bytes wrapped in binary
// frames.
#include "websocket_transport.hpp"

#include <algorithm>

#include "websocket/frame_encoder.hpp"

namespace tern::net {

namespace {

namespace ws = tern::websocket;

// A buffer that grew past this is given back once it is empty: an idle connection holds no
// memory from its busiest moment, while small reads (typical telemetry) never allocate.
constexpr std::size_t kKeepCapacity = 16 * 1024;
// How much decrypted data is taken from an inner transport (wss) per decoding step.
constexpr std::size_t kInnerChunk = 8 * 1024;

ws::DecoderOptions decoder_options(const WebSocketOptions& options) {
    ws::DecoderOptions result;
    result.max_message_size = options.max_message_size;
    // "MQTT Control Packets MUST be sent in WebSocket binary data frames. If any other type of
    // data frame is received the recipient MUST close the Network Connection" [MQTT-6.0.0-1]:
    // a text frame fails the connection with 1003 (unsupported data).
    result.accept_text = false;
    result.accept_binary = true;
    return result;
}

// The size of the MQTT packet at the start of `data` (fixed header and Remaining Length, MQTT
// 3.1.1 §2.2.3 / MQTT 5 §1.5.5), or 0 when `data` does not begin with a whole packet.
std::size_t mqtt_packet_size(std::string_view data) noexcept {
    std::size_t length = 0;
    for (std::size_t i = 1; i < data.size() && i <= 4; ++i) {
        const auto byte = static_cast<uint8_t>(data[i]);
        length |= static_cast<std::size_t>(byte & 0x7f) << (7 * (i - 1));
        if ((byte & 0x80) == 0) {
            const std::size_t total = i + 1 + length;
            return total <= data.size() ? total : 0;
        }
    }
    return 0;
}

void release_if_large(std::string& buffer) noexcept {
    if (buffer.empty() && buffer.capacity() > kKeepCapacity) {
        std::string().swap(buffer);
    }
}

}  // namespace

WebSocketTransport::WebSocketTransport(WebSocketOptions options, std::unique_ptr<Transport> inner)
    : _options(std::move(options)), _inner(std::move(inner)), _decoder(decoder_options(_options)) {
    if (_options.open_gauge != nullptr) {
        _options.open_gauge->fetch_add(1, std::memory_order_relaxed);
    }
}

WebSocketTransport::~WebSocketTransport() {
    if (_options.open_gauge != nullptr) {
        _options.open_gauge->fetch_sub(1, std::memory_order_relaxed);
    }
}

Transport::Status WebSocketTransport::receive(std::span<const char> wire, std::string& wire_out) {
    if (_end != Status::Ok) {
        // Nothing is decoded after a close frame or a failure (RFC 6455 §5.5.1, §7.1.7).
        return status();
    }
    if (!_inner) {
        // The frames are unmasked in place, so they are copied out of the caller's buffer (which
        // is also where read() will put the MQTT bytes).
        _in.assign(wire.data(), wire.size());
        decode(wire_out);
        return status();
    }
    const Status inner_status = _inner->receive(wire, wire_out);
    if (inner_status != Status::Ok) {
        end_with_inner_error(inner_status);
        return status();
    }
    drain_inner(wire_out);
    return status();
}

Transport::Status WebSocketTransport::receive_early(std::string_view frames,
                                                    std::string& wire_out) {
    _in.assign(frames);
    decode(wire_out);
    if (_inner && _end == Status::Ok) {
        drain_inner(wire_out);
    }
    return status();
}

void WebSocketTransport::drain_inner(std::string& wire_out) {
    while (_end == Status::Ok) {
        _in.resize(kInnerChunk);
        std::size_t got = 0;
        const Status read_status = _inner->read({_in.data(), _in.size()}, got, wire_out);
        _in.resize(got);
        if (got == 0) {
            if (read_status != Status::Ok) {
                end_with_inner_error(read_status);
            }
            break;
        }
        decode(wire_out);
    }
    release_if_large(_in);
}

void WebSocketTransport::decode(std::string& wire_out) {
    _decoder.feed({reinterpret_cast<uint8_t*>(_in.data()), _in.size()}, *this);
    _in.clear();
    release_if_large(_in);
    if (!_control.empty()) {
        send_frames(_control, wire_out);
        _control.clear();
    }
}

Transport::Status WebSocketTransport::read(std::span<char> buffer, std::size_t& got,
                                           std::string& wire_out) {
    (void)wire_out;  // decoding happens in receive(); reading never produces frames
    got = std::min(buffer.size(), buffered());
    if (got > 0) {
        std::copy_n(_app.data() + _app_read, got, buffer.data());
        _app_read += got;
        if (_app_read == _app.size()) {
            _app.clear();
            _app_read = 0;
            release_if_large(_app);
        }
        return Status::Ok;
    }
    // The MQTT bytes that came before a close frame (a DISCONNECT, typically) were read first;
    // only now does the connection learn that the stream ended.
    return _end;
}

Transport::Status WebSocketTransport::write(std::string_view data, std::string& wire_out) {
    if (_end == Status::Error) {
        return Status::Error;
    }
    if (data.empty() || !_close.can_send_data()) {
        return Status::Ok;
    }
    if (!_inner) {
        append_frames(data, wire_out);
        return Status::Ok;
    }
    append_frames(data, _frame);
    const Status inner_status = _inner->write(_frame, wire_out);
    _frame.clear();
    release_if_large(_frame);
    if (inner_status != Status::Ok) {
        end_with_inner_error(inner_status);
    }
    return inner_status;
}

void WebSocketTransport::append_frames(std::string_view data, std::string& out) {
    // A frame may carry several packets [MQTT-6.0.0-2], but clients that expect one packet per
    // frame are common (Debian's Paho C 1.3.12 loses the packets after the first one of a frame,
    // e.g. a retained PUBLISH behind its SUBACK). One frame per packet costs a 2-4 byte header
    // each and still leaves one socket write per loop iteration.
    while (!data.empty()) {
        std::size_t size = mqtt_packet_size(data);
        if (size == 0) {
            size = data.size();  // not whole packets (never from the connection): one frame
        }
        // The server's frames are not masked (RFC 6455 §5.1): a header, then the bytes as they are.
        ws::append_frame_header(out, ws::Opcode::Binary, size);
        out.append(data.substr(0, size));
        data.remove_prefix(size);
    }
}

void WebSocketTransport::shutdown(std::string& wire_out) {
    if (_end != Status::Error && ready() && _close.close(_control, ws::close_code::kNormal)) {
        send_frames(_control, wire_out);
        _control.clear();
    }
    if (_inner) {
        _inner->shutdown(wire_out);
    }
}

std::string WebSocketTransport::describe() const {
    std::string text(name());
    text += " subprotocol ";
    text += _options.subprotocol.empty() ? "(none)" : _options.subprotocol;
    if (_inner) {
        text += ", ";
        text += _inner->describe();
    }
    return text;
}

TransportIdentity WebSocketTransport::identity() const {
    return _inner ? _inner->identity() : TransportIdentity{};
}

void WebSocketTransport::send_frames(std::string_view frames, std::string& wire_out) {
    if (!_inner) {
        wire_out.append(frames);
        return;
    }
    const Status inner_status = _inner->write(frames, wire_out);
    if (inner_status != Status::Ok) {
        end_with_inner_error(inner_status);
    }
}

void WebSocketTransport::end_with_inner_error(Status status) {
    if (_end != Status::Ok) {
        return;
    }
    _end = status;
    _error = _inner->error();
}

void WebSocketTransport::on_message(ws::Opcode opcode, std::span<const uint8_t> payload) {
    (void)opcode;  // always Binary: text is refused by the decoder [MQTT-6.0.0-1]
    if (_app_read > 0) {
        // The reader stopped half way (a refused CONNECT, a move to another loop): keep the
        // unread part in front.
        _app.erase(0, _app_read);
        _app_read = 0;
    }
    _app.append(reinterpret_cast<const char*>(payload.data()), payload.size());
}

void WebSocketTransport::on_ping(std::span<const uint8_t> payload) {
    // A ping is answered with a pong carrying the same payload (RFC 6455 §5.5.2), unless we are
    // closing: after our close frame only the peer's close matters.
    if (_close.state() == ws::CloseHandshake::State::Open) {
        ws::append_frame(_control, ws::Opcode::Pong, payload);
    }
}

void WebSocketTransport::on_pong(std::span<const uint8_t> payload) {
    (void)payload;  // unsolicited pongs are allowed and need no answer (RFC 6455 §5.5.3)
}

void WebSocketTransport::on_close(uint16_t code, std::string_view reason) {
    // Echo the close frame (RFC 6455 §5.5.1); the connection then closes the TCP connection
    // once the MQTT bytes before the close frame were handled.
    _close.on_peer_close(_control, code);
    _end = Status::Closed;
    _error = "close frame from client, code " + std::to_string(code);
    if (!reason.empty()) {
        _error += ": ";
        _error += reason;
    }
}

void WebSocketTransport::on_error(uint16_t code, std::string_view reason) {
    std::string why(reason);
    if (code == ws::close_code::kUnsupportedData) {
        why = "text frame received; MQTT travels in binary frames only [MQTT-6.0.0-1]";
    }
    // Fail the WebSocket connection (RFC 6455 §7.1.7): a close frame saying why, then the TCP
    // connection closes without waiting for an answer.
    _close.fail(_control, code, why);
    _end = Status::Error;
    _error = std::move(why);
}

}  // namespace tern::net
