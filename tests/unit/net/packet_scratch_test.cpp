// Tests for PacketScratch: one Packet lent frame after frame, nested frames, what it keeps.
#include "net/packet_scratch.hpp"

#include <doctest/doctest.h>

#include <span>
#include <string>
#include <variant>

#include "codec/decoder.hpp"
#include "codec/encoder.hpp"

using namespace tern::codec;
using tern::net::PacketScratch;

namespace {

// Decodes the wire form of `packet` into `out`, as Connection::handle_frame does.
void decode_into(const Packet& packet, Packet& out) {
    std::string wire;
    encode(packet, ProtocolVersion::V5, wire);
    const auto bytes = std::span(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
    FrameHeader header;
    DecodeError error;
    REQUIRE(parse_fixed_header(bytes, 0, header, error) == FrameStatus::Complete);
    REQUIRE_FALSE(
        decode_packet(header, bytes.subspan(header.header_size), ProtocolVersion::V5, out));
}

Publish publish_with_properties() {
    Publish publish{1, false, true, 7, "sensors/a", "21.5", {}};
    publish.properties.content_type = "text/plain";
    publish.properties.user_properties.emplace_back("unit", "C");
    return publish;
}

}  // namespace

TEST_CASE("Frame after frame borrows the same Packet, and each decodes as if into a fresh one") {
    PacketScratch scratch;
    const Packet* lent = nullptr;
    {
        PacketScratch::Lease lease(scratch);
        lent = &lease.packet();
        decode_into(publish_with_properties(), lease.packet());
        CHECK(lease.packet() == Packet{publish_with_properties()});
    }
    {
        PacketScratch::Lease lease(scratch);
        CHECK(&lease.packet() == lent);
        const Publish plain{0, false, false, 0, "b", "x", {}};
        decode_into(plain, lease.packet());
        // Nothing of the previous PUBLISH (properties, packet id, flags) is left over.
        CHECK(lease.packet() == Packet{plain});
    }
}

TEST_CASE("A frame handled while another one is gets a Packet of its own") {
    PacketScratch scratch;
    PacketScratch::Lease outer(scratch);
    decode_into(publish_with_properties(), outer.packet());
    {
        PacketScratch::Lease inner(scratch);
        CHECK(&inner.packet() != &outer.packet());
        decode_into(Publish{0, false, false, 0, "other", "y", {}}, inner.packet());
    }
    // The inner frame did not touch the outer one's packet.
    CHECK(outer.packet() == Packet{publish_with_properties()});
    PacketScratch::Lease after_inner(scratch);
    CHECK(&after_inner.packet() != &outer.packet());  // still lent to the outer frame
}

TEST_CASE("Only a PUBLISH is kept between frames, and not a large payload") {
    PacketScratch scratch;
    SUBCASE("another packet is dropped when its frame ends") {
        Connect connect;
        connect.client_id = "device-1";
        connect.username = "user";
        connect.password = "secret";
        {
            PacketScratch::Lease lease(scratch);
            decode_into(connect, lease.packet());
            REQUIRE(std::holds_alternative<Connect>(lease.packet()));
        }
        PacketScratch::Lease next(scratch);
        CHECK(std::holds_alternative<Pingreq>(next.packet()));
    }
    SUBCASE("a PUBLISH stays, its large payload does not") {
        {
            PacketScratch::Lease lease(scratch);
            decode_into(Publish{0, false, false, 0, "big", std::string(200 * 1024, 'p'), {}},
                        lease.packet());
        }
        {
            PacketScratch::Lease lease(scratch);
            const auto* publish = std::get_if<Publish>(&lease.packet());
            REQUIRE(publish != nullptr);
            CHECK(publish->payload.capacity() < 64 * 1024);
            decode_into(Publish{0, false, false, 0, "small", std::string(1000, 'q'), {}},
                        lease.packet());
        }
        PacketScratch::Lease lease(scratch);
        const auto* publish = std::get_if<Publish>(&lease.packet());
        REQUIRE(publish != nullptr);
        CHECK(publish->payload == std::string(1000, 'q'));  // kept for reuse as it was
    }
}
