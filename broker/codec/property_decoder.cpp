// Decodes and validates an MQTT 5 property block (section 2.2.2) for a given packet type.
#include <array>

#include "wire_reader.hpp"

namespace tern::codec::detail {

namespace {

enum class PropertyType : uint8_t { None, Byte, TwoByte, FourByte, Varint, Utf8, Binary, Pair };

constexpr uint16_t scope_bit(PropertyScope scope) {
    return static_cast<uint16_t>(1u << static_cast<unsigned>(scope));
}

constexpr uint16_t kPublishAndWill =
    scope_bit(PropertyScope::Publish) | scope_bit(PropertyScope::Will);
constexpr uint16_t kAllScopes = 0x07FF;

struct PropertyInfo {
    PropertyType type = PropertyType::None;
    uint16_t scopes = 0;
    std::string_view name;
};

// Section 2.2.2.2: each identifier's data type and the packets it may appear in.
constexpr std::array<PropertyInfo, 0x2B> make_property_table() {
    std::array<PropertyInfo, 0x2B> t{};
    using S = PropertyScope;
    using T = PropertyType;
    t[0x01] = {T::Byte, kPublishAndWill, "Payload Format Indicator"};
    t[0x02] = {T::FourByte, kPublishAndWill, "Message Expiry Interval"};
    t[0x03] = {T::Utf8, kPublishAndWill, "Content Type"};
    t[0x08] = {T::Utf8, kPublishAndWill, "Response Topic"};
    t[0x09] = {T::Binary, kPublishAndWill, "Correlation Data"};
    t[0x0B] = {T::Varint, static_cast<uint16_t>(scope_bit(S::Publish) | scope_bit(S::Subscribe)),
               "Subscription Identifier"};
    t[0x11] = {T::FourByte,
               static_cast<uint16_t>(scope_bit(S::Connect) | scope_bit(S::Connack) |
                                     scope_bit(S::Disconnect)),
               "Session Expiry Interval"};
    t[0x12] = {T::Utf8, scope_bit(S::Connack), "Assigned Client Identifier"};
    t[0x13] = {T::TwoByte, scope_bit(S::Connack), "Server Keep Alive"};
    const auto auth_scopes =
        static_cast<uint16_t>(scope_bit(S::Connect) | scope_bit(S::Connack) | scope_bit(S::Auth));
    t[0x15] = {T::Utf8, auth_scopes, "Authentication Method"};
    t[0x16] = {T::Binary, auth_scopes, "Authentication Data"};
    t[0x17] = {T::Byte, scope_bit(S::Connect), "Request Problem Information"};
    t[0x18] = {T::FourByte, scope_bit(S::Will), "Will Delay Interval"};
    t[0x19] = {T::Byte, scope_bit(S::Connect), "Request Response Information"};
    t[0x1A] = {T::Utf8, scope_bit(S::Connack), "Response Information"};
    t[0x1C] = {T::Utf8, static_cast<uint16_t>(scope_bit(S::Connack) | scope_bit(S::Disconnect)),
               "Server Reference"};
    t[0x1F] = {T::Utf8,
               static_cast<uint16_t>(scope_bit(S::Connack) | scope_bit(S::PubAck) |
                                     scope_bit(S::Suback) | scope_bit(S::Unsuback) |
                                     scope_bit(S::Disconnect) | scope_bit(S::Auth)),
               "Reason String"};
    const auto limits = static_cast<uint16_t>(scope_bit(S::Connect) | scope_bit(S::Connack));
    t[0x21] = {T::TwoByte, limits, "Receive Maximum"};
    t[0x22] = {T::TwoByte, limits, "Topic Alias Maximum"};
    t[0x23] = {T::TwoByte, scope_bit(S::Publish), "Topic Alias"};
    t[0x24] = {T::Byte, scope_bit(S::Connack), "Maximum QoS"};
    t[0x25] = {T::Byte, scope_bit(S::Connack), "Retain Available"};
    t[0x26] = {T::Pair, kAllScopes, "User Property"};
    t[0x27] = {T::FourByte, limits, "Maximum Packet Size"};
    t[0x28] = {T::Byte, scope_bit(S::Connack), "Wildcard Subscription Available"};
    t[0x29] = {T::Byte, scope_bit(S::Connack), "Subscription Identifier Available"};
    t[0x2A] = {T::Byte, scope_bit(S::Connack), "Shared Subscription Available"};
    return t;
}

constexpr std::array<PropertyInfo, 0x2B> kProperties = make_property_table();

std::string describe(const PropertyInfo& info, uint8_t id, std::string_view problem) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text(info.name);
    text += " (0x";
    text += kHex[id >> 4];
    text += kHex[id & 0x0F];
    text += ") ";
    text += problem;
    return text;
}

DecodeResult read_utf8(WireReader& reader, const PropertyInfo& info, uint8_t id, std::string& out) {
    std::string_view view;
    if (!reader.read_prefixed(view)) {
        return malformed(describe(info, id, "runs past the property block"));
    }
    if (!is_valid_mqtt_utf8(view)) {
        return malformed(describe(info, id, "is not valid UTF-8 [MQTT-1.5.4-1] [MQTT-1.5.4-2]"));
    }
    out.assign(view);
    return std::nullopt;
}

// Byte properties whose only legal values are 0 and 1. Each is "a Protocol Error ... to have a
// value other than 0 or 1" (sections 3.1.2.11.6/7, 3.2.2.3.4/5/11/12/13); the Payload Format
// Indicator only defines 0 and 1 (section 3.3.2.3.2).
DecodeResult check_boolean(const PropertyInfo& info, uint8_t id, uint8_t value) {
    if (value > 1) {
        return protocol_error(describe(info, id, "must be 0 or 1"));
    }
    return std::nullopt;
}

DecodeResult store_byte(uint8_t id, const PropertyInfo& info, uint8_t value, Properties& out) {
    if (auto error = check_boolean(info, id, value)) {
        return error;
    }
    switch (static_cast<PropertyId>(id)) {
        case PropertyId::PayloadFormatIndicator:
            out.payload_format_indicator = value;
            break;
        case PropertyId::RequestProblemInformation:
            out.request_problem_information = value;
            break;
        case PropertyId::RequestResponseInformation:
            out.request_response_information = value;
            break;
        case PropertyId::MaximumQos:
            out.maximum_qos = value;
            break;
        case PropertyId::RetainAvailable:
            out.retain_available = value;
            break;
        case PropertyId::WildcardSubscriptionAvailable:
            out.wildcard_subscription_available = value;
            break;
        case PropertyId::SubscriptionIdentifierAvailable:
            out.subscription_identifier_available = value;
            break;
        default:
            out.shared_subscription_available = value;
            break;
    }
    return std::nullopt;
}

DecodeResult store_two_byte(uint8_t id, const PropertyInfo& info, uint16_t value, Properties& out) {
    switch (static_cast<PropertyId>(id)) {
        case PropertyId::ServerKeepAlive:
            out.server_keep_alive = value;
            break;
        case PropertyId::ReceiveMaximum:
            // Section 3.1.2.11.3 / 3.2.2.3.3: "a Protocol Error ... for it to have the value 0".
            if (value == 0) {
                return protocol_error(describe(info, id, "is 0"));
            }
            out.receive_maximum = value;
            break;
        case PropertyId::TopicAliasMaximum:
            out.topic_alias_maximum = value;
            break;
        default:
            // [MQTT-3.3.2-8]: a Topic Alias of 0 is not permitted. Answered with 0x94 (Topic
            // Alias invalid) like an alias above the maximum, as Mosquitto and HiveMQ do: it names
            // the actual problem better than a generic Protocol Error.
            if (value == 0) {
                return DecodeError{ReasonCode::TopicAliasInvalid,
                                   describe(info, id, "is 0 [MQTT-3.3.2-8]")};
            }
            out.topic_alias = value;
            break;
    }
    return std::nullopt;
}

DecodeResult store_four_byte(uint8_t id, const PropertyInfo& info, uint32_t value,
                             Properties& out) {
    switch (static_cast<PropertyId>(id)) {
        case PropertyId::MessageExpiryInterval:
            out.message_expiry_interval = value;
            break;
        case PropertyId::SessionExpiryInterval:
            out.session_expiry_interval = value;
            break;
        case PropertyId::WillDelayInterval:
            out.will_delay_interval = value;
            break;
        default:
            // Section 3.1.2.11.4 / 3.2.2.3.6: "a Protocol Error ... for the value to be set to
            // zero".
            if (value == 0) {
                return protocol_error(describe(info, id, "is 0"));
            }
            out.maximum_packet_size = value;
            break;
    }
    return std::nullopt;
}

DecodeResult read_string_property(WireReader& reader, uint8_t id, const PropertyInfo& info,
                                  Properties& out) {
    std::optional<std::string>* target = nullptr;
    switch (static_cast<PropertyId>(id)) {
        case PropertyId::ContentType:
            target = &out.content_type;
            break;
        case PropertyId::ResponseTopic:
            target = &out.response_topic;
            break;
        case PropertyId::AssignedClientIdentifier:
            target = &out.assigned_client_identifier;
            break;
        case PropertyId::AuthenticationMethod:
            target = &out.authentication_method;
            break;
        case PropertyId::ResponseInformation:
            target = &out.response_information;
            break;
        case PropertyId::ServerReference:
            target = &out.server_reference;
            break;
        default:
            target = &out.reason_string;
            break;
    }
    if (auto error = read_utf8(reader, info, id, target->emplace())) {
        return error;
    }
    if (id == static_cast<uint8_t>(PropertyId::ResponseTopic)) {
        // [MQTT-3.3.2-14]: no wildcards; it is used as a Topic Name, so it also must not be
        // empty [MQTT-4.7.3-1].
        if (has_wildcard(**target)) {
            return protocol_error(describe(info, id, "contains a wildcard [MQTT-3.3.2-14]"));
        }
        if ((*target)->empty()) {
            return protocol_error(describe(info, id, "is empty [MQTT-4.7.3-1]"));
        }
    }
    return std::nullopt;
}

DecodeResult read_value(WireReader& reader, uint8_t id, const PropertyInfo& info, Properties& out) {
    constexpr std::string_view kTruncated = "runs past the property block";
    switch (info.type) {
        case PropertyType::Byte: {
            uint8_t value = 0;
            if (!reader.read_u8(value)) {
                return malformed(describe(info, id, kTruncated));
            }
            return store_byte(id, info, value, out);
        }
        case PropertyType::TwoByte: {
            uint16_t value = 0;
            if (!reader.read_u16(value)) {
                return malformed(describe(info, id, kTruncated));
            }
            return store_two_byte(id, info, value, out);
        }
        case PropertyType::FourByte: {
            uint32_t value = 0;
            if (!reader.read_u32(value)) {
                return malformed(describe(info, id, kTruncated));
            }
            return store_four_byte(id, info, value, out);
        }
        case PropertyType::Varint: {
            // Subscription Identifier, the only Variable Byte Integer property. 1..268,435,455;
            // "a Protocol Error if the Subscription Identifier has a value of 0" (3.3.2.3.8).
            uint32_t value = 0;
            if (reader.read_varint(value) != VarintStatus::Ok) {
                return malformed(describe(info, id, "is not a valid Variable Byte Integer"));
            }
            if (value == 0) {
                return protocol_error(describe(info, id, "is 0"));
            }
            out.subscription_identifiers.push_back(value);
            return std::nullopt;
        }
        case PropertyType::Binary: {
            std::string_view view;
            if (!reader.read_prefixed(view)) {
                return malformed(describe(info, id, kTruncated));
            }
            auto& target = id == static_cast<uint8_t>(PropertyId::CorrelationData)
                               ? out.correlation_data
                               : out.authentication_data;
            target.emplace(view);
            return std::nullopt;
        }
        case PropertyType::Pair: {
            // [MQTT-1.5.7-1]: both strings of a pair must be valid UTF-8.
            auto& pair = out.user_properties.emplace_back();
            if (auto error = read_utf8(reader, info, id, pair.first)) {
                return error;
            }
            return read_utf8(reader, info, id, pair.second);
        }
        default:
            return read_string_property(reader, id, info, out);
    }
}

}  // namespace

DecodeResult decode_properties(WireReader& reader, PropertyScope scope, Properties& out) {
    uint32_t length = 0;
    switch (reader.read_varint(length)) {
        case VarintStatus::Ok:
            break;
        case VarintStatus::NeedMore:
            return malformed("Property Length runs past the packet");
        case VarintStatus::Invalid:
            return malformed("Property Length is not a valid integer");
    }
    WireReader block(std::span<const uint8_t>{});
    if (!reader.take(length, block)) {
        return malformed("Property Length runs past the packet");
    }
    uint64_t seen = 0;
    while (!block.empty()) {
        // Identifiers are Variable Byte Integers, but every defined one fits in one byte
        // (section 2.2.2.2); a byte with the high bit set is therefore an unknown identifier.
        uint8_t id = 0;
        block.read_u8(id);
        const PropertyInfo* info = id < kProperties.size() ? &kProperties[id] : nullptr;
        if (info == nullptr || info->type == PropertyType::None) {
            // Section 2.2.2.2: "A Control Packet which contains an Identifier which is not valid
            // for its packet type ... is a Malformed Packet."
            return malformed("unknown property identifier");
        }
        if ((info->scopes & scope_bit(scope)) == 0) {
            return malformed(describe(*info, id, "is not allowed in this packet (2.2.2.2)"));
        }
        const uint64_t bit = uint64_t{1} << id;
        const bool repeatable = id == static_cast<uint8_t>(PropertyId::UserProperty) ||
                                (id == static_cast<uint8_t>(PropertyId::SubscriptionIdentifier) &&
                                 scope == PropertyScope::Publish);
        if ((seen & bit) != 0 && !repeatable) {
            // Each property section says "It is a Protocol Error to include the <property>
            // more than once"; only User Property, and Subscription Identifier in PUBLISH
            // (3.3.2.3.8), may repeat.
            return protocol_error(describe(*info, id, "appears more than once"));
        }
        seen |= bit;
        if (auto error = read_value(block, id, *info, out)) {
            return error;
        }
    }
    return std::nullopt;
}

}  // namespace tern::codec::detail
