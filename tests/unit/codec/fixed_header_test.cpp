// parse_fixed_header: when a frame is complete, incomplete, malformed or too large.
#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

FrameStatus parse(const std::string& wire, uint32_t max_packet_size, FrameHeader& header,
                  DecodeError& error) {
    const auto* data = reinterpret_cast<const uint8_t*>(wire.data());
    return parse_fixed_header({data, wire.size()}, max_packet_size, header, error);
}

}  // namespace

TEST_CASE("The fixed header needs more bytes until its length is complete") {
    FrameHeader header;
    DecodeError error;
    CHECK(parse("", 0, header, error) == FrameStatus::NeedMore);
    CHECK(parse(bytes({0x30}), 0, header, error) == FrameStatus::NeedMore);
    CHECK(parse(bytes({0x30, 0x80}), 0, header, error) == FrameStatus::NeedMore);
    CHECK(parse(bytes({0x30, 0x80, 0x80, 0x80}), 0, header, error) == FrameStatus::NeedMore);
    // Complete as soon as the length is known, whether or not the body is there.
    REQUIRE(parse(bytes({0x32, 0xC1, 0x02}), 0, header, error) == FrameStatus::Complete);
    CHECK(header.type() == PacketType::Publish);
    CHECK(header.first_byte == 0x32);
    CHECK(header.remaining_length == 321);
    CHECK(header.header_size == 3);
    CHECK(header.total_size() == 324);
}

TEST_CASE("A Remaining Length over four bytes is malformed at once") {
    FrameHeader header;
    DecodeError error;
    // The fourth length byte still says "more": no need to wait for a fifth [MQTT-1.5.5-1].
    CHECK(parse(bytes({0x30, 0x80, 0x80, 0x80, 0x80}), 0, header, error) == FrameStatus::Error);
    CHECK(error.code == ReasonCode::MalformedPacket);
    CHECK_FALSE(error.reason.empty());
}

TEST_CASE("A Remaining Length longer than needed is malformed") {
    FrameHeader header;
    DecodeError error;
    // [MQTT-1.5.5-1]: the encoding MUST use the minimum number of bytes.
    CHECK(parse(bytes({0x30, 0x80, 0x00}), 0, header, error) == FrameStatus::Error);
    CHECK(error.code == ReasonCode::MalformedPacket);
    CHECK(parse(bytes({0x30, 0xFF, 0x80, 0x80, 0x00}), 0, header, error) == FrameStatus::Error);
    CHECK(error.code == ReasonCode::MalformedPacket);
}

TEST_CASE("A packet over the maximum packet size is too large") {
    FrameHeader header;
    DecodeError error;
    // 1 type byte + 1 length byte + 127 body bytes = 129.
    const std::string frame = bytes({0x30, 0x7F});
    CHECK(parse(frame, 129, header, error) == FrameStatus::Complete);
    CHECK(parse(frame, 0, header, error) == FrameStatus::Complete);  // 0: no limit
    CHECK(parse(frame, 128, header, error) == FrameStatus::Error);
    CHECK(error.code == ReasonCode::PacketTooLarge);
    // The largest Remaining Length the protocol allows is accepted when there is no limit.
    REQUIRE(parse(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), 0, header, error) ==
            FrameStatus::Complete);
    CHECK(header.remaining_length == kMaxVariableByteInteger);
    CHECK(header.total_size() == kMaxVariableByteInteger + 5u);
}

TEST_CASE("The first byte alone is checked against reserved types and flags") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            const bool v31 = version == ProtocolVersion::V31;
            CHECK(validate_first_byte(0x00, version).has_value());
            CHECK(validate_first_byte(0xF0, version).has_value() ==
                  (version != ProtocolVersion::V5));
            CHECK(validate_first_byte(0x36, version).has_value());          // QoS 3
            CHECK(validate_first_byte(0x38, version).has_value() == !v31);  // DUP at QoS 0
            CHECK_FALSE(validate_first_byte(0x3D, version).has_value());    // DUP, QoS 2, RETAIN
            CHECK_FALSE(validate_first_byte(0x62, version).has_value());
            CHECK(validate_first_byte(0x60, version).has_value() == !v31);
            CHECK_FALSE(validate_first_byte(0x82, version).has_value());
            CHECK(validate_first_byte(0x83, version).has_value() == !v31);
            CHECK_FALSE(validate_first_byte(0xA2, version).has_value());
            CHECK(validate_first_byte(0xB2, version).has_value() == !v31);
            CHECK(validate_first_byte(0x12, version).has_value());  // CONNECT is always 0000
        }
    }
}

}  // namespace tern::codec::test
