// Decodes PUBLISH and its acknowledgements PUBACK, PUBREC, PUBREL and PUBCOMP (sections 3.3-3.7).
#include <cassert>

#include "wire_reader.hpp"

namespace tern::codec::detail {

namespace {

// Empties `p` in place; cheaper than assigning a new Properties when most fields are absent.
void reset_properties(Properties& p) {
    p.payload_format_indicator.reset();
    p.message_expiry_interval.reset();
    p.content_type.reset();
    p.response_topic.reset();
    p.correlation_data.reset();
    p.subscription_identifiers.clear();
    p.session_expiry_interval.reset();
    p.assigned_client_identifier.reset();
    p.server_keep_alive.reset();
    p.authentication_method.reset();
    p.authentication_data.reset();
    p.request_problem_information.reset();
    p.will_delay_interval.reset();
    p.request_response_information.reset();
    p.response_information.reset();
    p.server_reference.reset();
    p.reason_string.reset();
    p.receive_maximum.reset();
    p.topic_alias_maximum.reset();
    p.topic_alias.reset();
    p.maximum_qos.reset();
    p.retain_available.reset();
    p.user_properties.clear();
    p.maximum_packet_size.reset();
    p.wildcard_subscription_available.reset();
    p.subscription_identifier_available.reset();
    p.shared_subscription_available.reset();
}

// Reuses the Publish already held by `out`, keeping its string capacity: a connection decodes
// PUBLISH after PUBLISH into the same Packet, and this saves two allocations per message.
Publish& reuse_publish(Packet& out) {
    if (auto* existing = std::get_if<Publish>(&out)) {
        existing->packet_id = 0;
        reset_properties(existing->properties);
        assert(existing->properties == Properties{} && "reset_properties misses a field");
        return *existing;
    }
    return out.emplace<Publish>();
}

DecodeResult check_topic_name(const Publish& publish, ProtocolVersion version) {
    if (has_wildcard(publish.topic)) {
        // [MQTT-3.3.2-2] [MQTT-4.7.0-1] (3.1.1 [MQTT-4.7.1-1]). The packet parses, so it is not
        // Malformed; 0x90 is "Topic Name invalid".
        return make_error(ReasonCode::TopicNameInvalid,
                          "PUBLISH Topic Name contains a wildcard [MQTT-3.3.2-2]");
    }
    if (publish.topic.empty()) {
        // 5.0 section 3.3.2.3.4: "It is a Protocol Error if the Topic Name is zero length and
        // there is no Topic Alias." Before 5.0 a Topic Name is never empty [MQTT-4.7.3-1].
        if (version != ProtocolVersion::V5 || !publish.properties.topic_alias) {
            return protocol_error(
                "PUBLISH Topic Name is empty without a Topic Alias [MQTT-4.7.3-1]");
        }
    }
    return std::nullopt;
}

// PUBACK and PUBREC (sections 3.4.2.1 and 3.5.2.1) share their reason codes; PUBREL and PUBCOMP
// (3.6.2.1, 3.7.2.1) have only Success and Packet Identifier not found.
bool is_ack_code(PacketType type, uint8_t code) {
    if (type == PacketType::Pubrel || type == PacketType::Pubcomp) {
        return code == 0x00 || code == 0x92;
    }
    switch (code) {
        case 0x00:
        case 0x10:
        case 0x80:
        case 0x83:
        case 0x87:
        case 0x90:
        case 0x91:
        case 0x97:
        case 0x99:
            return true;
        default:
            return false;
    }
}

}  // namespace

DecodeResult decode_publish(uint8_t flags, WireReader& reader, ProtocolVersion version,
                            Packet& out) {
    // The fixed header flags were validated by validate_first_byte (QoS 3, DUP at QoS 0).
    std::string_view topic;
    if (!reader.read_prefixed(topic)) {
        return malformed("PUBLISH Topic Name runs past the packet [MQTT-3.3.2-1]");
    }
    if (!is_valid_mqtt_utf8(topic)) {
        return malformed("PUBLISH Topic Name is not valid UTF-8 [MQTT-3.3.2-1]");
    }
    Publish& publish = reuse_publish(out);
    publish.qos = (flags >> 1) & 0x03;
    publish.dup = (flags & 0x08) != 0;
    publish.retain = (flags & 0x01) != 0;
    publish.topic.assign(topic);
    if (publish.qos > 0) {
        if (!reader.read_u16(publish.packet_id)) {
            return malformed("PUBLISH Packet Identifier runs past the packet");
        }
        if (publish.packet_id == 0) {
            // 5.0 [MQTT-2.2.1-3], 3.1.1 [MQTT-2.3.1-1]: QoS 1 and 2 need a non-zero identifier.
            return protocol_error("PUBLISH Packet Identifier is 0 [MQTT-2.2.1-3]");
        }
    }
    if (version == ProtocolVersion::V5) {
        if (auto error = decode_properties(reader, PropertyScope::Publish, publish.properties)) {
            return error;
        }
    }
    if (auto error = check_topic_name(publish, version)) {
        return error;
    }
    publish.payload.assign(reader.take_rest());  // the rest of the packet [section 3.3.3]
    return std::nullopt;
}

DecodeResult decode_ack_head(PacketType type, WireReader& reader, ProtocolVersion version,
                             AckHead& head) {
    head.type = type;
    if (!reader.read_u16(head.packet_id)) {
        return malformed("acknowledgement too short for a Packet Identifier");
    }
    if (head.packet_id == 0) {
        // [MQTT-2.2.1-5] (3.1.1 [MQTT-2.3.1-6]): it repeats the PUBLISH's non-zero identifier.
        return protocol_error("acknowledgement Packet Identifier is 0 [MQTT-2.2.1-5]");
    }
    if (version != ProtocolVersion::V5) {
        // 3.1.1 sections 3.4-3.7: the Remaining Length is exactly 2.
        if (!reader.empty()) {
            return malformed("acknowledgement Remaining Length is not 2");
        }
        return std::nullopt;
    }
    // [MQTT-3.4.2-1] etc.: with a Remaining Length of 2 the Reason Code is 0x00; section 3.4.2.2.1
    // etc.: with a Remaining Length below 4 there is no Property Length.
    if (reader.empty()) {
        return std::nullopt;
    }
    reader.read_u8(head.reason_code);
    if (!is_ack_code(type, head.reason_code)) {
        return protocol_error("acknowledgement reason code is not defined [MQTT-3.4.2-1]");
    }
    return std::nullopt;
}

DecodeResult decode_ack(PacketType type, WireReader& reader, ProtocolVersion version, Packet& out) {
    AckHead head;
    if (auto error = decode_ack_head(type, reader, version, head)) {
        return error;
    }
    Ack& ack = out.emplace<Ack>();
    ack.type = head.type;
    ack.packet_id = head.packet_id;
    ack.reason_code = head.reason_code;
    if (reader.empty()) {
        return std::nullopt;
    }
    if (auto error = decode_properties(reader, PropertyScope::PubAck, ack.properties)) {
        return error;
    }
    if (!reader.empty()) {
        return malformed("acknowledgement has bytes after its properties");
    }
    return std::nullopt;
}

}  // namespace tern::codec::detail
