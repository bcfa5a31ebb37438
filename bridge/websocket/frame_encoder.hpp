// Server-side WebSocket frame encoding (RFC 6455 §5.2): appends frames to an output buffer so the
// caller can batch several frames into one write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "websocket/protocol.hpp"

namespace tern::websocket {

// Size of the header of an unmasked frame carrying `payload_size` bytes: 2, 4 or 10 bytes, the
// length in its minimal form (§5.2).
std::size_t frame_header_size(uint64_t payload_size) noexcept;

// Appends the header of an unmasked frame (§5.1: a server never masks) to `out`; the caller
// appends the `payload_size` payload bytes after it (or writes them with a gather write).
// Throws std::invalid_argument for a control frame (close, ping, pong) that is fragmented or
// carries over 125 bytes (§5.5): that is a bug in the caller, not a peer's fault.
void append_frame_header(std::string& out, Opcode opcode, uint64_t payload_size, bool fin = true);

// Appends a whole unmasked frame: header then payload. Same preconditions as
// append_frame_header. `fin` false starts or continues a fragmented message (§5.4).
void append_frame(std::string& out, Opcode opcode, std::span<const uint8_t> payload,
                  bool fin = true);
void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true);

// Appends a close frame (§5.5.1). `code` close_code::kNoStatus, or any code that may not be sent
// (is_valid_close_code false), gives a close frame without a body. `reason` (UTF-8) is cut to
// 123 bytes at a character boundary so the frame stays a legal control frame.
void append_close(std::string& out, uint16_t code, std::string_view reason = {});

// Appends a masked frame, as a client sends it (§5.3), with the given masking key. For tests,
// benchmarks and tools that talk to the server; the server itself never masks.
void append_masked_frame(std::string& out, Opcode opcode, std::span<const uint8_t> payload,
                         const MaskKey& key, bool fin = true);

// The longest prefix of `text` of at most `max_size` bytes that does not cut a UTF-8 sequence
// (a byte 10xxxxxx never starts the rest).
std::string_view utf8_prefix(std::string_view text, std::size_t max_size) noexcept;

}  // namespace tern::websocket
