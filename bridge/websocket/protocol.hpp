// RFC 6455 wire constants shared by the decoder, the encoder and the close handshake.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tern::websocket {

// Frame opcodes (RFC 6455 §5.2, §11.8). Every other value is reserved and fails the connection.
enum class Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// Close status codes used by this library (RFC 6455 §7.4.1, IANA registry §11.7).
namespace close_code {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
// Never sent on the wire: reported when a close frame carries no status code (§7.1.5).
inline constexpr uint16_t kNoStatus = 1005;
// Never sent on the wire: the connection closed without a close frame (§7.1.5).
inline constexpr uint16_t kAbnormal = 1006;
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kInternalError = 1011;
}  // namespace close_code

// Largest payload of a control frame (§5.5): 125 bytes, so the length fits the 7-bit form.
inline constexpr std::size_t kMaxControlPayload = 125;
// Largest close reason: the control payload minus the two-byte status code (§5.5.1).
inline constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;
// The value appended to Sec-WebSocket-Key before hashing (§1.3, §4.2.2).
inline constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

using MaskKey = std::array<uint8_t, 4>;

// True for the opcodes this library knows (§5.2): continuation, text, binary, close, ping, pong.
constexpr bool is_known_opcode(uint8_t opcode) noexcept {
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

// Control frames have the high bit of the opcode set (§5.5).
constexpr bool is_control(Opcode opcode) noexcept {
    return (static_cast<uint8_t>(opcode) & 0x8) != 0;
}

// True when `code` may appear in a close frame (§7.4): 1000-1003, 1007-1014 (registered codes;
// 1004, 1005, 1006 and 1015 are reserved or must never be sent) and 3000-4999 (libraries,
// frameworks and applications). 0-999 and 1016-2999 are not used, 5000+ is undefined.
constexpr bool is_valid_close_code(uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

// XORs `data` with `key` (§5.3), where data[0] is payload byte number `offset` of its frame (so a
// payload can be unmasked in pieces). Returns the offset of the byte after `data`, modulo 4.
std::size_t apply_mask(std::span<uint8_t> data, const MaskKey& key, std::size_t offset) noexcept;

// Writes `src` masked as apply_mask does to `dst` (`size` bytes each). `dst` may equal `src` but
// may not overlap it otherwise.
std::size_t copy_masked(const uint8_t* src, uint8_t* dst, std::size_t size, const MaskKey& key,
                        std::size_t offset) noexcept;

}  // namespace tern::websocket
