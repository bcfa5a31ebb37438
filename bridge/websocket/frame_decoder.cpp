// The frame decoder's state machine: header bytes, then payload bytes, one frame after another.
#include "websocket/frame_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace tern::websocket {

namespace {

// A message buffer that grew past this is released after its message, so one large message does
// not pin memory for the rest of a long-lived connection.
constexpr std::size_t kRetainedCapacity = 64 * 1024;

uint64_t read_big_endian(const uint8_t* p, std::size_t size) noexcept {
    uint64_t value = 0;
    for (std::size_t i = 0; i < size; ++i) {
        value = (value << 8) | p[i];
    }
    return value;
}

}  // namespace

DecoderState FrameDecoder::feed(std::span<uint8_t> data, FrameHandler& handler) {
    uint8_t* p = data.data();
    uint8_t* const end = p + data.size();
    while (_state == DecoderState::Open) {
        if (!_in_payload) {
            if (p == end) {
                break;
            }
            if (!read_header(p, end, handler)) {
                continue;  // needs more bytes (p == end) or failed (state changed)
            }
        }
        // A frame with an empty payload completes without any payload byte.
        if (p == end && _remaining != 0) {
            break;
        }
        read_payload(p, end, handler);
    }
    return _state;
}

void FrameDecoder::stop() noexcept {
    if (_state == DecoderState::Open) {
        _state = DecoderState::Stopped;
    }
}

bool FrameDecoder::read_header(uint8_t*& p, const uint8_t* end, FrameHandler& handler) {
    // The first two bytes one at a time, each checked as soon as it arrives: a bad frame fails
    // before the rest of its header (the same way whatever the chunking).
    while (_header_have < 2) {
        if (p == end) {
            return false;
        }
        _header[_header_have++] = *p++;
        if (_header_have == 1 && !check_first_byte(handler)) {
            return false;
        }
        if (_header_have == 2 && !check_second_byte(handler)) {
            return false;
        }
    }
    const std::size_t wanted = _header_size - _header_have;
    const std::size_t taken = std::min<std::size_t>(wanted, static_cast<std::size_t>(end - p));
    std::memcpy(_header.data() + _header_have, p, taken);
    p += taken;
    _header_have = static_cast<uint8_t>(_header_have + taken);
    if (_header_have < _header_size || !check_length(handler)) {
        return false;
    }
    std::memcpy(_mask.data(), _header.data() + _header_size - 4, 4);
    _mask_offset = 0;
    _control_size = 0;
    _in_payload = true;
    if (_opcode == Opcode::Text || _opcode == Opcode::Binary) {
        // The first frame of a message: its opcode holds for every fragment (§5.4).
        _message_opcode = _opcode;
        _utf8.reset();
        _in_message = !_fin;
    }
    return true;
}

bool FrameDecoder::check_first_byte(FrameHandler& handler) {
    const uint8_t byte = _header[0];
    _fin = (byte & 0x80) != 0;
    if ((byte & 0x70) != 0) {
        fail(close_code::kProtocolError,
             "RSV bit set without a negotiated extension (RFC 6455 §5.2)", handler);
        return false;
    }
    const uint8_t opcode = byte & 0x0F;
    if (!is_known_opcode(opcode)) {
        fail(close_code::kProtocolError, "reserved opcode (RFC 6455 §5.2)", handler);
        return false;
    }
    _opcode = static_cast<Opcode>(opcode);
    if (is_control(_opcode)) {
        if (!_fin) {
            fail(close_code::kProtocolError, "fragmented control frame (RFC 6455 §5.5)", handler);
            return false;
        }
        return true;
    }
    if (_opcode == Opcode::Continuation) {
        if (!_in_message) {
            fail(close_code::kProtocolError,
                 "continuation frame without a message to continue (RFC 6455 §5.4)", handler);
            return false;
        }
        return true;
    }
    if (_in_message) {
        fail(close_code::kProtocolError,
             "new data message before the fragmented one ended (RFC 6455 §5.4)", handler);
        return false;
    }
    if ((_opcode == Opcode::Text && !_options.accept_text) ||
        (_opcode == Opcode::Binary && !_options.accept_binary)) {
        fail(close_code::kUnsupportedData,
             _opcode == Opcode::Text ? "text messages are not accepted on this endpoint"
                                     : "binary messages are not accepted on this endpoint",
             handler);
        return false;
    }
    return true;
}

bool FrameDecoder::check_second_byte(FrameHandler& handler) {
    const uint8_t byte = _header[1];
    if ((byte & 0x80) == 0) {
        fail(close_code::kProtocolError, "client frame not masked (RFC 6455 §5.1)", handler);
        return false;
    }
    const uint8_t length = byte & 0x7F;
    if (is_control(_opcode) && length > kMaxControlPayload) {
        fail(close_code::kProtocolError, "control frame payload over 125 bytes (RFC 6455 §5.5)",
             handler);
        return false;
    }
    const uint8_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
    _header_size = static_cast<uint8_t>(2 + extended + 4);
    return true;
}

bool FrameDecoder::check_length(FrameHandler& handler) {
    const uint8_t short_length = _header[1] & 0x7F;
    uint64_t length = short_length;
    if (short_length == 126) {
        length = read_big_endian(_header.data() + 2, 2);
    } else if (short_length == 127) {
        length = read_big_endian(_header.data() + 2, 8);
        if ((length >> 63) != 0) {
            fail(close_code::kProtocolError,
                 "64-bit payload length with its most significant bit set (RFC 6455 §5.2)",
                 handler);
            return false;
        }
    }
    // "The minimal number of bytes MUST be used to encode the length" (§5.2).
    if ((short_length == 126 && length < 126) || (short_length == 127 && length <= 0xFFFF)) {
        fail(close_code::kProtocolError, "payload length not in its minimal form (RFC 6455 §5.2)",
             handler);
        return false;
    }
    if (!is_control(_opcode)) {
        const uint64_t before = _in_message ? _message.size() : 0;
        if (length > _options.max_message_size || before > _options.max_message_size - length) {
            fail(close_code::kMessageTooBig, "message over the maximum message size", handler);
            return false;
        }
    }
    _remaining = length;
    return true;
}

void FrameDecoder::read_payload(uint8_t*& p, uint8_t* end, FrameHandler& handler) {
    if (is_control(_opcode)) {
        read_control_payload(p, end, handler);
    } else {
        read_data_payload(p, end, handler);
    }
}

void FrameDecoder::read_data_payload(uint8_t*& p, uint8_t* end, FrameHandler& handler) {
    const auto available = static_cast<std::size_t>(end - p);
    const bool text = _message_opcode == Opcode::Text;
    if (_fin && !_in_message && _message.empty() && _remaining <= available) {
        // A whole unfragmented message in the caller's buffer: unmask it there, no copy.
        const auto size = static_cast<std::size_t>(_remaining);
        const std::span<uint8_t> payload(p, size);
        apply_mask(payload, _mask, 0);
        p += size;
        _remaining = 0;
        end_frame();
        if (text && !(_utf8.feed(payload) && _utf8.complete())) {
            fail(close_code::kInvalidPayload, "text message is not valid UTF-8 (RFC 6455 §8.1)",
                 handler);
            return;
        }
        handler.on_message(_message_opcode, payload);
        return;
    }
    const auto size = static_cast<std::size_t>(std::min<uint64_t>(_remaining, available));
    const std::size_t old_size = _message.size();
    _message.resize(old_size + size);
    uint8_t* copy = _message.data() + old_size;
    _mask_offset = copy_masked(p, copy, size, _mask, _mask_offset);
    p += size;
    _remaining -= size;
    // Text is checked as it arrives, so a bad byte fails the connection at once (§8.1).
    if (text && !_utf8.feed({copy, size})) {
        fail(close_code::kInvalidPayload, "text message is not valid UTF-8 (RFC 6455 §8.1)",
             handler);
        return;
    }
    if (_remaining == 0) {
        finish_data_frame(handler);
    }
}

void FrameDecoder::finish_data_frame(FrameHandler& handler) {
    end_frame();
    if (!_fin) {
        return;  // more fragments follow
    }
    _in_message = false;
    if (_message_opcode == Opcode::Text && !_utf8.complete()) {
        fail(close_code::kInvalidPayload, "text message is not valid UTF-8 (RFC 6455 §8.1)",
             handler);
        return;
    }
    handler.on_message(_message_opcode, _message);
    if (_message.capacity() > kRetainedCapacity) {
        _message = std::vector<uint8_t>();
    } else {
        _message.clear();
    }
}

void FrameDecoder::read_control_payload(uint8_t*& p, uint8_t* end, FrameHandler& handler) {
    const auto available = static_cast<std::size_t>(end - p);
    if (_control_size == 0 && _remaining <= available) {
        const auto size = static_cast<std::size_t>(_remaining);
        const std::span<uint8_t> payload(p, size);
        apply_mask(payload, _mask, 0);
        p += size;
        _remaining = 0;
        deliver_control(payload, handler);
        return;
    }
    // Interleaved control frames (§5.4) keep their own buffer: the message buffer may hold
    // fragments of a data message at the same time.
    const auto size = static_cast<std::size_t>(std::min<uint64_t>(_remaining, available));
    _mask_offset = copy_masked(p, _control.data() + _control_size, size, _mask, _mask_offset);
    _control_size += size;
    p += size;
    _remaining -= size;
    if (_remaining == 0) {
        deliver_control({_control.data(), _control_size}, handler);
    }
}

void FrameDecoder::deliver_control(std::span<uint8_t> payload, FrameHandler& handler) {
    end_frame();
    switch (_opcode) {
        case Opcode::Ping:
            handler.on_ping(payload);
            return;
        case Opcode::Pong:
            handler.on_pong(payload);
            return;
        default:
            deliver_close(payload, handler);
            return;
    }
}

void FrameDecoder::deliver_close(std::span<const uint8_t> payload, FrameHandler& handler) {
    if (payload.empty()) {
        _state = DecoderState::Closed;
        handler.on_close(close_code::kNoStatus, {});
        return;
    }
    if (payload.size() == 1) {
        fail(close_code::kProtocolError,
             "close frame body shorter than its two-byte status code (RFC 6455 §5.5.1)", handler);
        return;
    }
    const auto code = static_cast<uint16_t>(read_big_endian(payload.data(), 2));
    if (!is_valid_close_code(code)) {
        fail(close_code::kProtocolError, "invalid close status code (RFC 6455 §7.4)", handler);
        return;
    }
    const std::string_view reason(reinterpret_cast<const char*>(payload.data() + 2),
                                  payload.size() - 2);
    if (!is_valid_utf8(reason)) {
        fail(close_code::kInvalidPayload, "close reason is not valid UTF-8 (RFC 6455 §5.5.1)",
             handler);
        return;
    }
    _state = DecoderState::Closed;
    handler.on_close(code, reason);
}

void FrameDecoder::fail(uint16_t code, std::string_view reason, FrameHandler& handler) {
    _state = DecoderState::Failed;
    _message = std::vector<uint8_t>();
    handler.on_error(code, reason);
}

void FrameDecoder::end_frame() noexcept {
    _header_have = 0;
    _header_size = 2;
    _in_payload = false;
    _control_size = 0;
}

}  // namespace tern::websocket
