// The WebSocket fuzz seed corpus (tests/fuzz/corpus/websocket) holds these client streams, byte
// for byte. Run with TERN_WRITE_CORPUS=1 to (re)write it after changing them. Each seed is one
// options byte (see tests/fuzz/fuzz_websocket.cpp) followed by the stream.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "websocket_test_support.hpp"

namespace tern::websocket::test {

namespace {

std::filesystem::path corpus_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" /
           "corpus" / "websocket";
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Seed {
    std::string name;
    std::string bytes;  // options byte, then the stream
};

std::vector<Seed> seeds() {
    RawFrame long_frame;
    long_frame.opcode = 0x2;
    long_frame.payload = pattern(65536);
    const std::string truncated_64bit = client_frame(long_frame).substr(0, 120);
    const std::string word = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    return {
        {"rfc-hello-text", bytes({0}) + client_frame(Opcode::Text, "Hello")},
        {"fragmented-with-ping", bytes({0}) + client_frame(Opcode::Text, "Hel", false) +
                                     client_frame(Opcode::Ping, "p") +
                                     client_frame(Opcode::Continuation, "lo")},
        {"binary-16bit-length", bytes({0}) + client_frame(Opcode::Binary, pattern(300))},
        {"binary-64bit-length-truncated", bytes({0}) + truncated_64bit},
        {"utf8-split-fragments", bytes({0}) + client_frame(Opcode::Text, word.substr(0, 3), false) +
                                     client_frame(Opcode::Continuation, word.substr(3, 4), false) +
                                     client_frame(Opcode::Continuation, word.substr(7))},
        {"control-frames", bytes({0}) + client_frame(Opcode::Ping, "") +
                               client_frame(Opcode::Pong, "pong") +
                               client_frame(Opcode::Ping, std::string(125, 'x'))},
        {"close-with-reason", bytes({0}) + client_frame(Opcode::Binary, "data") +
                                  client_frame(Opcode::Close, close_payload(1000, "bye"))},
        {"close-empty", bytes({0}) + client_frame(Opcode::Close, "")},
        {"mqtt-binary-only",
         bytes({4}) + client_frame(Opcode::Binary, bytes({0x10, 0x0C}), false) +
             client_frame(Opcode::Continuation, bytes({0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
                                                       0x00, 0x3C, 0x00, 0x00}))},
        {"max-16-oversized", bytes({1}) + client_frame(Opcode::Binary, "0123456789", false) +
                                 client_frame(Opcode::Continuation, "0123456789")},
        {"invalid-utf8", bytes({0}) + client_frame(Opcode::Text, "ok") +
                             client_frame(Opcode::Text, "\xed\xa0\x80")},
        {"many-messages",
         bytes({2}) + client_frame(Opcode::Text, "a") + client_frame(Opcode::Binary, pattern(200)) +
             client_frame(Opcode::Text, "") + client_frame(Opcode::Binary, "", false) +
             client_frame(Opcode::Continuation, "z")},
    };
}

}  // namespace

TEST_CASE("The fuzz seed corpus holds every seed byte for byte") {
    const std::filesystem::path dir = corpus_dir();
    const bool write = std::getenv("TERN_WRITE_CORPUS") != nullptr;
    if (write) {
        std::filesystem::create_directories(dir);
    }
    for (const Seed& seed : seeds()) {
        const std::filesystem::path path = dir / (seed.name + ".bin");
        CAPTURE(path.string());
        if (write) {
            std::ofstream(path, std::ios::binary).write(seed.bytes.data(), seed.bytes.size());
        }
        REQUIRE(std::filesystem::exists(path));
        CHECK(read_file(path) == seed.bytes);
        CHECK(seed.bytes.size() <= 1024);
    }
}

TEST_CASE("The fuzz seeds decode to the events they were written for") {
    std::vector<Event> expected_close = {binary("data"), closed(1000, "bye")};
    for (const Seed& seed : seeds()) {
        if (seed.name == "close-with-reason") {
            CHECK(decode(seed.bytes.substr(1)).events == expected_close);
        }
        if (seed.name == "max-16-oversized") {
            DecoderOptions options;
            options.max_message_size = 16;
            const Outcome outcome = decode(seed.bytes.substr(1), options);
            CHECK(outcome.state == DecoderState::Failed);
            REQUIRE(outcome.events.size() == 1);
            CHECK(outcome.events[0].code == close_code::kMessageTooBig);
        }
        if (seed.name == "binary-64bit-length-truncated") {
            const Outcome outcome = decode(seed.bytes.substr(1));
            CHECK(outcome.state == DecoderState::Open);
            CHECK(outcome.events.empty());
            CHECK(outcome.buffered == 120 - 14);
        }
    }
}

}  // namespace tern::websocket::test
