// The hot path's acknowledgements (AckHead: no properties) read and write exactly what the general
// decoder and encoder do with an Ack.
#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

constexpr std::array<PacketType, 4> kAckTypes = {PacketType::Puback, PacketType::Pubrec,
                                                 PacketType::Pubrel, PacketType::Pubcomp};

}  // namespace

TEST_CASE("append_ack writes what encode writes for the same acknowledgement") {
    for (ProtocolVersion version : kVersions) {
        for (PacketType type : kAckTypes) {
            for (int reason : {0x00, 0x10, 0x80, 0x92}) {
                for (uint16_t id : {uint16_t{1}, uint16_t{0x0102}, uint16_t{0xFFFF}}) {
                    CAPTURE(version_name(version));
                    CAPTURE(static_cast<int>(type));
                    CAPTURE(reason);
                    const AckHead head{type, id, static_cast<uint8_t>(reason)};
                    std::string fast = "prefix";
                    append_ack(fast, head, version);
                    std::string general = "prefix";
                    encode(Ack{type, id, static_cast<uint8_t>(reason), {}}, version, general);
                    CHECK(hex(fast) == hex(general));
                }
            }
        }
    }
}

TEST_CASE("decode_short_ack accepts and refuses exactly what decode_packet does") {
    // Every first byte of an acknowledgement type (all flag values) with every body of up to 3
    // bytes drawn from interesting values: same verdict, same reason code, same fields.
    const std::array<int, 6> values = {0x00, 0x01, 0x02, 0x10, 0x80, 0x92};
    std::vector<std::string> bodies = {""};
    for (std::size_t length = 1; length <= 3; ++length) {
        std::vector<std::string> longer;
        for (const std::string& body : bodies) {
            if (body.size() == length - 1) {
                for (int value : values) {
                    longer.push_back(body + static_cast<char>(value));
                }
            }
        }
        bodies.insert(bodies.end(), longer.begin(), longer.end());
    }
    std::size_t accepted = 0;
    for (ProtocolVersion version : kVersions) {
        for (PacketType type : kAckTypes) {
            for (int flags = 0; flags < 16; ++flags) {
                for (const std::string& body : bodies) {
                    FrameHeader header;
                    header.first_byte =
                        static_cast<uint8_t>((static_cast<uint8_t>(type) << 4) | flags);
                    header.remaining_length = static_cast<uint32_t>(body.size());
                    header.header_size = 2;
                    const std::span<const uint8_t> span(
                        reinterpret_cast<const uint8_t*>(body.data()), body.size());
                    CAPTURE(version_name(version));
                    CAPTURE(hex(std::string(1, static_cast<char>(header.first_byte)) + body));
                    AckHead head;
                    const auto fast = decode_short_ack(header, span, version, head);
                    Packet packet;
                    const auto general = decode_packet(header, span, version, packet);
                    REQUIRE(fast.has_value() == general.has_value());
                    if (fast) {
                        CHECK(fast->code == general->code);
                        continue;
                    }
                    ++accepted;
                    const Ack& ack = std::get<Ack>(packet);
                    CHECK(head.type == ack.type);
                    CHECK(head.packet_id == ack.packet_id);
                    CHECK(head.reason_code == ack.reason_code);
                }
            }
        }
    }
    CHECK(accepted > 0);
}

}  // namespace tern::codec::test
