// Unit tests for tern-bench's PacketWriter: cached forms equal the codec's encoding.
#include "packet_writer.hpp"

#include <doctest/doctest.h>

#include <string>

#include "codec/encoder.hpp"
#include "codec/packets.hpp"

using tern::bench::PacketWriter;
using tern::codec::PacketType;
using tern::codec::ProtocolVersion;

TEST_CASE("cached acknowledgements equal the codec's encoding for every type and version") {
    for (const auto version : {ProtocolVersion::V311, ProtocolVersion::V5}) {
        const PacketWriter writer(version);
        for (const auto type :
             {PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp}) {
            for (const uint16_t id : {uint16_t{1}, uint16_t{0x1234}, uint16_t{65535}}) {
                std::string cached;
                writer.append_ack(cached, type, id);
                tern::codec::Ack ack;
                ack.type = type;
                ack.packet_id = id;
                std::string expected;
                tern::codec::encode(ack, version, expected);
                CHECK(cached == expected);
            }
        }
    }
}

TEST_CASE("PUBREL carries the reserved flags 0010 [MQTT-3.6.1-1]") {
    const PacketWriter writer(ProtocolVersion::V311);
    std::string out;
    writer.append_ack(out, PacketType::Pubrel, 7);
    CHECK(out == std::string("\x62\x02\x00\x07", 4));
}

TEST_CASE("CONNECT, SUBSCRIBE, PINGREQ and DISCONNECT are the codec's encoding") {
    for (const auto version : {ProtocolVersion::V311, ProtocolVersion::V5}) {
        const PacketWriter writer(version);
        std::string out;
        writer.append_connect(out, "tb1-p0", 30);
        tern::codec::Connect connect;
        connect.version = version;
        connect.keep_alive = 30;
        connect.client_id = "tb1-p0";
        std::string expected;
        tern::codec::encode(connect, version, expected);
        CHECK(out == expected);

        out.clear();
        expected.clear();
        writer.append_subscribe(out, 1, "bench/#", 1);
        tern::codec::Subscribe subscribe;
        subscribe.packet_id = 1;
        subscribe.entries.push_back({.filter = "bench/#", .qos = 1});
        tern::codec::encode(subscribe, version, expected);
        CHECK(out == expected);

        out.clear();
        writer.append_pingreq(out);
        CHECK(out == std::string("\xC0\x00", 2));
        out.clear();
        writer.append_disconnect(out);
        CHECK(out == std::string("\xE0\x00", 2));
    }
}
