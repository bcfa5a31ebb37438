// MQTT encoder: computes each packet's exact size first, reserves once, then appends the bytes.
#include "encoder.hpp"

#include <type_traits>

namespace tern::codec {

namespace {

inline void append_u8(std::string& out, uint8_t value) {
    out.push_back(static_cast<char>(value));
}

inline void append_u32(std::string& out, uint32_t value) {
    const char bytes[4] = {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                           static_cast<char>(value >> 8), static_cast<char>(value)};
    out.append(bytes, 4);
}

inline bool is_empty(const Properties& properties) {
    return properties.empty();
}

inline uint32_t string_size(std::string_view text) noexcept {
    return 2u + static_cast<uint32_t>(text.size());
}

// Size of the property list without its length prefix (section 2.2.2). Each property is its
// one-byte identifier followed by the value in the property's data type.
uint32_t properties_length(const Properties& p) noexcept {
    uint32_t size = 0;
    auto byte_prop = [&size](const std::optional<uint8_t>& v) { size += v ? 2u : 0u; };
    auto u16_prop = [&size](const std::optional<uint16_t>& v) { size += v ? 3u : 0u; };
    auto u32_prop = [&size](const std::optional<uint32_t>& v) { size += v ? 5u : 0u; };
    auto str_prop = [&size](const std::optional<std::string>& v) {
        size += v ? 1u + string_size(*v) : 0u;
    };
    byte_prop(p.payload_format_indicator);
    u32_prop(p.message_expiry_interval);
    str_prop(p.content_type);
    str_prop(p.response_topic);
    str_prop(p.correlation_data);
    for (uint32_t id : p.subscription_identifiers) {
        size += 1u + varint_size(id);
    }
    u32_prop(p.session_expiry_interval);
    str_prop(p.assigned_client_identifier);
    u16_prop(p.server_keep_alive);
    str_prop(p.authentication_method);
    str_prop(p.authentication_data);
    byte_prop(p.request_problem_information);
    u32_prop(p.will_delay_interval);
    byte_prop(p.request_response_information);
    str_prop(p.response_information);
    str_prop(p.server_reference);
    str_prop(p.reason_string);
    u16_prop(p.receive_maximum);
    u16_prop(p.topic_alias_maximum);
    u16_prop(p.topic_alias);
    byte_prop(p.maximum_qos);
    byte_prop(p.retain_available);
    for (const auto& [name, value] : p.user_properties) {
        size += 1u + string_size(name) + string_size(value);
    }
    u32_prop(p.maximum_packet_size);
    byte_prop(p.wildcard_subscription_available);
    byte_prop(p.subscription_identifier_available);
    byte_prop(p.shared_subscription_available);
    return size;
}

// Appends the properties (without the length prefix) in identifier order.
void append_property_list(std::string& out, const Properties& p) {
    auto byte_prop = [&out](PropertyId id, const std::optional<uint8_t>& v) {
        if (v) {
            append_u8(out, static_cast<uint8_t>(id));
            append_u8(out, *v);
        }
    };
    auto u16_prop = [&out](PropertyId id, const std::optional<uint16_t>& v) {
        if (v) {
            append_u8(out, static_cast<uint8_t>(id));
            append_u16(out, *v);
        }
    };
    auto u32_prop = [&out](PropertyId id, const std::optional<uint32_t>& v) {
        if (v) {
            append_u8(out, static_cast<uint8_t>(id));
            append_u32(out, *v);
        }
    };
    auto str_prop = [&out](PropertyId id, const std::optional<std::string>& v) {
        if (v) {
            append_u8(out, static_cast<uint8_t>(id));
            append_string(out, *v);
        }
    };
    byte_prop(PropertyId::PayloadFormatIndicator, p.payload_format_indicator);
    u32_prop(PropertyId::MessageExpiryInterval, p.message_expiry_interval);
    str_prop(PropertyId::ContentType, p.content_type);
    str_prop(PropertyId::ResponseTopic, p.response_topic);
    str_prop(PropertyId::CorrelationData, p.correlation_data);
    for (uint32_t id : p.subscription_identifiers) {
        append_u8(out, static_cast<uint8_t>(PropertyId::SubscriptionIdentifier));
        append_varint(out, id);
    }
    u32_prop(PropertyId::SessionExpiryInterval, p.session_expiry_interval);
    str_prop(PropertyId::AssignedClientIdentifier, p.assigned_client_identifier);
    u16_prop(PropertyId::ServerKeepAlive, p.server_keep_alive);
    str_prop(PropertyId::AuthenticationMethod, p.authentication_method);
    str_prop(PropertyId::AuthenticationData, p.authentication_data);
    byte_prop(PropertyId::RequestProblemInformation, p.request_problem_information);
    u32_prop(PropertyId::WillDelayInterval, p.will_delay_interval);
    byte_prop(PropertyId::RequestResponseInformation, p.request_response_information);
    str_prop(PropertyId::ResponseInformation, p.response_information);
    str_prop(PropertyId::ServerReference, p.server_reference);
    str_prop(PropertyId::ReasonString, p.reason_string);
    u16_prop(PropertyId::ReceiveMaximum, p.receive_maximum);
    u16_prop(PropertyId::TopicAliasMaximum, p.topic_alias_maximum);
    u16_prop(PropertyId::TopicAlias, p.topic_alias);
    byte_prop(PropertyId::MaximumQos, p.maximum_qos);
    byte_prop(PropertyId::RetainAvailable, p.retain_available);
    for (const auto& [name, value] : p.user_properties) {
        append_u8(out, static_cast<uint8_t>(PropertyId::UserProperty));
        append_string(out, name);
        append_string(out, value);
    }
    u32_prop(PropertyId::MaximumPacketSize, p.maximum_packet_size);
    byte_prop(PropertyId::WildcardSubscriptionAvailable, p.wildcard_subscription_available);
    byte_prop(PropertyId::SubscriptionIdentifierAvailable, p.subscription_identifier_available);
    byte_prop(PropertyId::SharedSubscriptionAvailable, p.shared_subscription_available);
}

// A property block whose list length was computed once and is reused for the size and the bytes.
struct PropertyBlock {
    const Properties& properties;
    uint32_t length;  // without the prefix

    explicit PropertyBlock(const Properties& p) : properties(p), length(properties_length(p)) {}
    uint32_t size() const noexcept { return varint_size(length) + length; }
    void append(std::string& out) const {
        append_varint(out, length);
        append_property_list(out, properties);
    }
};

uint8_t ack_first_byte(PacketType type) {
    // [MQTT-3.6.1-1]: PUBREL's fixed header flags are 0010.
    return static_cast<uint8_t>((static_cast<uint8_t>(type) << 4) |
                                (type == PacketType::Pubrel ? 0x02 : 0x00));
}

// Writes the packets of one protocol version. Each packet computes its Remaining Length first so
// the output grows exactly once.
class PacketWriter {
  public:
    PacketWriter(ProtocolVersion version, std::string& out)
        : _v5(version == ProtocolVersion::V5), _out(out) {}

    void operator()(const Connect& c) {
        // The version written is the one the CONNECT names (section 3.1.2.1/3.1.2.2): 3.1 uses
        // "MQIsdp" level 3, 3.1.1 "MQTT" level 4, 5.0 "MQTT" level 5.
        const bool v5 = c.version == ProtocolVersion::V5;
        const std::string_view name = c.version == ProtocolVersion::V31 ? "MQIsdp" : "MQTT";
        const PropertyBlock props(c.properties);
        uint32_t length = string_size(name) + 1u + 1u + 2u + string_size(c.client_id);
        length += v5 ? props.size() : 0u;
        std::optional<PropertyBlock> will_props;
        if (c.will) {
            if (v5) {
                will_props.emplace(c.will->properties);
                length += will_props->size();
            }
            length += string_size(c.will->topic) + string_size(c.will->payload);
        }
        length += c.username ? string_size(*c.username) : 0u;
        length += c.password ? string_size(*c.password) : 0u;

        uint8_t flags = 0;
        flags |= c.username ? 0x80 : 0;
        flags |= c.password ? 0x40 : 0;
        if (c.will) {
            flags |= static_cast<uint8_t>(0x04 | ((c.will->qos & 0x03) << 3));
            flags |= c.will->retain ? 0x20 : 0;
        }
        flags |= c.clean_start ? 0x02 : 0;

        begin(0x10, length);
        append_string(_out, name);
        append_u8(_out, static_cast<uint8_t>(c.version));
        append_u8(_out, flags);
        append_u16(_out, c.keep_alive);
        if (v5) {
            props.append(_out);
        }
        // [MQTT-3.1.3-1]: Client Identifier, Will Properties, Will Topic, Will Payload, User Name,
        // Password, in that order.
        append_string(_out, c.client_id);
        if (c.will) {
            if (will_props) {
                will_props->append(_out);
            }
            append_string(_out, c.will->topic);
            append_string(_out, c.will->payload);
        }
        if (c.username) {
            append_string(_out, *c.username);
        }
        if (c.password) {
            append_string(_out, *c.password);
        }
    }

    void operator()(const Connack& c) {
        const PropertyBlock props(c.properties);
        begin(0x20, 2u + (_v5 ? props.size() : 0u));
        append_u8(_out, c.session_present ? 0x01 : 0x00);
        append_u8(_out, c.reason_code);
        if (_v5) {
            props.append(_out);
        }
    }

    void operator()(const Publish& p) {
        const PropertyBlock props(p.properties);
        uint32_t length = string_size(p.topic) + static_cast<uint32_t>(p.payload.size());
        length += p.qos > 0 ? 2u : 0u;  // [MQTT-2.2.1-2]: no Packet Identifier at QoS 0
        length += _v5 ? props.size() : 0u;
        const uint8_t first = static_cast<uint8_t>(0x30 | (p.dup ? 0x08 : 0) |
                                                   ((p.qos & 0x03) << 1) | (p.retain ? 0x01 : 0));
        begin(first, length);
        append_string(_out, p.topic);
        if (p.qos > 0) {
            append_u16(_out, p.packet_id);
        }
        if (_v5) {
            props.append(_out);
        }
        _out.append(p.payload);
    }

    void operator()(const Ack& a) {
        if (!_v5 || is_empty(a.properties)) {
            append_ack(_out, AckHead{a.type, a.packet_id, a.reason_code},
                       _v5 ? ProtocolVersion::V5 : ProtocolVersion::V311);
            return;
        }
        // Section 3.4.2.2.1: the Property Length follows the Reason Code.
        const PropertyBlock props(a.properties);
        begin(ack_first_byte(a.type), 3u + props.size());
        append_u16(_out, a.packet_id);
        append_u8(_out, a.reason_code);
        props.append(_out);
    }

    void operator()(const Subscribe& s) {
        const PropertyBlock props(s.properties);
        uint32_t length = 2u + (_v5 ? props.size() : 0u);
        for (const auto& entry : s.entries) {
            length += string_size(entry.filter) + 1u;
        }
        begin(0x82, length);  // [MQTT-3.8.1-1]: flags 0010
        append_u16(_out, s.packet_id);
        if (_v5) {
            props.append(_out);
        }
        for (const auto& entry : s.entries) {
            append_string(_out, entry.filter);
            uint8_t options = entry.qos & 0x03;
            if (_v5) {
                // Section 3.8.3.1: bit 2 No Local, bit 3 Retain As Published, bits 4-5 Retain
                // Handling, bits 6-7 reserved.
                options |= entry.no_local ? 0x04 : 0;
                options |= entry.retain_as_published ? 0x08 : 0;
                options |= static_cast<uint8_t>((entry.retain_handling & 0x03) << 4);
            }
            append_u8(_out, options);
        }
    }

    void operator()(const Suback& s) {
        const PropertyBlock props(s.properties);
        const uint32_t length =
            2u + (_v5 ? props.size() : 0u) + static_cast<uint32_t>(s.reason_codes.size());
        begin(0x90, length);
        append_u16(_out, s.packet_id);
        if (_v5) {
            props.append(_out);
        }
        _out.append(reinterpret_cast<const char*>(s.reason_codes.data()), s.reason_codes.size());
    }

    void operator()(const Unsubscribe& u) {
        const PropertyBlock props(u.properties);
        uint32_t length = 2u + (_v5 ? props.size() : 0u);
        for (const auto& filter : u.filters) {
            length += string_size(filter);
        }
        begin(0xA2, length);  // [MQTT-3.10.1-1]: flags 0010
        append_u16(_out, u.packet_id);
        if (_v5) {
            props.append(_out);
        }
        for (const auto& filter : u.filters) {
            append_string(_out, filter);
        }
    }

    void operator()(const Unsuback& u) {
        if (!_v5) {
            // 3.1.1 section 3.11: packet id only, no payload.
            begin(0xB0, 2u);
            append_u16(_out, u.packet_id);
            return;
        }
        const PropertyBlock props(u.properties);
        begin(0xB0, 2u + props.size() + static_cast<uint32_t>(u.reason_codes.size()));
        append_u16(_out, u.packet_id);
        props.append(_out);
        _out.append(reinterpret_cast<const char*>(u.reason_codes.data()), u.reason_codes.size());
    }

    void operator()(const Pingreq&) { begin(0xC0, 0u); }

    void operator()(const Pingresp&) { begin(0xD0, 0u); }

    void operator()(const Disconnect& d) {
        // [MQTT-3.14.2-1]: Reason Code 0x00 with no properties may be omitted (Remaining Length
        // 0); section 3.14.2.2.1 lets the Property Length go when there are no properties.
        if (!_v5 || (d.reason_code == 0 && is_empty(d.properties))) {
            begin(0xE0, 0u);
            return;
        }
        write_reason_and_properties(0xE0, d.reason_code, d.properties, true);
    }

    void operator()(const Auth& a) {
        // Section 3.15.2.1: Reason Code 0x00 and no properties may be omitted (Remaining Length
        // 0). Unlike DISCONNECT, AUTH has no form with a reason code but no Property Length.
        if (a.reason_code == 0 && is_empty(a.properties)) {
            begin(0xF0, 0u);
            return;
        }
        write_reason_and_properties(0xF0, a.reason_code, a.properties, false);
    }

  private:
    void begin(uint8_t first_byte, uint32_t remaining_length) {
        _out.reserve(_out.size() + 1u + varint_size(remaining_length) + remaining_length);
        append_u8(_out, first_byte);
        append_varint(_out, remaining_length);
    }

    void write_reason_and_properties(uint8_t first, uint8_t reason, const Properties& properties,
                                     bool may_omit_property_length) {
        if (may_omit_property_length && is_empty(properties)) {
            begin(first, 1u);
            append_u8(_out, reason);
            return;
        }
        const PropertyBlock props(properties);
        begin(first, 1u + props.size());
        append_u8(_out, reason);
        props.append(_out);
    }

    bool _v5;
    std::string& _out;
};

}  // namespace

void encode(const Packet& packet, ProtocolVersion version, std::string& out) {
    PacketWriter writer(version, out);
    std::visit(writer, packet);
}

void append_ack(std::string& out, const AckHead& ack, ProtocolVersion version) {
    // [MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1] [MQTT-3.7.2-1]: Reason Code 0x00 without
    // properties may be omitted, giving a Remaining Length of 2 (the only form before v5); with
    // a Remaining Length below 4 there is no Property Length (section 3.4.2.2.1).
    const bool with_reason = version == ProtocolVersion::V5 && ack.reason_code != 0;
    const char bytes[5] = {
        static_cast<char>(ack_first_byte(ack.type)), static_cast<char>(with_reason ? 3 : 2),
        static_cast<char>(ack.packet_id >> 8), static_cast<char>(ack.packet_id & 0xFF),
        static_cast<char>(ack.reason_code)};
    out.append(bytes, with_reason ? 5 : 4);
}

void append_varint(std::string& out, uint32_t value) {
    // [MQTT-1.5.5-1]: seven bits per byte, least significant group first, high bit = "more",
    // always the minimum number of bytes.
    do {
        uint8_t byte = static_cast<uint8_t>(value & 0x7F);
        value >>= 7;
        if (value > 0) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    } while (value > 0);
}

void append_properties(std::string& out, const Properties& properties) {
    const PropertyBlock block(properties);
    out.reserve(out.size() + block.size());
    block.append(out);
}

uint32_t properties_block_size(const Properties& properties) {
    return PropertyBlock(properties).size();
}

}  // namespace tern::codec
