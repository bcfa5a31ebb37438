// Hand-written fast paths for PUBLISH and acknowledgement bodies.
#include "packet_view.hpp"

namespace tern::bench {

namespace {

// A Variable Byte Integer of at most four bytes [MQTT-1.5.5-1]; false when truncated or longer.
bool read_varint(std::span<const uint8_t> data, std::size_t& offset, uint32_t& value) noexcept {
    value = 0;
    for (unsigned i = 0; i < 4; ++i) {
        if (offset >= data.size()) {
            return false;
        }
        const uint8_t byte = data[offset++];
        value |= static_cast<uint32_t>(byte & 0x7F) << (7 * i);
        if ((byte & 0x80) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool parse_publish_view(uint8_t first_byte, std::span<const uint8_t> body, bool v5,
                        PublishView& out) noexcept {
    out.qos = static_cast<uint8_t>((first_byte >> 1) & 0x03);
    if (out.qos == 3 || body.size() < 2) {
        return false;
    }
    std::size_t offset = 2 + (static_cast<std::size_t>(body[0]) << 8 | body[1]);
    out.packet_id = 0;
    if (out.qos > 0) {
        // [MQTT-2.2.1-2]: the Packet Identifier is present only at QoS 1 and 2.
        if (offset + 2 > body.size()) {
            return false;
        }
        out.packet_id = static_cast<uint16_t>(body[offset] << 8 | body[offset + 1]);
        offset += 2;
    }
    if (v5) {
        uint32_t properties_length = 0;
        if (!read_varint(body, offset, properties_length)) {
            return false;
        }
        offset += properties_length;
    }
    if (offset > body.size()) {
        return false;
    }
    out.payload = body.subspan(offset);
    return true;
}

bool parse_ack_view(std::span<const uint8_t> body, AckView& out) noexcept {
    if (body.size() < 2) {
        return false;
    }
    out.packet_id = static_cast<uint16_t>(body[0] << 8 | body[1]);
    // MQTT 5: a Remaining Length of 2 means Success (e.g. section 3.4.2.1).
    out.reason_code = body.size() > 2 ? body[2] : 0;
    return true;
}

}  // namespace tern::bench
