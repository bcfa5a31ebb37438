// Shared helpers for the tern_websocket unit tests: a client-side frame builder written
// independently of the library's encoder, an event-recording handler and decoding in every
// chunking.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/frame_decoder.hpp"
#include "websocket/protocol.hpp"

namespace tern::websocket::test {

inline std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int value : values) {
        out.push_back(static_cast<char>(value));
    }
    return out;
}

inline std::string hex(std::string_view data) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : data) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0x0F]);
    }
    return out;
}

// A deterministic payload of `size` bytes covering every byte value.
inline std::string pattern(std::size_t size) {
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = static_cast<char>((i * 7 + i / 256) & 0xFF);
    }
    return out;
}

inline constexpr MaskKey kKey = {0x37, 0xFA, 0x21, 0x3D};  // the key of RFC 6455 §5.7

// Every field of a frame as a (possibly misbehaving) client could send it.
struct RawFrame {
    bool fin = true;
    uint8_t rsv = 0;  // the three RSV bits, 0-7
    uint8_t opcode = 0x1;
    std::string payload;
    bool masked = true;
    MaskKey key = kKey;
    // Length encoding: 0 minimal, or force 7, 16 or 64 bits (for non-minimal forms).
    int length_bits = 0;
    // The length written in the header, when it must differ from payload.size().
    std::optional<uint64_t> declared_length;
};

inline std::string client_frame(const RawFrame& frame) {
    const uint64_t length = frame.declared_length.value_or(frame.payload.size());
    int bits = frame.length_bits;
    if (bits == 0) {
        bits = length < 126 ? 7 : length <= 0xFFFF ? 16 : 64;
    }
    std::string out;
    out.push_back(static_cast<char>((frame.fin ? 0x80 : 0) | (frame.rsv << 4) | frame.opcode));
    const int mask_bit = frame.masked ? 0x80 : 0;
    if (bits == 7) {
        out.push_back(static_cast<char>(mask_bit | length));
    } else {
        out.push_back(static_cast<char>(mask_bit | (bits == 16 ? 126 : 127)));
        for (int shift = bits - 8; shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((length >> shift) & 0xFF));
        }
    }
    if (!frame.masked) {
        return out + frame.payload;
    }
    for (uint8_t byte : frame.key) {
        out.push_back(static_cast<char>(byte));
    }
    for (std::size_t i = 0; i < frame.payload.size(); ++i) {
        out.push_back(static_cast<char>(frame.payload[i] ^ frame.key[i % 4]));
    }
    return out;
}

inline std::string client_frame(Opcode opcode, std::string_view payload, bool fin = true) {
    RawFrame frame;
    frame.fin = fin;
    frame.opcode = static_cast<uint8_t>(opcode);
    frame.payload = payload;
    return client_frame(frame);
}

inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
    return bytes({code >> 8, code & 0xFF}) + std::string(reason);
}

// Turns unmasked server frames into the same frames masked with `key`, as a client would send
// them: an independent reading of the wire format, so encoder output can go through the decoder.
inline std::string mask_server_frames(std::string_view wire, const MaskKey& key = kKey) {
    std::string out;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        REQUIRE(wire.size() - pos >= 2);
        const auto first = static_cast<uint8_t>(wire[pos]);
        const auto second = static_cast<uint8_t>(wire[pos + 1]);
        REQUIRE((second & 0x80) == 0);  // server frames are never masked
        std::size_t extended = (second & 0x7F) == 126 ? 2 : (second & 0x7F) == 127 ? 8 : 0;
        uint64_t length = second & 0x7F;
        if (extended != 0) {
            length = 0;
            for (std::size_t i = 0; i < extended; ++i) {
                length = (length << 8) | static_cast<uint8_t>(wire[pos + 2 + i]);
            }
        }
        const std::size_t header = 2 + extended;
        REQUIRE(wire.size() - pos - header >= length);
        RawFrame frame;
        frame.fin = (first & 0x80) != 0;
        frame.rsv = (first >> 4) & 0x7;
        frame.opcode = first & 0x0F;
        frame.payload = std::string(wire.substr(pos + header, length));
        frame.key = key;
        frame.length_bits = extended == 0 ? 7 : extended == 2 ? 16 : 64;
        out += client_frame(frame);
        pos += header + length;
    }
    return out;
}

// One decoder event with its payload copied out.
struct Event {
    enum class Kind { Message, Ping, Pong, Close, Error };
    Kind kind = Kind::Message;
    Opcode opcode = Opcode::Continuation;  // Message only
    uint16_t code = 0;                     // Close and Error
    std::string data;                      // payload, close reason or error reason

    bool operator==(const Event&) const = default;
};

inline Event message(Opcode opcode, std::string_view payload) {
    return {Event::Kind::Message, opcode, 0, std::string(payload)};
}
inline Event text(std::string_view payload) {
    return message(Opcode::Text, payload);
}
inline Event binary(std::string_view payload) {
    return message(Opcode::Binary, payload);
}
inline Event ping(std::string_view payload) {
    return {Event::Kind::Ping, Opcode::Continuation, 0, std::string(payload)};
}
inline Event pong(std::string_view payload) {
    return {Event::Kind::Pong, Opcode::Continuation, 0, std::string(payload)};
}
inline Event closed(uint16_t code, std::string_view reason = {}) {
    return {Event::Kind::Close, Opcode::Continuation, code, std::string(reason)};
}
inline Event error(uint16_t code, std::string_view reason) {
    return {Event::Kind::Error, Opcode::Continuation, code, std::string(reason)};
}

inline std::ostream& operator<<(std::ostream& os, const Event& event) {
    static constexpr const char* kKinds[] = {"message", "ping", "pong", "close", "error"};
    os << kKinds[static_cast<int>(event.kind)];
    if (event.kind == Event::Kind::Message) {
        os << (event.opcode == Opcode::Text ? " text" : " binary");
    }
    if (event.kind == Event::Kind::Close || event.kind == Event::Kind::Error) {
        os << " " << event.code;
    }
    os << " [" << event.data.size() << "] "
       << (event.data.size() <= 64 ? hex(event.data) : hex(event.data.substr(0, 64)) + " ...");
    return os;
}

inline std::ostream& operator<<(std::ostream& os, const std::vector<Event>& events) {
    os << "{";
    for (const Event& event : events) {
        os << " (" << event << ")";
    }
    return os << " }";
}

inline const char* state_name(DecoderState state) {
    switch (state) {
        case DecoderState::Open:
            return "Open";
        case DecoderState::Closed:
            return "Closed";
        case DecoderState::Failed:
            return "Failed";
        case DecoderState::Stopped:
            return "Stopped";
    }
    return "?";
}

// Records every event, copying payloads (the spans die with the callback). Error reasons are
// kept too; tests usually compare codes and reasons exactly.
class Recorder : public FrameHandler {
  public:
    std::vector<Event> events;
    // Payload pointers as handed out, to check where zero-copy applies.
    std::vector<const uint8_t*> pointers;
    FrameDecoder* stop_after_first = nullptr;

    void on_message(Opcode opcode, std::span<const uint8_t> payload) override {
        record({Event::Kind::Message, opcode, 0, as_string(payload)}, payload.data());
    }
    void on_ping(std::span<const uint8_t> payload) override {
        record(ping(as_string(payload)), payload.data());
    }
    void on_pong(std::span<const uint8_t> payload) override {
        record(pong(as_string(payload)), payload.data());
    }
    void on_close(uint16_t code, std::string_view reason) override {
        record(closed(code, reason), nullptr);
    }
    void on_error(uint16_t code, std::string_view reason) override {
        record(error(code, reason), nullptr);
    }

  private:
    static std::string as_string(std::span<const uint8_t> payload) {
        return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
    }
    void record(Event event, const uint8_t* pointer) {
        events.push_back(std::move(event));
        pointers.push_back(pointer);
        if (stop_after_first != nullptr) {
            stop_after_first->stop();
        }
    }
};

struct Outcome {
    std::vector<Event> events;
    DecoderState state = DecoderState::Open;
    std::size_t buffered = 0;

    bool operator==(const Outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& outcome) {
    return os << state_name(outcome.state) << " buffered=" << outcome.buffered << " "
              << outcome.events;
}

// Decodes `wire` fed as the pieces that `cuts` (increasing offsets) delimit.
inline Outcome decode_pieces(std::string_view wire, const std::vector<std::size_t>& cuts,
                             const DecoderOptions& options = {}) {
    FrameDecoder decoder(options);
    Recorder recorder;
    Outcome outcome;
    std::size_t start = 0;
    auto feed_to = [&](std::size_t stop) {
        std::string piece(wire.substr(start, stop - start));
        outcome.state =
            decoder.feed({reinterpret_cast<uint8_t*>(piece.data()), piece.size()}, recorder);
        start = stop;
    };
    for (std::size_t cut : cuts) {
        feed_to(cut);
    }
    feed_to(wire.size());
    outcome.events = std::move(recorder.events);
    outcome.buffered = decoder.buffered();
    return outcome;
}

inline Outcome decode(std::string_view wire, const DecoderOptions& options = {}) {
    return decode_pieces(wire, {}, options);
}

// Decodes `wire` in one piece, then split in two at every offset (or at a sample of offsets for
// long inputs), byte by byte, and in random chunks; every way must give the same outcome, which
// is returned.
inline Outcome decode_all_ways(std::string_view wire, const DecoderOptions& options = {}) {
    const Outcome whole = decode(wire, options);
    std::vector<std::size_t> offsets;
    if (wire.size() <= 4096) {
        for (std::size_t i = 0; i <= wire.size(); ++i) {
            offsets.push_back(i);
        }
    } else {
        for (std::size_t i = 0; i <= 20; ++i) {
            offsets.push_back(i);
            offsets.push_back(wire.size() - i);
        }
        std::mt19937 rng(7);
        for (int i = 0; i < 50; ++i) {
            offsets.push_back(rng() % (wire.size() + 1));
        }
    }
    for (std::size_t offset : offsets) {
        CAPTURE(offset);
        CHECK(decode_pieces(wire, {offset}, options) == whole);
    }
    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < wire.size(); ++i) {
        every_byte.push_back(i);
    }
    CHECK(decode_pieces(wire, every_byte, options) == whole);
    for (unsigned seed = 1; seed <= 20; ++seed) {
        // Small chunks for the first seeds, chunks up to a quarter of the input for the rest.
        const std::size_t most = seed <= 10 ? 40 : wire.size() / 4 + 2;
        std::mt19937 rng(seed);
        std::vector<std::size_t> cuts;
        for (std::size_t at = rng() % most; at < wire.size(); at += 1 + rng() % most) {
            cuts.push_back(at);
        }
        CAPTURE(seed);
        CHECK(decode_pieces(wire, cuts, options) == whole);
    }
    return whole;
}

}  // namespace tern::websocket::test
