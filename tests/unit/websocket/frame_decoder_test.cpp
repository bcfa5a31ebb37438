// FrameDecoder on valid input: every length form, masking, fragmentation, control frames, close
// frames, zero-copy delivery, and the same events whatever the chunking.
#include "websocket_test_support.hpp"

namespace tern::websocket::test {

using Kind = Event::Kind;

TEST_CASE("The masked text frame of RFC 6455 section 5.7 decodes to Hello") {
    const std::string wire =
        bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    const Outcome outcome = decode_all_ways(wire);
    CHECK(outcome.state == DecoderState::Open);
    CHECK(outcome.events == std::vector<Event>{text("Hello")});
    CHECK(outcome.buffered == 0);
}

TEST_CASE("The masked pong of RFC 6455 section 5.7 decodes to a pong carrying Hello") {
    const std::string wire =
        bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    CHECK(decode_all_ways(wire).events == std::vector<Event>{pong("Hello")});
}

TEST_CASE("Every payload length form decodes, at the edges of each form") {
    for (std::size_t size : {0, 1, 124, 125, 126, 127, 1000, 65535, 65536, 70000}) {
        CAPTURE(size);
        const std::string payload = pattern(size);
        const std::string wire = client_frame(Opcode::Binary, payload);
        const std::size_t header = size < 126 ? 6 : size <= 0xFFFF ? 8 : 14;
        REQUIRE(wire.size() == header + size);
        const Outcome outcome = decode_all_ways(wire);
        CHECK(outcome.state == DecoderState::Open);
        REQUIRE(outcome.events.size() == 1);
        CHECK(outcome.events[0].kind == Kind::Message);
        CHECK(outcome.events[0].opcode == Opcode::Binary);
        CHECK(outcome.events[0].data == payload);
    }
}

TEST_CASE("Unmasking uses the frame's own key at every payload offset") {
    const std::string payload = pattern(300);
    std::string wire;
    const MaskKey keys[] = {
        {0, 0, 0, 0}, {0xFF, 0xFF, 0xFF, 0xFF}, {1, 2, 3, 4}, {0x80, 0, 0x7F, 9}};
    for (const MaskKey& key : keys) {
        RawFrame frame;
        frame.opcode = 0x2;
        frame.payload = payload;
        frame.key = key;
        wire += client_frame(frame);
    }
    const Outcome outcome = decode_all_ways(wire);
    CHECK(outcome.events == std::vector<Event>(4, binary(payload)));
}

TEST_CASE("Several frames in one chunk come out in order") {
    const std::string wire = client_frame(Opcode::Text, "one") + client_frame(Opcode::Ping, "") +
                             client_frame(Opcode::Binary, bytes({0, 1, 2})) +
                             client_frame(Opcode::Pong, "p") + client_frame(Opcode::Text, "");
    CHECK(decode_all_ways(wire).events ==
          std::vector<Event>{text("one"), ping(""), binary(bytes({0, 1, 2})), pong("p"), text("")});
}

TEST_CASE("A fragmented message is joined, with a ping between its fragments") {
    // The example of RFC 6455 §5.4 and §5.7, masked, with an interleaved ping.
    const std::string wire = client_frame(Opcode::Text, "Hel", false) +
                             client_frame(Opcode::Ping, "are you there") +
                             client_frame(Opcode::Continuation, "lo");
    const Outcome outcome = decode_all_ways(wire);
    CHECK(outcome.events == std::vector<Event>{ping("are you there"), text("Hello")});
    CHECK(outcome.state == DecoderState::Open);
    CHECK(outcome.buffered == 0);
}

TEST_CASE("Fragments may be empty and a message may have many of them") {
    const std::string payload = pattern(500);
    std::string wire = client_frame(Opcode::Binary, "", false);
    for (std::size_t at = 0; at < payload.size(); at += 100) {
        wire += client_frame(Opcode::Continuation, payload.substr(at, 100), false);
        wire += client_frame(Opcode::Pong, std::to_string(at));
    }
    wire += client_frame(Opcode::Continuation, "");
    std::vector<Event> expected;
    for (std::size_t at = 0; at < payload.size(); at += 100) {
        expected.push_back(pong(std::to_string(at)));
    }
    expected.push_back(binary(payload));
    CHECK(decode_all_ways(wire).events == expected);
}

TEST_CASE("A decoder holds the fragments of an unfinished message and reports them") {
    FrameDecoder decoder;
    Recorder recorder;
    std::string wire = client_frame(Opcode::Binary, "abcd", false);
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(wire.data()), wire.size()}, recorder) ==
          DecoderState::Open);
    CHECK(decoder.in_message());
    CHECK(decoder.buffered() == 4);
    CHECK(recorder.events.empty());
    wire = client_frame(Opcode::Continuation, "ef");
    decoder.feed({reinterpret_cast<uint8_t*>(wire.data()), wire.size()}, recorder);
    CHECK_FALSE(decoder.in_message());
    CHECK(decoder.buffered() == 0);
    CHECK(recorder.events == std::vector<Event>{binary("abcdef")});
}

TEST_CASE("Text split inside a multi-byte character across fragments is valid") {
    // "κόσμε" with each fragment ending mid-character.
    const std::string word = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    const std::string wire = client_frame(Opcode::Text, word.substr(0, 1), false) +
                             client_frame(Opcode::Continuation, word.substr(1, 3), false) +
                             client_frame(Opcode::Ping, "x") +
                             client_frame(Opcode::Continuation, word.substr(4));
    CHECK(decode_all_ways(wire).events == std::vector<Event>{ping("x"), text(word)});
}

TEST_CASE("Text may hold any valid UTF-8, U+0000 and four-byte characters included") {
    const std::string payload = std::string("a\0b", 3) + "\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80";
    CHECK(decode_all_ways(client_frame(Opcode::Text, payload)).events ==
          std::vector<Event>{text(payload)});
}

TEST_CASE("A close frame without a body reports no status code") {
    const Outcome outcome = decode_all_ways(client_frame(Opcode::Close, ""));
    CHECK(outcome.state == DecoderState::Closed);
    CHECK(outcome.events == std::vector<Event>{closed(close_code::kNoStatus)});
}

TEST_CASE("A close frame reports every valid status code with its reason") {
    for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                          3000, 3999, 4000, 4999}) {
        CAPTURE(code);
        const Outcome outcome =
            decode_all_ways(client_frame(Opcode::Close, close_payload(code, "bye \xc3\xa9")));
        CHECK(outcome.state == DecoderState::Closed);
        CHECK(outcome.events == std::vector<Event>{closed(code, "bye \xc3\xa9")});
    }
    const std::string longest(kMaxCloseReason, 'r');
    CHECK(decode_all_ways(client_frame(Opcode::Close, close_payload(1000, longest))).events ==
          std::vector<Event>{closed(1000, longest)});
}

TEST_CASE("Nothing is decoded after a close frame") {
    const std::string wire = client_frame(Opcode::Text, "before") +
                             client_frame(Opcode::Close, close_payload(1001)) +
                             client_frame(Opcode::Text, "after") + bytes({0xFF, 0xFF});
    const Outcome outcome = decode_all_ways(wire);
    CHECK(outcome.state == DecoderState::Closed);
    CHECK(outcome.events == std::vector<Event>{text("before"), closed(1001)});
}

TEST_CASE("A close frame may arrive in the middle of a fragmented message") {
    const std::string wire = client_frame(Opcode::Text, "par", false) +
                             client_frame(Opcode::Close, close_payload(1000, "done"));
    const Outcome outcome = decode_all_ways(wire);
    CHECK(outcome.state == DecoderState::Closed);
    CHECK(outcome.events == std::vector<Event>{closed(1000, "done")});
}

TEST_CASE("A whole frame in the chunk is handed out in place, a split one from a copy") {
    std::string wire = client_frame(Opcode::Binary, "zero-copy") + client_frame(Opcode::Ping, "p") +
                       client_frame(Opcode::Binary, "split");
    const std::size_t second_start = wire.size() - client_frame(Opcode::Binary, "split").size();
    const auto* begin = reinterpret_cast<const uint8_t*>(wire.data());
    const auto* end = begin + wire.size();
    FrameDecoder decoder;
    Recorder recorder;
    // Feed all but the last two bytes: the last frame spans the two feeds.
    const std::size_t first_size = wire.size() - 2;
    decoder.feed({reinterpret_cast<uint8_t*>(wire.data()), first_size}, recorder);
    std::string rest = wire.substr(first_size);
    decoder.feed({reinterpret_cast<uint8_t*>(rest.data()), rest.size()}, recorder);
    REQUIRE(recorder.events == std::vector<Event>{binary("zero-copy"), ping("p"), binary("split")});
    // In place: the payload sits right after the 6-byte header, unmasked in the buffer.
    CHECK(recorder.pointers[0] == begin + 6);
    CHECK(wire.substr(6, 9) == "zero-copy");
    CHECK(recorder.pointers[1] == begin + 15 + 6);
    const auto* copied = recorder.pointers[2];
    CHECK((copied < begin + second_start || copied >= end));
}

TEST_CASE("Text-only and binary-only endpoints take the other kind as unsupported data") {
    DecoderOptions binary_only;
    binary_only.accept_text = false;
    CHECK(decode_all_ways(client_frame(Opcode::Binary, "ok"), binary_only).events ==
          std::vector<Event>{binary("ok")});
    Outcome outcome = decode_all_ways(client_frame(Opcode::Text, "no"), binary_only);
    CHECK(outcome.state == DecoderState::Failed);
    CHECK(outcome.events ==
          std::vector<Event>{error(close_code::kUnsupportedData,
                                   "text messages are not accepted on this endpoint")});

    DecoderOptions text_only;
    text_only.accept_binary = false;
    CHECK(decode_all_ways(client_frame(Opcode::Text, "ok"), text_only).events ==
          std::vector<Event>{text("ok")});
    outcome = decode_all_ways(client_frame(Opcode::Binary, "no"), text_only);
    CHECK(outcome.events ==
          std::vector<Event>{error(close_code::kUnsupportedData,
                                   "binary messages are not accepted on this endpoint")});
}

TEST_CASE("A handler can stop the decoder after an event") {
    std::string wire = client_frame(Opcode::Text, "first") + client_frame(Opcode::Text, "second");
    FrameDecoder decoder;
    Recorder recorder;
    recorder.stop_after_first = &decoder;
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(wire.data()), wire.size()}, recorder) ==
          DecoderState::Stopped);
    CHECK(recorder.events == std::vector<Event>{text("first")});
    std::string more = client_frame(Opcode::Text, "third");
    CHECK(decoder.feed({reinterpret_cast<uint8_t*>(more.data()), more.size()}, recorder) ==
          DecoderState::Stopped);
    CHECK(recorder.events.size() == 1);
}

TEST_CASE("A message exactly at the maximum size is accepted, also when fragmented") {
    DecoderOptions options;
    options.max_message_size = 10;
    CHECK(decode_all_ways(client_frame(Opcode::Binary, "0123456789"), options).events ==
          std::vector<Event>{binary("0123456789")});
    const std::string wire = client_frame(Opcode::Text, "01234", false) +
                             client_frame(Opcode::Ping, std::string(125, 'p')) +
                             client_frame(Opcode::Continuation, "56789");
    // Control frames do not count towards the message size.
    CHECK(decode_all_ways(wire, options).events ==
          std::vector<Event>{ping(std::string(125, 'p')), text("0123456789")});
}

}  // namespace tern::websocket::test
