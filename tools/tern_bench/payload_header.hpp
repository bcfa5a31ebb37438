// The 16-byte header that starts every tern-bench payload: publisher id, sequence, send time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tern::bench {

// Layout, little-endian: bytes 0-3 publisher id, 4-7 sequence number (the first message is 1),
// 8-15 send time in CLOCK_MONOTONIC nanoseconds. The rest of the payload is filler.
struct PayloadHeader {
    uint32_t publisher_id = 0;
    uint32_t sequence = 0;
    uint64_t sent_ns = 0;
};

inline constexpr std::size_t kPayloadHeaderSize = 16;
inline constexpr std::size_t kSequenceOffset = 4;
inline constexpr std::size_t kSentTimeOffset = 8;

inline void store_le32(uint8_t* out, uint32_t value) noexcept {
    for (int i = 0; i < 4; ++i) {
        out[i] = static_cast<uint8_t>(value >> (8 * i));
    }
}

inline void store_le64(uint8_t* out, uint64_t value) noexcept {
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<uint8_t>(value >> (8 * i));
    }
}

inline uint32_t load_le32(const uint8_t* in) noexcept {
    uint32_t value = 0;
    for (int i = 3; i >= 0; --i) {
        value = (value << 8) | in[i];
    }
    return value;
}

inline uint64_t load_le64(const uint8_t* in) noexcept {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) {
        value = (value << 8) | in[i];
    }
    return value;
}

inline void write_payload_header(uint8_t* out, const PayloadHeader& header) noexcept {
    store_le32(out, header.publisher_id);
    store_le32(out + kSequenceOffset, header.sequence);
    store_le64(out + kSentTimeOffset, header.sent_ns);
}

// False when the payload is too short to hold a header (not a tern-bench message).
inline bool read_payload_header(std::span<const uint8_t> payload, PayloadHeader& out) noexcept {
    if (payload.size() < kPayloadHeaderSize) {
        return false;
    }
    out.publisher_id = load_le32(payload.data());
    out.sequence = load_le32(payload.data() + kSequenceOffset);
    out.sent_ns = load_le64(payload.data() + kSentTimeOffset);
    return true;
}

}  // namespace tern::bench
