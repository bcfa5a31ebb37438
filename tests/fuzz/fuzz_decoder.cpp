// libFuzzer target for the MQTT decoder: every decoded packet must re-encode to bytes that decode
// to an equal packet, and cutting the input in two must not change what comes out.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/decoder.hpp"
#include "codec/encoder.hpp"

namespace {

using tern::codec::Connect;
using tern::codec::DecodeError;
using tern::codec::FrameHeader;
using tern::codec::FrameStatus;
using tern::codec::Packet;
using tern::codec::ProtocolVersion;
using tern::codec::StreamDecoder;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_decoder: %s\n", what);
    std::abort();
}

// Encodes `packet` for `version`, decodes the bytes again and demands the same packet and, on a
// second encoding, the same bytes.
void check_round_trip(const Packet& packet, ProtocolVersion version) {
    std::string wire;
    tern::codec::encode(packet, version, wire);
    const auto* data = reinterpret_cast<const uint8_t*>(wire.data());
    FrameHeader header;
    DecodeError error;
    if (tern::codec::parse_fixed_header({data, wire.size()}, 0, header, error) !=
            FrameStatus::Complete ||
        header.total_size() != wire.size()) {
        fail("re-encoded packet has a bad fixed header");
    }
    Packet again;
    if (auto failure = tern::codec::decode_packet(
            header, {data + header.header_size, header.remaining_length}, version, again)) {
        std::fprintf(stderr, "reason: %s\n", failure->reason.c_str());
        fail("re-encoded packet does not decode");
    }
    if (!(again == packet)) {
        fail("re-decoded packet differs from the first decoding");
    }
    std::string wire_again;
    tern::codec::encode(again, version, wire_again);
    if (wire_again != wire) {
        fail("encoding is not deterministic");
    }
}

struct Outcome {
    std::vector<Packet> packets;
    FrameStatus last = FrameStatus::NeedMore;
    DecodeError error;
};

void drain(StreamDecoder& decoder, Outcome& outcome) {
    for (;;) {
        Packet packet;
        outcome.last = decoder.next(packet, outcome.error);
        if (outcome.last != FrameStatus::Complete) {
            return;
        }
        outcome.packets.push_back(std::move(packet));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (ProtocolVersion version :
         {ProtocolVersion::V31, ProtocolVersion::V311, ProtocolVersion::V5}) {
        Outcome whole;
        StreamDecoder decoder(version);
        decoder.feed(input);
        drain(decoder, whole);

        // Every packet round-trips in the version it was decoded with; a CONNECT switches the
        // stream to its own version for the packets after it.
        ProtocolVersion current = version;
        for (const Packet& packet : whole.packets) {
            check_round_trip(packet, current);
            if (const auto* connect = std::get_if<Connect>(&packet)) {
                current = connect->version;
            }
        }

        // The same bytes in two pieces give the same packets and the same ending.
        const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
        Outcome split;
        StreamDecoder pieces(version);
        pieces.feed(input.substr(0, cut));
        drain(pieces, split);
        if (split.last != FrameStatus::Error) {
            pieces.feed(input.substr(cut));
            drain(pieces, split);
        }
        if (split.packets != whole.packets || split.last != whole.last ||
            (whole.last == FrameStatus::Error && split.error.code != whole.error.code)) {
            fail("splitting the input changed the decoded stream");
        }
    }
    return 0;
}
