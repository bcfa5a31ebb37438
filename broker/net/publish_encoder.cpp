// Hot-path PUBLISH encoding: per receiver only the fixed header, packet id, expiry and
// subscription ids are written; the rest is copied from the message's shared bytes.
#include "publish_encoder.hpp"

#include "codec/encoder.hpp"
#include "codec/properties.hpp"

namespace tern::net {

namespace {

uint32_t properties_length(const core::Message& message, const PublishHeader& header) {
    uint32_t length = static_cast<uint32_t>(message.encoded_properties.size());
    if (message.expires_at != 0) {
        length += 5;  // id + four-byte integer
    }
    for (uint32_t id : header.subscription_ids) {
        length += 1 + codec::varint_size(id);
    }
    return length;
}

uint32_t remaining_length(const core::Message& message, const PublishHeader& header,
                          uint32_t props_length) {
    uint32_t length = 2 + static_cast<uint32_t>(message.topic.size()) +
                      static_cast<uint32_t>(message.payload.size());
    if (header.qos > 0) {
        length += 2;
    }
    if (header.version == codec::ProtocolVersion::V5) {
        length += codec::varint_size(props_length) + props_length;
    }
    return length;
}

}  // namespace

std::size_t publish_packet_size(const core::Message& message, const PublishHeader& header) {
    const uint32_t props =
        header.version == codec::ProtocolVersion::V5 ? properties_length(message, header) : 0;
    const uint32_t remaining = remaining_length(message, header, props);
    return 1 + codec::varint_size(remaining) + remaining;
}

void append_publish(std::string& out, const core::Message& message, const PublishHeader& header) {
    const bool v5 = header.version == codec::ProtocolVersion::V5;
    const uint32_t props = v5 ? properties_length(message, header) : 0;
    const uint32_t remaining = remaining_length(message, header, props);
    out.reserve(out.size() + 1 + codec::varint_size(remaining) + remaining);

    uint8_t first = static_cast<uint8_t>(codec::PacketType::Publish) << 4;
    first |= static_cast<uint8_t>(header.qos << 1);
    if (header.dup) {
        first |= 0x08;
    }
    if (header.retain) {
        first |= 0x01;
    }
    out.push_back(static_cast<char>(first));
    codec::append_varint(out, remaining);
    codec::append_string(out, message.topic);
    if (header.qos > 0) {
        codec::append_u16(out, header.packet_id);
    }
    if (v5) {
        codec::append_varint(out, props);
        out.append(message.encoded_properties);
        if (message.expires_at != 0) {
            // Forward the remaining lifetime, not the original interval [MQTT-3.3.2-6].
            const uint32_t left = message.remaining_expiry_seconds(header.now);
            out.push_back(static_cast<char>(codec::PropertyId::MessageExpiryInterval));
            out.push_back(static_cast<char>(left >> 24));
            out.push_back(static_cast<char>((left >> 16) & 0xFF));
            out.push_back(static_cast<char>((left >> 8) & 0xFF));
            out.push_back(static_cast<char>(left & 0xFF));
        }
        for (uint32_t id : header.subscription_ids) {
            out.push_back(static_cast<char>(codec::PropertyId::SubscriptionIdentifier));
            codec::append_varint(out, id);
        }
    }
    out.append(message.payload);
}

std::string encode_message_properties(const codec::Properties& properties) {
    codec::Properties travelling = properties;
    travelling.message_expiry_interval.reset();
    travelling.topic_alias.reset();
    travelling.subscription_identifiers.clear();
    std::string block;
    codec::append_properties(block, travelling);
    // Strip the length prefix: the per-receiver length differs (expiry, subscription ids).
    std::size_t skip = 0;
    while (skip < block.size() && (static_cast<uint8_t>(block[skip]) & 0x80) != 0) {
        ++skip;
    }
    ++skip;
    return block.substr(skip);
}

}  // namespace tern::net
