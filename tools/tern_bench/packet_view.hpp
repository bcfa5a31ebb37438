// Cheap, allocation-free views of the packets on tern-bench's hot path: an incoming PUBLISH (only
// its QoS, packet id and payload) and the acknowledgements. Everything else goes to decode_packet.
#pragma once

#include <cstdint>
#include <span>

namespace tern::bench {

struct PublishView {
    uint8_t qos = 0;
    uint16_t packet_id = 0;  // 0 at QoS 0
    std::span<const uint8_t> payload;
};

// Reads a PUBLISH body (the remaining_length bytes after the fixed header). The topic is skipped,
// not validated: the broker already checked it and tern-bench never needs it. With `v5` the
// property block is skipped by its length. False when the body is too short or the QoS is 3.
bool parse_publish_view(uint8_t first_byte, std::span<const uint8_t> body, bool v5,
                        PublishView& out) noexcept;

struct AckView {
    uint16_t packet_id = 0;
    uint8_t reason_code = 0;  // MQTT 5; 0 (Success) when omitted or before MQTT 5
};

// Reads a PUBACK/PUBREC/PUBREL/PUBCOMP body. False when shorter than a packet identifier.
bool parse_ack_view(std::span<const uint8_t> body, AckView& out) noexcept;

}  // namespace tern::bench
