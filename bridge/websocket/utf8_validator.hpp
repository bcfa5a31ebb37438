// Incremental UTF-8 validation for text messages and close reasons (RFC 6455 §5.6, §8.1).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace tern::websocket {

// Checks that bytes fed in any number of pieces form well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF; U+0000 is allowed). It fails at the first byte
// that cannot start or continue a valid sequence, so a text message is rejected as soon as the bad
// byte arrives rather than when the message ends ("fail fast", §8.1).
class Utf8Validator {
  public:
    // Feeds the next bytes. Returns false once the input can no longer be valid UTF-8; the
    // validator then stays failed until reset().
    bool feed(std::span<const uint8_t> bytes) noexcept;

    // True when everything fed so far is valid and no multi-byte sequence is cut off at the end.
    bool complete() const noexcept { return !_failed && _needed == 0; }
    bool failed() const noexcept { return _failed; }
    void reset() noexcept { *this = Utf8Validator(); }

  private:
    uint8_t _needed = 0;    // continuation bytes still expected in the current sequence
    uint8_t _lower = 0x80;  // allowed range of the next continuation byte
    uint8_t _upper = 0xBF;
    bool _failed = false;
};

// One-shot check of a whole string.
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace tern::websocket
