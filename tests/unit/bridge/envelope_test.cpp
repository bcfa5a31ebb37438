// The bridge's message envelope: text/JSON/binary payloads, properties, ids; base64; SSE framing.
#include "envelope.hpp"

#include <doctest/doctest.h>

#include <string>

using tern::bridge::base64_decode;
using tern::bridge::base64_encode;
using tern::bridge::envelope_json;
using tern::bridge::is_valid_utf8;
using tern::bridge::sse_event;

namespace {

// Lives until the end of the full expression that uses it (envelope_json(message(...), ...)).
const tern::core::Message& message(std::string topic, std::string_view payload,
                                   std::shared_ptr<tern::core::Message>&& keep = {}) {
    keep = tern::core::Message::create(payload);
    keep->topic = std::move(topic);
    return *keep;
}

}  // namespace

TEST_CASE("UTF-8 validation follows RFC 3629") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
    CHECK(is_valid_utf8(std::string("nul\0inside", 10)));
    CHECK_FALSE(is_valid_utf8("\xff"));
    CHECK_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
    CHECK_FALSE(is_valid_utf8("\xc3"));              // truncated
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // truncated 3-byte
}

TEST_CASE("base64 round-trips every length and refuses garbage") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode(std::string("\x00\xff\xfe", 3)) == "AP/+");
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all += static_cast<char>(i);
    }
    for (std::size_t length = 0; length <= all.size(); length += 37) {
        std::string decoded;
        REQUIRE(base64_decode(base64_encode(all.substr(0, length)), decoded));
        CHECK(decoded == all.substr(0, length));
    }
    std::string out;
    CHECK(base64_decode("Zm9vYg", out));  // padding may be left out
    CHECK(out == "foob");
    CHECK_FALSE(base64_decode("Zm9v!g==", out));
    CHECK_FALSE(base64_decode("Z", out));
    CHECK_FALSE(base64_decode("Zm9vYg=", out));  // wrong padding
    CHECK_FALSE(base64_decode("Zh==", out));     // non-zero unused bits
}

TEST_CASE("a UTF-8 payload is a string, and also json when it parses as JSON") {
    CHECK(envelope_json(message("a/b", "on"), false, 7, 1000) ==
          R"({"topic":"a/b","payload":"on","qos":0,"retain":false,"timestamp":1000})");
    CHECK(
        envelope_json(message("a/b", "21.5"), false, 7, 1000) ==
        R"({"topic":"a/b","payload":"21.5","json":21.5,"qos":0,"retain":false,"timestamp":1000})");
    CHECK(envelope_json(message("t", R"({ "x": [1, true, null] })"), true, 7, 5) ==
          R"({"topic":"t","payload":"{ \"x\": [1, true, null] }","json":{"x":[1,true,null]},)"
          R"("qos":0,"retain":true,"timestamp":5})");
    CHECK(envelope_json(message("t", "\"quoted\""), false, 1, 2) ==
          R"({"topic":"t","payload":"\"quoted\"","json":"quoted","qos":0,"retain":false,)"
          R"("timestamp":2})");
    // Empty is not JSON; a trailing comma is not JSON either (strict parser).
    CHECK(envelope_json(message("t", ""), false, 1, 2) ==
          R"({"topic":"t","payload":"","qos":0,"retain":false,"timestamp":2})");
    CHECK(envelope_json(message("t", "[1,]"), false, 1, 2) ==
          R"({"topic":"t","payload":"[1,]","qos":0,"retain":false,"timestamp":2})");
}

TEST_CASE("a binary payload is base64 with encoding") {
    CHECK(envelope_json(message("bin", std::string("\x00\xff\x10", 3)), false, 1, 9) ==
          R"({"topic":"bin","payload":"AP8Q","encoding":"base64","qos":0,"retain":false,)"
          R"("timestamp":9})");
}

TEST_CASE("id, publication time, QoS and properties when present") {
    const auto built = tern::core::Message::create("x");
    tern::core::Message& m = *built;
    m.topic = "dev/1";
    m.qos = 2;
    m.seq = 42;
    m.published_unix_ms = 1700000000123;
    tern::codec::Properties properties;
    properties.content_type = "text/plain";
    properties.user_properties = {{"b", "2"}, {"a", "1"}};
    properties.response_topic = "reply/1";
    properties.correlation_data = std::string("\x01\x02", 2);
    properties.message_expiry_interval = 60;  // not part of the envelope
    m.set_properties(std::move(properties));
    CHECK(envelope_json(m, false, 3, 5) ==
          R"({"topic":"dev/1","payload":"x","qos":2,"retain":false,"timestamp":1700000000123,)"
          R"("id":"3-42","properties":{"content_type":"text/plain",)"
          R"("user_properties":[["b","2"],["a","1"]],"response_topic":"reply/1",)"
          R"("correlation_data":"AQI="}})");
}

TEST_CASE("SSE events: optional event and id lines, one data line per line, blank line") {
    CHECK(sse_event("", "", "{}") == "data: {}\n\n");
    CHECK(sse_event("gap", "", "x") == "event: gap\ndata: x\n\n");
    CHECK(sse_event("", "5-9", "x") == "id: 5-9\ndata: x\n\n");
    CHECK(sse_event("error", "1-2", "a\nb\r\nc\rd") ==
          "event: error\nid: 1-2\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    CHECK(sse_event("", "", "") == "data: \n\n");
}
