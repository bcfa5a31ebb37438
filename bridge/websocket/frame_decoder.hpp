// Incremental server-side WebSocket frame decoder (RFC 6455 §5): bytes in, messages and control
// frames out through a handler.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "websocket/protocol.hpp"
#include "websocket/utf8_validator.hpp"

namespace tern::websocket {

// Receives what FrameDecoder::feed finds, in stream order. One virtual call per event, never per
// byte. A payload span is valid only during the call: it points either into the buffer given to
// feed (unmasked in place) or into the decoder's own buffers. A callback may call
// FrameDecoder::stop() to make feed return after it; it must not call feed itself.
class FrameHandler {
  public:
    virtual ~FrameHandler() = default;
    // A complete data message, its fragments joined. `opcode` is Text (payload is valid UTF-8)
    // or Binary.
    virtual void on_message(Opcode opcode, std::span<const uint8_t> payload) = 0;
    // A ping (payload ≤ 125 bytes): answer with a pong carrying the same payload (§5.5.2).
    virtual void on_ping(std::span<const uint8_t> payload) = 0;
    virtual void on_pong(std::span<const uint8_t> payload) = 0;
    // The peer's close frame: a valid status code and a UTF-8 reason, or close_code::kNoStatus
    // and an empty reason when the frame had no body (§7.1.5). Nothing is decoded after it.
    virtual void on_close(uint16_t code, std::string_view reason) = 0;
    // The stream broke a rule: fail the connection (§7.1.7), i.e. send a close frame with `code`
    // (1002, 1003, 1007 or 1009) and close the TCP connection. `reason` is a short explanation
    // citing the rule, fit for a log line or the close reason. Nothing is decoded after it.
    virtual void on_error(uint16_t code, std::string_view reason) = 0;
};

struct DecoderOptions {
    // Largest data message, all fragments together; a longer one fails with 1009 as soon as a
    // frame header announces it, before its payload is buffered (§7.4.1).
    uint64_t max_message_size = 16 * 1024 * 1024;
    // A text or binary message of a refused kind fails with 1003 (§7.4.1). /mqtt accepts binary
    // only: "If any other type of data frame is received the recipient MUST close the Network
    // Connection" [MQTT-6.0.0-1].
    bool accept_text = true;
    bool accept_binary = true;
};

// Where the decoder stands after feed.
enum class DecoderState : uint8_t {
    Open,     // everything fed was consumed; more frames may follow
    Closed,   // on_close was called; later bytes are ignored (§5.5.1: no data after a close)
    Failed,   // on_error was called; later bytes are ignored
    Stopped,  // a callback called stop(); later bytes are ignored
};

// Decodes the frames a client sends to a server, fed in chunks cut anywhere (a frame may span
// many chunks, a chunk may hold many frames). Checks everything RFC 6455 asks of a receiver
// without extensions: client frames are masked (§5.1), RSV bits are 0 (§5.2), opcodes are known
// (§5.2), lengths use the minimal form and the 64-bit form has its top bit clear (§5.2), control
// frames are unfragmented with ≤ 125 bytes (§5.5), fragments follow §5.4 (control frames may come
// between them), text is valid UTF-8, checked as it arrives (§5.6, §8.1), close frames carry a
// valid code and a UTF-8 reason (§5.5.1, §7.4). Not thread-safe: one decoder per connection.
//
// Copies: a complete unfragmented frame (and any control frame) that lies wholly inside the
// chunk is unmasked in place and handed out as a span into the caller's buffer; only messages
// that are fragmented or span chunks are gathered into an internal buffer.
class FrameDecoder {
  public:
    explicit FrameDecoder(DecoderOptions options = {}) : _options(options) {}

    // Decodes `data`, calling `handler` for each event, and returns the state after it. Payload
    // bytes in `data` are unmasked in place: its contents are unspecified afterwards. Once the
    // state is not Open, feed ignores its input and returns that state.
    DecoderState feed(std::span<uint8_t> data, FrameHandler& handler);

    // Called from a handler callback: feed returns right after that callback, and later feeds
    // ignore their input. No effect unless the state is Open.
    void stop() noexcept;

    DecoderState state() const noexcept { return _state; }
    // True between the first and the last fragment of a message.
    bool in_message() const noexcept { return _in_message; }
    // Bytes of an unfinished message held in the decoder.
    std::size_t buffered() const noexcept { return _message.size(); }

  private:
    bool read_header(uint8_t*& p, const uint8_t* end, FrameHandler& handler);
    bool check_first_byte(FrameHandler& handler);
    bool check_second_byte(FrameHandler& handler);
    bool check_length(FrameHandler& handler);
    void read_payload(uint8_t*& p, uint8_t* end, FrameHandler& handler);
    void read_data_payload(uint8_t*& p, uint8_t* end, FrameHandler& handler);
    void read_control_payload(uint8_t*& p, uint8_t* end, FrameHandler& handler);
    void finish_data_frame(FrameHandler& handler);
    void deliver_control(std::span<uint8_t> payload, FrameHandler& handler);
    void deliver_close(std::span<const uint8_t> payload, FrameHandler& handler);
    void fail(uint16_t code, std::string_view reason, FrameHandler& handler);
    void end_frame() noexcept;

    DecoderOptions _options;
    DecoderState _state = DecoderState::Open;

    // The frame header being read (at most 2 + 8 + 4 bytes).
    std::array<uint8_t, 14> _header{};
    uint8_t _header_have = 0;
    uint8_t _header_size = 2;  // known once the second byte is in
    bool _in_payload = false;

    // The frame whose payload is being read.
    bool _fin = false;
    Opcode _opcode = Opcode::Continuation;
    uint64_t _remaining = 0;
    MaskKey _mask{};
    std::size_t _mask_offset = 0;

    // The data message being assembled from fragments or from a frame that spans chunks.
    bool _in_message = false;
    Opcode _message_opcode = Opcode::Binary;
    std::vector<uint8_t> _message;
    Utf8Validator _utf8;

    // A control frame that spans chunks.
    std::array<uint8_t, kMaxControlPayload> _control{};
    std::size_t _control_size = 0;
};

}  // namespace tern::websocket
