// Tests of tern-sub --json objects, UTF-8 detection and base64.
#include "json_message.hpp"

#include <doctest/doctest.h>

using namespace tern::tools;

TEST_CASE("a UTF-8 payload is a JSON string") {
    mqtt::message message("a/b", "h\xC3\xA9llo \"q\"\n", 1, false);
    CHECK(message_to_json(message, {}) ==
          "{\"topic\":\"a/b\",\"payload\":\"h\xC3\xA9llo \\\"q\\\"\\n\",\"qos\":1,"
          "\"retain\":false}");
}

TEST_CASE("a binary payload is base64 with an encoding key") {
    mqtt::message message("t", std::string("\xff\x00\x01", 3), 0, true);
    CHECK(message_to_json(message, {}) ==
          "{\"topic\":\"t\",\"payload\":\"/wAB\",\"encoding\":\"base64\",\"qos\":0,"
          "\"retain\":true}");
}

TEST_CASE("properties appear in the documented order") {
    mqtt::message message("t", "p", 0, false);
    MessageProperties properties;
    properties.topic_alias = 4;
    properties.payload_format_indicator = 1;
    properties.subscription_identifiers = {1, 2};
    properties.message_expiry_interval = 30;
    properties.correlation_data = std::string("\xfe", 1);
    properties.response_topic = "r";
    properties.user_properties = {{"a", "1"}, {"a", "2"}};
    properties.content_type = "ct";
    CHECK(message_to_json(message, properties) ==
          "{\"topic\":\"t\",\"payload\":\"p\",\"qos\":0,\"retain\":false,\"properties\":{"
          "\"content_type\":\"ct\",\"user_properties\":[[\"a\",\"1\"],[\"a\",\"2\"]],"
          "\"response_topic\":\"r\",\"correlation_data\":\"/g==\","
          "\"correlation_data_encoding\":\"base64\",\"message_expiry_interval\":30,"
          "\"subscription_identifiers\":[1,2],\"payload_format_indicator\":1,"
          "\"topic_alias\":4}}");
}

TEST_CASE("UTF-8 validation follows RFC 3629") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain"));
    CHECK(is_valid_utf8("\xC3\xA9"));                // é
    CHECK(is_valid_utf8("\xE2\x82\xAC"));            // €
    CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));        // 😀
    CHECK(is_valid_utf8(std::string("a\0b", 3)));    // NUL is valid UTF-8
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xC3"));              // truncated
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
    CHECK_FALSE(is_valid_utf8("\x80"));              // lone continuation
    CHECK_FALSE(is_valid_utf8("\xFF"));
}

TEST_CASE("base64 pads to four characters") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode(std::string("\xff\xfe\xfd", 3)) == "//79");
}
