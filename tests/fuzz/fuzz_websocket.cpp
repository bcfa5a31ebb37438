// libFuzzer target for the WebSocket frame decoder: the events must not depend on how the bytes
// are cut into chunks, must obey RFC 6455's rules, and must survive a re-encoding round trip.
//
// Input: byte 0 picks the decoder options (bits 0-1: max message size 1 MiB, 16, 200 or 70000;
// bit 2: refuse text; bit 3: refuse binary); the rest is the byte stream a client sends.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/frame_decoder.hpp"
#include "websocket/frame_encoder.hpp"
#include "websocket/protocol.hpp"

namespace {

using tern::websocket::DecoderOptions;
using tern::websocket::DecoderState;
using tern::websocket::FrameDecoder;
using tern::websocket::FrameHandler;
using tern::websocket::Opcode;
namespace close_code = tern::websocket::close_code;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_websocket: %s\n", what);
    std::abort();
}

enum class Kind : uint8_t { Message, Ping, Pong, Close, Error };

struct Event {
    Kind kind;
    Opcode opcode;
    uint16_t code;
    std::string data;
    bool operator==(const Event&) const = default;
};

struct Outcome {
    std::vector<Event> events;
    DecoderState state = DecoderState::Open;
    std::size_t buffered = 0;
    bool operator==(const Outcome&) const = default;
};

class Recorder : public FrameHandler {
  public:
    std::vector<Event> events;
    void on_message(Opcode opcode, std::span<const uint8_t> payload) override {
        events.push_back({Kind::Message, opcode, 0, copy(payload)});
    }
    void on_ping(std::span<const uint8_t> payload) override {
        events.push_back({Kind::Ping, Opcode::Ping, 0, copy(payload)});
    }
    void on_pong(std::span<const uint8_t> payload) override {
        events.push_back({Kind::Pong, Opcode::Pong, 0, copy(payload)});
    }
    void on_close(uint16_t code, std::string_view reason) override {
        events.push_back({Kind::Close, Opcode::Close, code, std::string(reason)});
    }
    void on_error(uint16_t code, std::string_view reason) override {
        events.push_back({Kind::Error, Opcode::Close, code, std::string(reason)});
    }

  private:
    static std::string copy(std::span<const uint8_t> payload) {
        return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
    }
};

// Decodes `stream` fed in the pieces that the increasing offsets `cuts` delimit.
Outcome decode(std::string_view stream, const std::vector<std::size_t>& cuts,
               const DecoderOptions& options) {
    FrameDecoder decoder(options);
    Recorder recorder;
    Outcome outcome;
    std::size_t start = 0;
    auto feed_to = [&](std::size_t stop) {
        // A fresh copy per piece: the decoder unmasks in place, and ASan sees reads past it.
        std::vector<uint8_t> piece(stream.begin() + start, stream.begin() + stop);
        outcome.state = decoder.feed(piece, recorder);
        start = stop;
    };
    for (std::size_t cut : cuts) {
        feed_to(cut);
    }
    feed_to(stream.size());
    outcome.events = std::move(recorder.events);
    outcome.buffered = decoder.buffered();
    return outcome;
}

// A UTF-8 check written differently from the library's: decode each code point, then reject
// overlong forms, surrogates and values past U+10FFFF.
bool reference_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<uint8_t>(text[i]);
        std::size_t length = 0;
        uint32_t point = 0;
        uint32_t minimum = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2, point = lead & 0x1F, minimum = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, point = lead & 0x0F, minimum = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, point = lead & 0x07, minimum = 0x10000;
        } else {
            return false;
        }
        if (text.size() - i < length) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<uint8_t>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            point = (point << 6) | (next & 0x3F);
        }
        if (point < minimum || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

void check_rules(const Outcome& outcome, const DecoderOptions& options) {
    for (std::size_t i = 0; i < outcome.events.size(); ++i) {
        const Event& event = outcome.events[i];
        const bool last = i + 1 == outcome.events.size();
        switch (event.kind) {
            case Kind::Message:
                if (event.opcode == Opcode::Text &&
                    (!options.accept_text || !reference_utf8(event.data))) {
                    fail("a text message was refused text or not UTF-8");
                }
                if (event.opcode == Opcode::Binary && !options.accept_binary) {
                    fail("a binary message on a text-only decoder");
                }
                if (event.opcode != Opcode::Text && event.opcode != Opcode::Binary) {
                    fail("a message with a control or continuation opcode");
                }
                if (event.data.size() > options.max_message_size) {
                    fail("a message over the maximum size");
                }
                break;
            case Kind::Ping:
            case Kind::Pong:
                if (event.data.size() > tern::websocket::kMaxControlPayload) {
                    fail("a control payload over 125 bytes");
                }
                break;
            case Kind::Close:
                if (!last || outcome.state != DecoderState::Closed) {
                    fail("a close event that is not the last, or a state other than Closed");
                }
                if (!(event.code == close_code::kNoStatus && event.data.empty()) &&
                    !(tern::websocket::is_valid_close_code(event.code) &&
                      event.data.size() <= tern::websocket::kMaxCloseReason &&
                      reference_utf8(event.data))) {
                    fail("a close event with a bad code or reason");
                }
                break;
            case Kind::Error:
                if (!last || outcome.state != DecoderState::Failed) {
                    fail("an error event that is not the last, or a state other than Failed");
                }
                if (event.code != close_code::kProtocolError &&
                    event.code != close_code::kUnsupportedData &&
                    event.code != close_code::kInvalidPayload &&
                    event.code != close_code::kMessageTooBig) {
                    fail("an error with an unexpected close code");
                }
                if (outcome.buffered != 0) {
                    fail("a failed decoder still holds message bytes");
                }
                break;
        }
    }
    if (outcome.state == DecoderState::Open && !outcome.events.empty() &&
        (outcome.events.back().kind == Kind::Close || outcome.events.back().kind == Kind::Error)) {
        fail("an open decoder after a close or an error");
    }
    if (outcome.buffered > options.max_message_size) {
        fail("the decoder holds more than the maximum message size");
    }
}

// Re-encodes every event but an error as a masked client frame and decodes the result: the same
// events must come out.
void check_round_trip(const Outcome& outcome, const DecoderOptions& options, uint8_t key_seed) {
    std::string wire;
    std::vector<Event> expected;
    const tern::websocket::MaskKey key = {key_seed, static_cast<uint8_t>(key_seed * 3 + 1),
                                          static_cast<uint8_t>(~key_seed), 0x5A};
    for (const Event& event : outcome.events) {
        if (event.kind == Kind::Error) {
            break;
        }
        std::string payload = event.data;
        if (event.kind == Kind::Close && event.code != close_code::kNoStatus) {
            payload = std::string{static_cast<char>(event.code >> 8),
                                  static_cast<char>(event.code & 0xFF)} +
                      event.data;
        }
        tern::websocket::append_masked_frame(
            wire, event.opcode, {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()},
            key);
        expected.push_back(event);
    }
    const Outcome again = decode(wire, {}, options);
    if (again.events != expected) {
        fail("re-encoded events decode differently");
    }
}

uint64_t hash(const uint8_t* data, std::size_t size) {
    uint64_t h = 1469598103934665603ULL;
    for (std::size_t i = 0; i < size; ++i) {
        h = (h ^ data[i]) * 1099511628211ULL;
    }
    return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    static constexpr uint64_t kMaxSizes[] = {1 << 20, 16, 200, 70000};
    DecoderOptions options;
    options.max_message_size = kMaxSizes[data[0] & 3];
    options.accept_text = (data[0] & 4) == 0;
    options.accept_binary = (data[0] & 8) == 0;
    const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

    const Outcome whole = decode(stream, {}, options);
    check_rules(whole, options);
    check_round_trip(whole, options, data[0]);

    // The same bytes cut once, in random chunks and byte by byte give the same outcome.
    uint64_t state = hash(data, size) | 1;
    auto random = [&state]() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    if (decode(stream, {static_cast<std::size_t>(random() % (stream.size() + 1))}, options) !=
        whole) {
        fail("cutting the input in two changed the events");
    }
    std::vector<std::size_t> cuts;
    const std::size_t most = 1 + random() % 64;
    for (std::size_t at = random() % most; at < stream.size(); at += 1 + random() % most) {
        cuts.push_back(at);
    }
    if (decode(stream, cuts, options) != whole) {
        fail("random chunks changed the events");
    }
    if (stream.size() <= 4096) {
        cuts.clear();
        for (std::size_t at = 1; at < stream.size(); ++at) {
            cuts.push_back(at);
        }
        if (decode(stream, cuts, options) != whole) {
            fail("feeding byte by byte changed the events");
        }
    }
    return 0;
}
