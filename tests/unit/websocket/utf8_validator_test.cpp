// Utf8Validator: the boundaries of every well-formed byte sequence, fed whole and byte by byte.
#include "websocket/utf8_validator.hpp"

#include "websocket_test_support.hpp"

namespace tern::websocket::test {

namespace {

// Feeds `text` one byte at a time; returns the index of the byte that failed, or -1.
int first_bad_byte(std::string_view text) {
    Utf8Validator validator;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!validator.feed({reinterpret_cast<const uint8_t*>(text.data() + i), 1})) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

bool valid_bytewise(std::string_view text) {
    Utf8Validator validator;
    for (char c : text) {
        validator.feed({reinterpret_cast<const uint8_t*>(&c), 1});
    }
    return validator.complete();
}

}  // namespace

TEST_CASE("Every boundary of the well-formed UTF-8 sequences is accepted") {
    for (const std::string& text :
         {std::string(""), std::string("plain ascii"), std::string("\0", 1), std::string("\x7f"),
          std::string("\xc2\x80"), std::string("\xdf\xbf"), std::string("\xe0\xa0\x80"),
          std::string("\xed\x9f\xbf"), std::string("\xee\x80\x80"), std::string("\xef\xbf\xbf"),
          std::string("\xf0\x90\x80\x80"), std::string("\xf4\x8f\xbf\xbf"),
          std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")}) {
        CAPTURE(hex(text));
        CHECK(is_valid_utf8(text));
        CHECK(valid_bytewise(text));
    }
}

TEST_CASE("Overlong forms, surrogates, values past U+10FFFF and stray bytes are rejected") {
    struct Case {
        std::string text;
        int bad_at;  // the byte at which the validator fails
    };
    const Case cases[] = {
        {"\xc0\x80", 0},
        {"\xc1\xbf", 0},
        {"\xe0\x9f\xbf", 1},
        {"\xed\xa0\x80", 1},
        {"\xed\xbf\xbf", 1},
        {"\xf0\x8f\xbf\xbf", 1},
        {"\xf4\x90\x80\x80", 1},
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"\x80", 0},
        {"a\xbf", 1},
        {"\xc2\x41", 1},
        {"\xe2\x82\x41", 2},
        {"\xf0\x9f\x98\xc0", 3},
        {"\xc2\x80\x80", 2},
    };
    for (const Case& c : cases) {
        CAPTURE(hex(c.text));
        CHECK_FALSE(is_valid_utf8(c.text));
        CHECK(first_bad_byte(c.text) == c.bad_at);
    }
}

TEST_CASE("A sequence cut off at the end is incomplete, not yet failed") {
    Utf8Validator validator;
    const std::string head = "ab\xe2\x82";
    CHECK(validator.feed({reinterpret_cast<const uint8_t*>(head.data()), head.size()}));
    CHECK_FALSE(validator.failed());
    CHECK_FALSE(validator.complete());
    const std::string tail = "\xac";
    CHECK(validator.feed({reinterpret_cast<const uint8_t*>(tail.data()), tail.size()}));
    CHECK(validator.complete());
}

TEST_CASE("A failed validator stays failed until reset") {
    Utf8Validator validator;
    const std::string bad = "\xff";
    const std::string good = "ok";
    CHECK_FALSE(validator.feed({reinterpret_cast<const uint8_t*>(bad.data()), bad.size()}));
    CHECK_FALSE(validator.feed({reinterpret_cast<const uint8_t*>(good.data()), good.size()}));
    CHECK(validator.failed());
    CHECK_FALSE(validator.complete());
    validator.reset();
    CHECK(validator.feed({reinterpret_cast<const uint8_t*>(good.data()), good.size()}));
    CHECK(validator.complete());
}

TEST_CASE("Long ASCII runs around a bad byte are checked at every position") {
    for (std::size_t at = 0; at < 40; ++at) {
        CAPTURE(at);
        std::string text(40, 'a');
        text[at] = '\x80';
        CHECK_FALSE(is_valid_utf8(text));
        CHECK(first_bad_byte(text) == static_cast<int>(at));
        text[at] = 'b';
        CHECK(is_valid_utf8(text + "\xe2\x82\xac" + text));
    }
}

}  // namespace tern::websocket::test
