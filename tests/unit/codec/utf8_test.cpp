// is_valid_mqtt_utf8: well-formed UTF-8 without surrogates or U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2].
#include "codec_test_support.hpp"

namespace tern::codec::test {

TEST_CASE("Well-formed UTF-8 strings are accepted") {
    const std::string valid[] = {
        "",
        "a/b/c",
        std::string(1000, 'x'),
        "\xC2\x80",                              // U+0080, smallest two-byte
        "\xC3\xBC",                              // ü
        "\xE2\x82\xAC",                          // €
        "\xE0\xA0\x80",                          // U+0800, smallest three-byte
        "\xED\x9F\xBF",                          // U+D7FF, just below the surrogates
        "\xEE\x80\x80",                          // U+E000, just above them
        "\xEF\xBB\xBF",                          // U+FEFF, kept as a character [MQTT-1.5.4-3]
        "\xF0\x90\x80\x80",                      // U+10000, smallest four-byte
        "\xF0\x9D\x84\x9E",                      // 𝄞
        "\xF4\x8F\xBF\xBF",                      // U+10FFFF, the largest code point
        "abcdefgh\xC3\xBCijklmnop\xE2\x82\xAC",  // multi-byte after full ASCII words
        "\x01\x1F\x7F",                          // control characters are allowed (SHOULD NOT only)
    };
    for (const std::string& text : valid) {
        CAPTURE(hex(text));
        CHECK(is_valid_mqtt_utf8(text));
    }
}

TEST_CASE("Ill-formed UTF-8 strings are rejected") {
    const std::string invalid[] = {
        std::string("\x00", 1),                  // U+0000 [MQTT-1.5.4-2]
        std::string("abcdefg\x00", 8),           // U+0000 inside an ASCII word
        std::string("abcdefghijk\x00mnop", 16),  // U+0000 in the second word
        "\x80",                                  // lone continuation byte
        "\xBF",                                  //
        "\xC0\x80",                              // overlong U+0000
        "\xC0\xAF",                              // overlong '/'
        "\xC1\xBF",                              // overlong U+007F
        "\xE0\x80\x80",                          // overlong three-byte
        "\xE0\x9F\xBF",                          // overlong U+07FF
        "\xF0\x8F\xBF\xBF",                      // overlong U+FFFF
        "\xED\xA0\x80",                          // U+D800 surrogate [MQTT-1.5.4-1]
        "\xED\xBF\xBF",                          // U+DFFF surrogate
        "\xF4\x90\x80\x80",                      // U+110000, above Unicode
        "\xF5\x80\x80\x80",                      // lead byte F5
        "\xFF",                                  //
        "\xC3",                                  // truncated two-byte
        "\xE2\x82",                              // truncated three-byte
        "\xF0\x9D\x84",                          // truncated four-byte
        "\xC3\x28",                              // bad continuation
        "\xE2\x28\xA1",                          //
        "\xE2\x82\x28",                          //
        "\xF0\x9D\x28\x9E",                      //
        "abcdefgh\xC3",                          // truncated after an ASCII word
    };
    for (const std::string& text : invalid) {
        CAPTURE(hex(text));
        CHECK_FALSE(is_valid_mqtt_utf8(text));
    }
}

}  // namespace tern::codec::test
