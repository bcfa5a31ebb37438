// Frame encoding: exact bytes for each length form and frame kind, and round trips through a
// client-side masking helper into the decoder.
#include "websocket/frame_encoder.hpp"

#include <stdexcept>

#include "websocket_test_support.hpp"

namespace tern::websocket::test {

namespace {

std::string frame(Opcode opcode, std::string_view payload, bool fin = true) {
    std::string out;
    append_frame(out, opcode, payload, fin);
    return out;
}

}  // namespace

TEST_CASE("Server frames match the unmasked examples of RFC 6455 section 5.7") {
    CHECK(hex(frame(Opcode::Text, "Hello")) == "81 05 48 65 6C 6C 6F");
    CHECK(hex(frame(Opcode::Text, "Hel", false)) == "01 03 48 65 6C");
    CHECK(hex(frame(Opcode::Continuation, "lo")) == "80 02 6C 6F");
    CHECK(hex(frame(Opcode::Ping, "Hello")) == "89 05 48 65 6C 6C 6F");
    CHECK(hex(frame(Opcode::Pong, "")) == "8A 00");
    CHECK(hex(frame(Opcode::Binary, pattern(256)).substr(0, 4)) == "82 7E 01 00");
    const std::string big = frame(Opcode::Binary, pattern(65536));
    CHECK(hex(big.substr(0, 10)) == "82 7F 00 00 00 00 00 01 00 00");
    CHECK(big.size() == 10 + 65536);
    CHECK(big.substr(10) == pattern(65536));
}

TEST_CASE("Lengths use the minimal form at the edges of each form") {
    CHECK(frame_header_size(0) == 2);
    CHECK(frame_header_size(125) == 2);
    CHECK(frame_header_size(126) == 4);
    CHECK(frame_header_size(65535) == 4);
    CHECK(frame_header_size(65536) == 10);
    CHECK(hex(frame(Opcode::Binary, pattern(125)).substr(0, 2)) == "82 7D");
    CHECK(hex(frame(Opcode::Binary, pattern(126)).substr(0, 4)) == "82 7E 00 7E");
    CHECK(hex(frame(Opcode::Binary, pattern(65535)).substr(0, 4)) == "82 7E FF FF");
    std::string header;
    append_frame_header(header, Opcode::Binary, 0x0123456789ULL);
    CHECK(hex(header) == "82 7F 00 00 00 01 23 45 67 89");
}

TEST_CASE("Frames append to what the output buffer already holds") {
    std::string out = "x";
    append_frame(out, Opcode::Text, "a");
    append_frame_header(out, Opcode::Binary, 2, false);
    out += "bc";
    append_close(out, 1000);
    CHECK(hex(out) == "78 81 01 61 02 02 62 63 88 02 03 E8");
}

TEST_CASE("Close frames carry the code and the reason, or no body for no code") {
    std::string out;
    append_close(out, 1001, "bye");
    CHECK(hex(out) == "88 05 03 E9 62 79 65");
    for (uint16_t code : {close_code::kNoStatus, close_code::kAbnormal, uint16_t{1015}, uint16_t{0},
                          uint16_t{5000}}) {
        CAPTURE(code);
        out.clear();
        append_close(out, code, "ignored");
        CHECK(hex(out) == "88 00");
    }
}

TEST_CASE("A long close reason is cut to 123 bytes at a character boundary") {
    std::string out;
    append_close(out, 1000, std::string(200, 'r'));
    CHECK(out.size() == 2 + 125);
    CHECK(out.substr(4) == std::string(123, 'r'));

    // 122 ASCII bytes then "é" (2 bytes): the "é" would end at byte 124, so it goes.
    const std::string reason = std::string(122, 'r') + "\xc3\xa9";
    out.clear();
    append_close(out, 1000, reason);
    CHECK(out.size() == 2 + 2 + 122);
    CHECK(out.substr(4) == std::string(122, 'r'));

    CHECK(utf8_prefix("ab\xe2\x82\xac", 4) == "ab");
    CHECK(utf8_prefix("ab\xe2\x82\xac", 5) == "ab\xe2\x82\xac");
    CHECK(utf8_prefix("ab\xe2\x82\xac", 2) == "ab");
    CHECK(utf8_prefix("abc", 0) == "");
}

TEST_CASE("A control frame that is too long or fragmented is refused") {
    std::string out;
    CHECK_THROWS_AS(append_frame(out, Opcode::Ping, std::string(126, 'p')), std::invalid_argument);
    CHECK_THROWS_AS(append_frame(out, Opcode::Pong, "p", false), std::invalid_argument);
    CHECK_THROWS_AS(append_frame_header(out, Opcode::Close, 126), std::invalid_argument);
    CHECK_THROWS_AS(append_frame(out, static_cast<Opcode>(3), "x"), std::invalid_argument);
    CHECK(out.empty());
    append_frame(out, Opcode::Ping, std::string(125, 'p'));
    CHECK(out.size() == 127);
}

TEST_CASE("Masked client frames match the masked examples of RFC 6455 section 5.7") {
    std::string out;
    const std::string hello = "Hello";
    append_masked_frame(out, Opcode::Text,
                        {reinterpret_cast<const uint8_t*>(hello.data()), hello.size()}, kKey);
    CHECK(hex(out) == "81 85 37 FA 21 3D 7F 9F 4D 51 58");
    for (std::size_t size : {0, 3, 8, 125, 126, 1000, 65536}) {
        CAPTURE(size);
        const std::string payload = pattern(size);
        out.clear();
        append_masked_frame(out, Opcode::Binary,
                            {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()},
                            {9, 8, 7, 6}, false);
        RawFrame expected;
        expected.fin = false;
        expected.opcode = 0x2;
        expected.payload = payload;
        expected.key = {9, 8, 7, 6};
        CHECK(out == client_frame(expected));
    }
}

TEST_CASE("Encoded frames round-trip through client masking and the decoder") {
    std::string server;
    append_frame(server, Opcode::Text, "h\xc3\xa9llo");
    append_frame(server, Opcode::Binary, pattern(126));
    append_frame(server, Opcode::Binary, pattern(65536));
    append_frame(server, Opcode::Text, "fr", false);
    append_frame(server, Opcode::Ping, "mid");
    append_frame(server, Opcode::Continuation, "ag", false);
    append_frame(server, Opcode::Continuation, "ment");
    append_frame(server, Opcode::Pong, "");
    append_close(server, 4000, "done");
    const std::string client = mask_server_frames(server, {0xA1, 0x00, 0x5C, 0xFF});
    const Outcome outcome = decode_all_ways(client);
    CHECK(outcome.state == DecoderState::Closed);
    CHECK(outcome.events == std::vector<Event>{text("h\xc3\xa9llo"), binary(pattern(126)),
                                               binary(pattern(65536)), ping("mid"),
                                               text("fragment"), pong(""), closed(4000, "done")});
}

}  // namespace tern::websocket::test
