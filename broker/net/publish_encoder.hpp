// The hot-path PUBLISH encoder: one receiver's PUBLISH from a shared, pre-encoded Message.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "codec/protocol.hpp"
#include "core/message.hpp"

namespace tern::net {

struct PublishHeader {
    codec::ProtocolVersion version = codec::ProtocolVersion::V311;
    uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    uint16_t packet_id = 0;
    std::span<const uint32_t> subscription_ids;
    core::MonoMillis now = 0;  // for the remaining Message Expiry Interval [MQTT-3.3.2-6]
};

// Size in bytes of the whole PUBLISH packet for this receiver.
std::size_t publish_packet_size(const core::Message& message, const PublishHeader& header);

// Appends the PUBLISH to `out`. Only the header bytes that differ per receiver are computed
// here; topic, pre-encoded properties and payload are copied from the shared message.
void append_publish(std::string& out, const core::Message& message, const PublishHeader& header);

// Encodes the properties that travel with a message (all but Message Expiry Interval, Topic
// Alias and Subscription Identifiers) in MQTT 5 wire form, without the length prefix.
std::string encode_message_properties(const codec::Properties& properties);

}  // namespace tern::net
