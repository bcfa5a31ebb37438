// FrameDecoder on broken input: each violation of RFC 6455 fails with its close code and reason,
// whatever the chunking, after the events of the frames before it.
#include "websocket_test_support.hpp"

namespace tern::websocket::test {

namespace {

constexpr std::string_view kRsv = "RSV bit set without a negotiated extension (RFC 6455 §5.2)";
constexpr std::string_view kOpcode = "reserved opcode (RFC 6455 §5.2)";
constexpr std::string_view kFragmentedControl = "fragmented control frame (RFC 6455 §5.5)";
constexpr std::string_view kLongControl = "control frame payload over 125 bytes (RFC 6455 §5.5)";
constexpr std::string_view kUnmasked = "client frame not masked (RFC 6455 §5.1)";
constexpr std::string_view kNotMinimal = "payload length not in its minimal form (RFC 6455 §5.2)";
constexpr std::string_view kTopBit =
    "64-bit payload length with its most significant bit set (RFC 6455 §5.2)";
constexpr std::string_view kOrphan =
    "continuation frame without a message to continue (RFC 6455 §5.4)";
constexpr std::string_view kInterleaved =
    "new data message before the fragmented one ended (RFC 6455 §5.4)";
constexpr std::string_view kTooBig = "message over the maximum message size";
constexpr std::string_view kBadText = "text message is not valid UTF-8 (RFC 6455 §8.1)";
constexpr std::string_view kShortClose =
    "close frame body shorter than its two-byte status code (RFC 6455 §5.5.1)";
constexpr std::string_view kCloseCode = "invalid close status code (RFC 6455 §7.4)";
constexpr std::string_view kCloseReason = "close reason is not valid UTF-8 (RFC 6455 §5.5.1)";

// Decodes a valid text frame followed by `bad` and expects the text, the events `before` (of
// the frames in `bad` ahead of the broken one), then the error.
void expect_failure(const std::string& bad, uint16_t code, std::string_view reason,
                    const DecoderOptions& options = {}, const std::vector<Event>& before = {}) {
    const Outcome outcome = decode_all_ways(client_frame(Opcode::Text, "ok") + bad, options);
    std::vector<Event> expected = {text("ok")};
    expected.insert(expected.end(), before.begin(), before.end());
    expected.push_back(error(code, reason));
    CHECK(outcome.state == DecoderState::Failed);
    CHECK(outcome.events == expected);
    CHECK(outcome.buffered == 0);
}

RawFrame raw(uint8_t opcode, std::string payload) {
    RawFrame frame;
    frame.opcode = opcode;
    frame.payload = std::move(payload);
    return frame;
}

}  // namespace

TEST_CASE("Each RSV bit without an extension is a protocol error") {
    for (uint8_t rsv = 1; rsv <= 7; ++rsv) {
        CAPTURE(int(rsv));
        RawFrame frame = raw(0x1, "x");
        frame.rsv = rsv;
        expect_failure(client_frame(frame), close_code::kProtocolError, kRsv);
    }
}

TEST_CASE("Every reserved opcode is a protocol error") {
    for (uint8_t opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        CAPTURE(int(opcode));
        expect_failure(client_frame(raw(opcode, "")), close_code::kProtocolError, kOpcode);
    }
}

TEST_CASE("An unmasked client frame is a protocol error") {
    // The unmasked "Hello" of RFC 6455 §5.7.
    expect_failure(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), close_code::kProtocolError,
                   kUnmasked);
    RawFrame ping = raw(0x9, "");
    ping.masked = false;
    expect_failure(client_frame(ping), close_code::kProtocolError, kUnmasked);
}

TEST_CASE("A fragmented or long control frame is a protocol error") {
    for (uint8_t opcode : {0x8, 0x9, 0xA}) {
        CAPTURE(int(opcode));
        RawFrame fragmented = raw(opcode, "");
        fragmented.fin = false;
        expect_failure(client_frame(fragmented), close_code::kProtocolError, kFragmentedControl);
        expect_failure(client_frame(raw(opcode, std::string(126, 'c'))), close_code::kProtocolError,
                       kLongControl);
        // 125 bytes in the 16-bit form is caught by the short length byte (126 > 125) too.
        RawFrame long_form = raw(opcode, std::string(125, 'c'));
        long_form.length_bits = 16;
        expect_failure(client_frame(long_form), close_code::kProtocolError, kLongControl);
    }
}

TEST_CASE("A length not in its minimal form is a protocol error") {
    RawFrame frame = raw(0x2, std::string(125, 'b'));
    frame.length_bits = 16;
    expect_failure(client_frame(frame), close_code::kProtocolError, kNotMinimal);
    frame.payload = "";
    expect_failure(client_frame(frame), close_code::kProtocolError, kNotMinimal);
    frame.payload = std::string(65535, 'b');
    frame.length_bits = 64;
    expect_failure(client_frame(frame), close_code::kProtocolError, kNotMinimal);
    frame.payload = std::string(200, 'b');
    expect_failure(client_frame(frame), close_code::kProtocolError, kNotMinimal);
}

TEST_CASE("A 64-bit length with its top bit set is a protocol error before any payload") {
    RawFrame frame = raw(0x2, "");
    frame.declared_length = 0x8000000000000000ULL;
    expect_failure(client_frame(frame), close_code::kProtocolError, kTopBit);
    frame.declared_length = ~0ULL;
    expect_failure(client_frame(frame), close_code::kProtocolError, kTopBit);
}

TEST_CASE("Fragments out of order are protocol errors") {
    expect_failure(client_frame(Opcode::Continuation, "x"), close_code::kProtocolError, kOrphan);
    expect_failure(client_frame(Opcode::Text, "a", false) + client_frame(Opcode::Text, "b"),
                   close_code::kProtocolError, kInterleaved);
    expect_failure(client_frame(Opcode::Binary, "a", false) + client_frame(Opcode::Binary, "b"),
                   close_code::kProtocolError, kInterleaved);
    // A finished message leaves nothing to continue.
    expect_failure(client_frame(Opcode::Binary, "a") + client_frame(Opcode::Continuation, "b"),
                   close_code::kProtocolError, kOrphan, {}, {binary("a")});
}

TEST_CASE("A message over the maximum size fails with 1009") {
    DecoderOptions options;
    options.max_message_size = 10;
    expect_failure(client_frame(Opcode::Binary, "0123456789A"), close_code::kMessageTooBig, kTooBig,
                   options);
    expect_failure(client_frame(Opcode::Text, "012345", false) + client_frame(Opcode::Ping, "") +
                       client_frame(Opcode::Continuation, "6789", false) +
                       client_frame(Opcode::Continuation, "A"),
                   close_code::kMessageTooBig, kTooBig, options, {ping("")});
    // A length near 2^63 does not overflow the check.
    RawFrame huge = raw(0x2, "");
    huge.declared_length = 0x7FFFFFFFFFFFFFFFULL;
    expect_failure(client_frame(huge), close_code::kMessageTooBig, kTooBig);
}

TEST_CASE("An oversized message fails as soon as its header arrives, before the payload") {
    DecoderOptions options;
    options.max_message_size = 1000;
    FrameDecoder decoder(options);
    Recorder recorder;
    std::string header = client_frame(Opcode::Binary, std::string(1001, 'x')).substr(0, 8);
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(header.data()), header.size()}, recorder) ==
          DecoderState::Failed);
    CHECK(recorder.events == std::vector<Event>{error(close_code::kMessageTooBig, kTooBig)});
}

TEST_CASE("Invalid UTF-8 in a text message fails with 1007") {
    // A surrogate at the end of "κόσμε" (Autobahn 6.3.1), an overlong slash, a lone continuation.
    for (const std::string& bad :
         {std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
          std::string("\xc0\xaf"), std::string("abc\x80"), std::string("\xf4\x90\x80\x80"),
          std::string("\xff")}) {
        CAPTURE(hex(bad));
        expect_failure(client_frame(Opcode::Text, bad), close_code::kInvalidPayload, kBadText);
    }
    // Cut off at the end of the message.
    expect_failure(client_frame(Opcode::Text, "\xe2\x82"), close_code::kInvalidPayload, kBadText);
}

TEST_CASE("Invalid UTF-8 split across fragments fails with 1007") {
    // A two-byte lead, then an ASCII byte in the next fragment.
    expect_failure(client_frame(Opcode::Text, "\xce", false) + client_frame(Opcode::Ping, "") +
                       client_frame(Opcode::Continuation, "A"),
                   close_code::kInvalidPayload, kBadText, {}, {ping("")});
    // A character still cut off when the final fragment ends.
    expect_failure(
        client_frame(Opcode::Text, "a\xf0\x9f", false) + client_frame(Opcode::Continuation, "\x98"),
        close_code::kInvalidPayload, kBadText);
    // Binary messages are not checked.
    CHECK(decode_all_ways(client_frame(Opcode::Binary, "\xce", false) +
                          client_frame(Opcode::Continuation, "A"))
              .events == std::vector<Event>{binary("\xce"
                                                   "A")});
}

TEST_CASE("Invalid UTF-8 fails at once, before the message or the frame ends") {
    FrameDecoder decoder;
    Recorder recorder;
    // The first fragment is bad: no need to wait for the others.
    std::string wire = client_frame(Opcode::Text, "ab\xff", false);
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(wire.data()), wire.size()}, recorder) ==
          DecoderState::Failed);
    CHECK(recorder.events == std::vector<Event>{error(close_code::kInvalidPayload, kBadText)});

    // Only part of a long frame has arrived, and it is already bad.
    FrameDecoder second;
    Recorder second_recorder;
    std::string partial = client_frame(Opcode::Text, "\xc0" + std::string(200, 'a')).substr(0, 12);
    CHECK(second.feed({reinterpret_cast<uint8_t*>(partial.data()), partial.size()},
                      second_recorder) == DecoderState::Failed);
    CHECK(second_recorder.events ==
          std::vector<Event>{error(close_code::kInvalidPayload, kBadText)});
}

TEST_CASE("A close frame with a one-byte body is a protocol error") {
    expect_failure(client_frame(Opcode::Close, bytes({0x03})), close_code::kProtocolError,
                   kShortClose);
}

TEST_CASE("A close frame with a status code that may not be sent is a protocol error") {
    for (uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        CAPTURE(code);
        expect_failure(client_frame(Opcode::Close, close_payload(code)), close_code::kProtocolError,
                       kCloseCode);
    }
}

TEST_CASE("A close reason that is not UTF-8 fails with 1007") {
    expect_failure(client_frame(Opcode::Close, close_payload(1000, "bad \xff")),
                   close_code::kInvalidPayload, kCloseReason);
    expect_failure(client_frame(Opcode::Close, close_payload(1000, "cut \xe2\x82")),
                   close_code::kInvalidPayload, kCloseReason);
}

TEST_CASE("Nothing is decoded after an error") {
    const std::string wire = client_frame(raw(0x3, "")) + client_frame(Opcode::Text, "later");
    FrameDecoder decoder;
    Recorder recorder;
    std::string copy = wire;
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(copy.data()), copy.size()}, recorder) ==
          DecoderState::Failed);
    copy = client_frame(Opcode::Text, "more");
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(copy.data()), copy.size()}, recorder) ==
          DecoderState::Failed);
    CHECK(recorder.events == std::vector<Event>{error(close_code::kProtocolError, kOpcode)});
}

}  // namespace tern::websocket::test
