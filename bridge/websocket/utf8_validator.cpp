// Incremental UTF-8 validation following the well-formed byte sequences of Unicode table 3-7.
#include "websocket/utf8_validator.hpp"

#include <cstring>

namespace tern::websocket {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

}  // namespace

bool Utf8Validator::feed(std::span<const uint8_t> bytes) noexcept {
    if (_failed) {
        return false;
    }
    const uint8_t* p = bytes.data();
    const std::size_t size = bytes.size();
    std::size_t i = 0;
    while (i < size) {
        if (_needed == 0) {
            // Between sequences: skip ASCII eight bytes at a time, the common case for JSON.
            while (i + 8 <= size) {
                uint64_t word = 0;
                std::memcpy(&word, p + i, sizeof(word));
                if ((word & kHighBits) != 0) {
                    break;
                }
                i += 8;
            }
            if (i == size) {
                break;
            }
            const uint8_t lead = p[i++];
            if (lead < 0x80) {
                continue;
            }
            // The second byte's range depends on the lead: E0 and F0 exclude overlong forms, ED
            // excludes the surrogates D800-DFFF, F4 stops at U+10FFFF.
            if (lead >= 0xC2 && lead <= 0xDF) {
                _needed = 1;
                _lower = 0x80;
                _upper = 0xBF;
            } else if (lead >= 0xE0 && lead <= 0xEF) {
                _needed = 2;
                _lower = lead == 0xE0 ? 0xA0 : 0x80;
                _upper = lead == 0xED ? 0x9F : 0xBF;
            } else if (lead >= 0xF0 && lead <= 0xF4) {
                _needed = 3;
                _lower = lead == 0xF0 ? 0x90 : 0x80;
                _upper = lead == 0xF4 ? 0x8F : 0xBF;
            } else {
                // 80-BF cannot lead, C0/C1 are always overlong, F5-FF encode nothing.
                _failed = true;
                return false;
            }
            continue;
        }
        const uint8_t next = p[i++];
        if (next < _lower || next > _upper) {
            _failed = true;
            return false;
        }
        _lower = 0x80;
        _upper = 0xBF;
        --_needed;
    }
    return true;
}

bool is_valid_utf8(std::string_view text) noexcept {
    Utf8Validator validator;
    validator.feed({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    return validator.complete();
}

}  // namespace tern::websocket
