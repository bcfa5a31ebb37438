// Hand-written byte vectors, laid out as in the OASIS specs, prove the wire format itself.
#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

// The bytes encode to exactly `wire` and `wire` decodes to exactly `packet`.
void check_both_ways(const Packet& packet, ProtocolVersion version, const std::string& wire) {
    CHECK(hex(to_bytes(packet, version)) == hex(wire));
    const Decoded decoded = decode_one(wire, version);
    REQUIRE_MESSAGE(decoded.status == FrameStatus::Complete, decoded.error.reason);
    CHECK(decoded.packet == packet);
}

}  // namespace

TEST_CASE("A CONNECT has the byte layout of the spec") {
    SUBCASE("MQTT 3.1.1") {
        // 3.1.1 section 3.1.2.10 example: "MQTT", level 4, flags 0xCE (user name, password,
        // Will QoS 1, Will Flag, Clean Session), Keep Alive 10.
        Connect connect;
        connect.version = ProtocolVersion::V311;
        connect.clean_start = true;
        connect.keep_alive = 10;
        connect.client_id = "tern";
        connect.will = Will{"w/t", "bye", 1, false, {}};
        connect.username = "u";
        connect.password = "p";
        check_both_ways(
            connect, ProtocolVersion::V311,
            bytes({0x10, 0x20, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x04, 0xCE, 0x00, 0x0A,
                   0x00, 0x04, 't',  'e',  'r',  'n',  0x00, 0x03, 'w',  '/',  't',  0x00,
                   0x03, 'b',  'y',  'e',  0x00, 0x01, 'u',  0x00, 0x01, 'p'}));
    }
    SUBCASE("MQTT 3.1") {
        // MQTT 3.1: protocol name "MQIsdp", version 3.
        Connect connect;
        connect.version = ProtocolVersion::V31;
        connect.keep_alive = 60;
        connect.client_id = "abc";
        check_both_ways(connect, ProtocolVersion::V31,
                        bytes({0x10, 0x11, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02,
                               0x00, 0x3C, 0x00, 0x03, 'a', 'b', 'c'}));
    }
    SUBCASE("MQTT 5.0") {
        // 5.0 section 3.1.2.12 example: level 5, Keep Alive 10, properties length 5 holding
        // Session Expiry Interval (0x11) = 10.
        Connect connect;
        connect.version = ProtocolVersion::V5;
        connect.keep_alive = 10;
        connect.client_id = "c";
        connect.properties.session_expiry_interval = 10;
        check_both_ways(connect, ProtocolVersion::V5,
                        bytes({0x10, 0x13, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x02, 0x00,
                               0x0A, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x01, 'c'}));
    }
}

TEST_CASE("A CONNACK has the byte layout of the spec") {
    SUBCASE("MQTT 3.1.1") {
        check_both_ways(Connack{true, 0, {}}, ProtocolVersion::V311,
                        bytes({0x20, 0x02, 0x01, 0x00}));
        check_both_ways(Connack{false, 0x01, {}}, ProtocolVersion::V311,
                        bytes({0x20, 0x02, 0x00, 0x01}));
    }
    SUBCASE("MQTT 5.0") {
        Properties props;
        props.topic_alias_maximum = 10;
        check_both_ways(Connack{false, 0, props}, ProtocolVersion::V5,
                        bytes({0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x0A}));
    }
}

TEST_CASE("A PUBLISH has the byte layout of the spec") {
    SUBCASE("MQTT 3.1.1") {
        // 3.1.1 section 3.3.2.3 example: topic "a/b", packet identifier 10.
        check_both_ways(Publish{1, false, false, 10, "a/b", "hi", {}}, ProtocolVersion::V311,
                        bytes({0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
        check_both_ways(Publish{0, true, false, 0, "a", "", {}}, ProtocolVersion::V311,
                        bytes({0x31, 0x03, 0x00, 0x01, 'a'}));
        check_both_ways(Publish{2, false, true, 1, "a", "", {}}, ProtocolVersion::V311,
                        bytes({0x3C, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}));
    }
    SUBCASE("MQTT 5.0") {
        Properties props;
        props.topic_alias = 1;
        props.subscription_identifiers = {128};
        check_both_ways(Publish{0, false, false, 0, "a/b", "x", props}, ProtocolVersion::V5,
                        bytes({0x30, 0x0D, 0x00, 0x03, 'a', '/', 'b', 0x06, 0x0B, 0x80, 0x01, 0x23,
                               0x00, 0x01, 'x'}));
    }
}

TEST_CASE("SUBSCRIBE and SUBACK have the byte layout of the spec") {
    SUBCASE("MQTT 3.1.1") {
        // 3.1.1 section 3.8.3.1 example: "a/b" QoS 1 and "c/d" QoS 2, packet identifier 10.
        check_both_ways(
            Subscribe{10, {{"a/b", 1, false, false, 0}, {"c/d", 2, false, false, 0}}, {}},
            ProtocolVersion::V311,
            bytes({0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x01, 0x00, 0x03, 'c', '/',
                   'd', 0x02}));
        // 3.1.1 section 3.9.3 example: granted QoS 0, failure, granted QoS 2.
        check_both_ways(Suback{10, {0x00, 0x80, 0x02}, {}}, ProtocolVersion::V311,
                        bytes({0x90, 0x05, 0x00, 0x0A, 0x00, 0x80, 0x02}));
    }
    SUBCASE("MQTT 5.0") {
        // Options byte: QoS 1 | No Local (bit 2) | Retain As Published (bit 3) | Retain
        // Handling 2 (bits 4-5) = 0x2D.
        check_both_ways(Subscribe{1, {{"t", 1, true, true, 2}}, {}}, ProtocolVersion::V5,
                        bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 't', 0x2D}));
        check_both_ways(Suback{1, {0x01, 0xA2}, {}}, ProtocolVersion::V5,
                        bytes({0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0xA2}));
    }
}

TEST_CASE("UNSUBSCRIBE and UNSUBACK have the byte layout of the spec") {
    SUBCASE("MQTT 3.1.1") {
        check_both_ways(
            Unsubscribe{16, {"a/b", "c/d"}, {}}, ProtocolVersion::V311,
            bytes({0xA2, 0x0C, 0x00, 0x10, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x03, 'c', '/', 'd'}));
        check_both_ways(Unsuback{16, {}, {}}, ProtocolVersion::V311,
                        bytes({0xB0, 0x02, 0x00, 0x10}));
    }
    SUBCASE("MQTT 5.0") {
        check_both_ways(Unsuback{16, {0x00, 0x11}, {}}, ProtocolVersion::V5,
                        bytes({0xB0, 0x05, 0x00, 0x10, 0x00, 0x00, 0x11}));
    }
}

TEST_CASE("Packets without a body are two bytes") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            check_both_ways(Pingreq{}, version, bytes({0xC0, 0x00}));
            check_both_ways(Pingresp{}, version, bytes({0xD0, 0x00}));
            check_both_ways(Disconnect{}, version, bytes({0xE0, 0x00}));
        }
    }
}

TEST_CASE("Variable Byte Integers use the boundaries of the spec table") {
    // 5.0 section 1.5.5 / 3.1.1 section 2.2.3, table 2.4.
    const std::pair<uint32_t, std::string> rows[] = {
        {0, bytes({0x00})},
        {127, bytes({0x7F})},
        {128, bytes({0x80, 0x01})},
        {16383, bytes({0xFF, 0x7F})},
        {16384, bytes({0x80, 0x80, 0x01})},
        {2097151, bytes({0xFF, 0xFF, 0x7F})},
        {2097152, bytes({0x80, 0x80, 0x80, 0x01})},
        {268435455, bytes({0xFF, 0xFF, 0xFF, 0x7F})},
    };
    for (const auto& [value, wire] : rows) {
        CAPTURE(value);
        std::string out;
        append_varint(out, value);
        CHECK(hex(out) == hex(wire));
        CHECK(varint_size(value) == wire.size());
        const std::string frame = std::string(1, '\x30') + wire;
        FrameHeader header;
        DecodeError error;
        const auto* data = reinterpret_cast<const uint8_t*>(frame.data());
        REQUIRE(parse_fixed_header({data, frame.size()}, 0, header, error) ==
                FrameStatus::Complete);
        CHECK(header.remaining_length == value);
        CHECK(header.header_size == 1 + wire.size());
    }
}

}  // namespace tern::codec::test
