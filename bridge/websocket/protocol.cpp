// Payload masking (RFC 6455 §5.3), eight bytes at a time: it runs over every byte a client sends.
#include "websocket/protocol.hpp"

#include <cstring>

namespace tern::websocket {

namespace {

// The key repeated over eight bytes, starting at key[offset % 4], in memory order.
uint64_t rotated_key(const MaskKey& key, std::size_t offset) noexcept {
    uint8_t bytes[8];
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[i] = key[(offset + i) & 3];
    }
    uint64_t word = 0;
    std::memcpy(&word, bytes, sizeof(word));
    return word;
}

}  // namespace

std::size_t copy_masked(const uint8_t* src, uint8_t* dst, std::size_t size, const MaskKey& key,
                        std::size_t offset) noexcept {
    std::size_t i = 0;
    if (size >= 8) {
        // Each eight-byte step advances the key position by a multiple of four: the rotated key
        // stays the same for the whole loop.
        const uint64_t word_key = rotated_key(key, offset);
        for (; i + 8 <= size; i += 8) {
            uint64_t word = 0;
            std::memcpy(&word, src + i, sizeof(word));
            word ^= word_key;
            std::memcpy(dst + i, &word, sizeof(word));
        }
    }
    for (; i < size; ++i) {
        dst[i] = static_cast<uint8_t>(src[i] ^ key[(offset + i) & 3]);
    }
    return (offset + size) & 3;
}

std::size_t apply_mask(std::span<uint8_t> data, const MaskKey& key, std::size_t offset) noexcept {
    // memcpy through a local word makes the in-place case (src == dst) well defined.
    return copy_masked(data.data(), data.data(), data.size(), key, offset);
}

}  // namespace tern::websocket
