// Unit tests for tern-bench's PublishTemplate and packet views, checked against tern_codec.
#include "publish_template.hpp"

#include <doctest/doctest.h>

#include <span>
#include <string>

#include "codec/decoder.hpp"
#include "packet_view.hpp"
#include "payload_header.hpp"

using namespace tern::bench;
using tern::codec::ProtocolVersion;

namespace {

tern::codec::Publish decode_one(const std::string& bytes, ProtocolVersion version) {
    tern::codec::StreamDecoder decoder(version);
    decoder.feed(std::string_view(bytes));
    tern::codec::Packet packet;
    tern::codec::DecodeError error;
    REQUIRE(decoder.next(packet, error) == tern::codec::FrameStatus::Complete);
    REQUIRE(decoder.buffered() == 0);
    return std::get<tern::codec::Publish>(packet);
}

std::span<const uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

TEST_CASE("a stamped PUBLISH decodes with the codec to the topic, id, sequence and time") {
    for (const auto version : {ProtocolVersion::V311, ProtocolVersion::V5}) {
        for (uint8_t qos = 0; qos <= 2; ++qos) {
            CAPTURE(static_cast<int>(version));
            CAPTURE(static_cast<int>(qos));
            const PublishTemplate publish("bench/7", qos, 64, 7, version);
            std::string out = "prefix";
            publish.append(out, 42, 0x0102030405060708ull, 0xBEEF);
            publish.append(out, 43, 99, 0x0001);
            REQUIRE(out.size() == 6 + 2 * publish.packet_size());

            const std::string first = out.substr(6, publish.packet_size());
            const auto decoded = decode_one(first, version);
            CHECK(decoded.topic == "bench/7");
            CHECK(decoded.qos == qos);
            CHECK(decoded.packet_id == (qos > 0 ? 0xBEEF : 0));
            CHECK(decoded.payload.size() == 64);
            PayloadHeader header;
            REQUIRE(read_payload_header(bytes_of(decoded.payload), header));
            CHECK(header.publisher_id == 7);
            CHECK(header.sequence == 42);
            CHECK(header.sent_ns == 0x0102030405060708ull);

            const auto second = decode_one(out.substr(6 + publish.packet_size()), version);
            REQUIRE(read_payload_header(bytes_of(second.payload), header));
            CHECK(header.sequence == 43);
            CHECK(header.sent_ns == 99);
        }
    }
}

TEST_CASE("parse_publish_view finds the packet id and payload the codec finds") {
    for (const auto version : {ProtocolVersion::V311, ProtocolVersion::V5}) {
        for (uint8_t qos = 0; qos <= 2; ++qos) {
            const PublishTemplate publish("a/b/c", qos, 100, 3, version);
            std::string out;
            publish.append(out, 5, 6, 77);
            tern::codec::FrameHeader header;
            tern::codec::DecodeError error;
            REQUIRE(tern::codec::parse_fixed_header(bytes_of(out), 0, header, error) ==
                    tern::codec::FrameStatus::Complete);
            PublishView view;
            REQUIRE(parse_publish_view(header.first_byte, bytes_of(out).subspan(header.header_size),
                                       version == ProtocolVersion::V5, view));
            CHECK(view.qos == qos);
            CHECK(view.packet_id == (qos > 0 ? 77 : 0));
            const auto decoded = decode_one(out, version);
            CHECK(std::string(reinterpret_cast<const char*>(view.payload.data()),
                              view.payload.size()) == decoded.payload);
        }
    }
}

TEST_CASE("parse_publish_view rejects truncated bodies and QoS 3") {
    PublishView view;
    const uint8_t short_topic[] = {0x00, 0x05, 'a'};
    CHECK_FALSE(parse_publish_view(0x30, short_topic, false, view));
    const uint8_t no_id[] = {0x00, 0x01, 'a', 0x00};
    CHECK_FALSE(parse_publish_view(0x32, no_id, false, view));
    const uint8_t fine[] = {0x00, 0x01, 'a', 'x'};
    CHECK_FALSE(parse_publish_view(0x36, fine, false, view));
    const uint8_t bad_properties[] = {0x00, 0x01, 'a', 0x05};  // 5 property bytes announced
    CHECK_FALSE(parse_publish_view(0x30, bad_properties, true, view));
    CHECK(parse_publish_view(0x30, fine, false, view));
    CHECK(view.payload.size() == 1);
}

TEST_CASE("parse_ack_view reads the id and the MQTT 5 reason code when present") {
    AckView ack;
    const uint8_t v311[] = {0x12, 0x34};
    REQUIRE(parse_ack_view(v311, ack));
    CHECK(ack.packet_id == 0x1234);
    CHECK(ack.reason_code == 0);
    const uint8_t v5[] = {0x00, 0x09, 0x97, 0x00};
    REQUIRE(parse_ack_view(v5, ack));
    CHECK(ack.packet_id == 9);
    CHECK(ack.reason_code == 0x97);
    const uint8_t short_body[] = {0x01};
    CHECK_FALSE(parse_ack_view(short_body, ack));
}

TEST_CASE("a payload shorter than the header is not a tern-bench payload") {
    PayloadHeader header;
    const uint8_t fifteen[15] = {};
    CHECK_FALSE(read_payload_header(fifteen, header));
    uint8_t sixteen[16] = {};
    write_payload_header(sixteen, PayloadHeader{0xA1B2C3D4, 0x01020304, 0x1122334455667788ull});
    CHECK(sixteen[0] == 0xD4);  // little-endian
    REQUIRE(read_payload_header(sixteen, header));
    CHECK(header.publisher_id == 0xA1B2C3D4);
    CHECK(header.sequence == 0x01020304);
    CHECK(header.sent_ns == 0x1122334455667788ull);
}
