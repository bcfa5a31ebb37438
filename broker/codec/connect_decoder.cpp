// Decodes CONNECT and CONNACK (sections 3.1 and 3.2 of MQTT 3.1.1 and 5.0, and MQTT 3.1).
#include "wire_reader.hpp"

namespace tern::codec::detail {

namespace {

constexpr uint8_t kFlagReserved = 0x01;
constexpr uint8_t kFlagCleanStart = 0x02;
constexpr uint8_t kFlagWill = 0x04;
constexpr uint8_t kFlagWillRetain = 0x20;
constexpr uint8_t kFlagPassword = 0x40;
constexpr uint8_t kFlagUserName = 0x80;

// Reads the protocol name and level and decides the version. An unknown level yields Unsupported
// Protocol Version and leaves `out` holding a Connect whose version is the form the CONNACK must be
// written in (3.1 for "MQIsdp", 3.1.1 otherwise) [MQTT-3.1.2-2].
DecodeResult read_protocol(WireReader& reader, Packet& out, ProtocolVersion& version) {
    std::string_view name;
    uint8_t level = 0;
    if (!reader.read_prefixed(name) || !reader.read_u8(level)) {
        return malformed("CONNECT too short for protocol name and level");
    }
    if (name == "MQTT") {
        if (level == 4 || level == 5) {
            version = static_cast<ProtocolVersion>(level);
            return std::nullopt;
        }
        out.emplace<Connect>().version = ProtocolVersion::V311;
    } else if (name == "MQIsdp") {
        if (level == 3) {
            version = ProtocolVersion::V31;
            return std::nullopt;
        }
        out.emplace<Connect>().version = ProtocolVersion::V31;
    } else {
        // [MQTT-3.1.2-1]: the name must be "MQTT" (3.1: "MQIsdp"); otherwise this is not an MQTT
        // CONNECT and the server closes the connection.
        return malformed("CONNECT protocol name is not MQTT [MQTT-3.1.2-1]");
    }
    return make_error(
        ReasonCode::UnsupportedProtocolVersion,
        "CONNECT protocol level " + std::to_string(level) + " is not supported [MQTT-3.1.2-2]");
}

DecodeResult check_flags(uint8_t flags, ProtocolVersion version) {
    if ((flags & kFlagReserved) != 0) {
        return malformed("CONNECT reserved flag is set [MQTT-3.1.2-3]");
    }
    const uint8_t will_qos = (flags >> 3) & 0x03;
    if ((flags & kFlagWill) == 0) {
        // 3.1.1 [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15]; 5.0 [MQTT-3.1.2-11]
        // [MQTT-3.1.2-13]: without a will, Will QoS and Will Retain must be 0.
        if (will_qos != 0 || (flags & kFlagWillRetain) != 0) {
            return malformed(
                "CONNECT Will QoS or Will Retain set without Will Flag [MQTT-3.1.2-11]");
        }
    } else if (will_qos == 3) {
        // 3.1.1 [MQTT-3.1.2-14]; 5.0 section 3.1.2.6: "A value of 3 (0x03) is a Malformed Packet".
        return malformed("CONNECT Will QoS is 3 [MQTT-3.1.2-14]");
    }
    if (version != ProtocolVersion::V5 && (flags & kFlagPassword) != 0 &&
        (flags & kFlagUserName) == 0) {
        // 3.1.1 [MQTT-3.1.2-22] (and 3.1): no password without a user name. MQTT 5 allows it.
        return malformed("CONNECT Password Flag set without User Name Flag [MQTT-3.1.2-22]");
    }
    return std::nullopt;
}

DecodeResult read_will(WireReader& reader, ProtocolVersion version, uint8_t flags, Will& will) {
    will.qos = (flags >> 3) & 0x03;
    will.retain = (flags & kFlagWillRetain) != 0;
    if (version == ProtocolVersion::V5) {
        if (auto error = decode_properties(reader, PropertyScope::Will, will.properties)) {
            return error;
        }
    }
    std::string_view topic;
    std::string_view payload;
    if (!reader.read_prefixed(topic)) {
        return malformed("CONNECT Will Topic runs past the packet");
    }
    if (!is_valid_mqtt_utf8(topic)) {
        return malformed("CONNECT Will Topic is not valid UTF-8 [MQTT-3.1.3-11]");
    }
    if (topic.empty()) {
        return protocol_error("CONNECT Will Topic is empty [MQTT-4.7.3-1]");
    }
    if (has_wildcard(topic)) {
        // The Will Topic becomes the Topic Name of the will PUBLISH [MQTT-3.3.2-2]; MQTT 5 lists
        // 0x90 (Topic Name invalid) among the CONNACK reason codes for it.
        return make_error(ReasonCode::TopicNameInvalid,
                          "CONNECT Will Topic contains a wildcard [MQTT-3.3.2-2]");
    }
    if (!reader.read_prefixed(payload)) {
        return malformed("CONNECT Will Payload runs past the packet");
    }
    will.topic.assign(topic);
    will.payload.assign(payload);
    return std::nullopt;
}

DecodeResult read_credentials(WireReader& reader, uint8_t flags, Connect& connect) {
    std::string_view text;
    if ((flags & kFlagUserName) != 0) {
        // [MQTT-3.1.2-17] / 5.0 [MQTT-3.1.2-17]: the flag says the User Name is present.
        if (!reader.read_prefixed(text)) {
            return malformed("CONNECT User Name runs past the packet");
        }
        if (!is_valid_mqtt_utf8(text)) {
            return malformed("CONNECT User Name is not valid UTF-8 [MQTT-3.1.3-11]");
        }
        connect.username.emplace(text);
    }
    if ((flags & kFlagPassword) != 0) {
        if (!reader.read_prefixed(text)) {
            return malformed("CONNECT Password runs past the packet");
        }
        connect.password.emplace(text);  // binary data (section 3.1.3.5 / 3.1.3.6)
    }
    return std::nullopt;
}

}  // namespace

DecodeResult decode_connect(WireReader& reader, Packet& out) {
    ProtocolVersion version = ProtocolVersion::V311;
    if (auto error = read_protocol(reader, out, version)) {
        return error;
    }
    uint8_t flags = 0;
    uint16_t keep_alive = 0;
    if (!reader.read_u8(flags) || !reader.read_u16(keep_alive)) {
        return malformed("CONNECT too short for flags and Keep Alive");
    }
    if (auto error = check_flags(flags, version)) {
        return error;
    }
    Connect& connect = out.emplace<Connect>();
    connect.version = version;
    connect.clean_start = (flags & kFlagCleanStart) != 0;
    connect.keep_alive = keep_alive;
    if (version == ProtocolVersion::V5) {
        if (auto error = decode_properties(reader, PropertyScope::Connect, connect.properties)) {
            return error;
        }
        if (connect.properties.authentication_data && !connect.properties.authentication_method) {
            // Section 3.1.2.11.10: "a Protocol Error to include Authentication Data if there is
            // no Authentication Method".
            return protocol_error("CONNECT Authentication Data without Authentication Method");
        }
    }
    std::string_view client_id;
    if (!reader.read_prefixed(client_id)) {
        // [MQTT-3.1.3-3]: the Client Identifier must be present.
        return malformed("CONNECT Client Identifier runs past the packet [MQTT-3.1.3-3]");
    }
    if (!is_valid_mqtt_utf8(client_id)) {
        return malformed("CONNECT Client Identifier is not valid UTF-8 [MQTT-3.1.3-4]");
    }
    connect.client_id.assign(client_id);
    if ((flags & kFlagWill) != 0) {
        if (auto error = read_will(reader, version, flags, connect.will.emplace())) {
            return error;
        }
    }
    if (auto error = read_credentials(reader, flags, connect)) {
        return error;
    }
    if (!reader.empty()) {
        return malformed("CONNECT has bytes after its last field");
    }
    return std::nullopt;
}

namespace {

// Section 3.2.2.2, table 3-1: the CONNACK reason codes of MQTT 5.
bool is_v5_connack_code(uint8_t code) {
    switch (code) {
        case 0x00:
        case 0x80:
        case 0x81:
        case 0x82:
        case 0x83:
        case 0x84:
        case 0x85:
        case 0x86:
        case 0x87:
        case 0x88:
        case 0x89:
        case 0x8A:
        case 0x8C:
        case 0x90:
        case 0x95:
        case 0x97:
        case 0x99:
        case 0x9A:
        case 0x9B:
        case 0x9C:
        case 0x9D:
        case 0x9F:
            return true;
        default:
            return false;
    }
}

}  // namespace

DecodeResult decode_connack(WireReader& reader, ProtocolVersion version, Packet& out) {
    uint8_t flags = 0;
    uint8_t code = 0;
    if (!reader.read_u8(flags) || !reader.read_u8(code)) {
        return malformed("CONNACK too short");
    }
    if ((flags & 0xFE) != 0) {
        // [MQTT-3.2.2-1]: bits 7-1 of the Connect Acknowledge Flags are reserved and 0.
        return malformed("CONNACK reserved flag bits are set [MQTT-3.2.2-1]");
    }
    const bool v5 = version == ProtocolVersion::V5;
    if (v5 ? !is_v5_connack_code(code) : code > 5) {
        // 3.1.1 section 3.2.2.3: values 6-255 are reserved; 5.0 [MQTT-3.2.2-7] lists the codes.
        return protocol_error("CONNACK reason code is not defined");
    }
    if ((flags & 0x01) != 0 && code != 0) {
        // 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]: Session Present is 0 when refused.
        return protocol_error("CONNACK Session Present with a failure code [MQTT-3.2.2-6]");
    }
    Connack& connack = out.emplace<Connack>();
    connack.session_present = (flags & 0x01) != 0;
    connack.reason_code = code;
    if (v5) {
        if (auto error = decode_properties(reader, PropertyScope::Connack, connack.properties)) {
            return error;
        }
    }
    if (!reader.empty()) {
        return malformed("CONNACK has bytes after its last field");
    }
    return std::nullopt;
}

}  // namespace tern::codec::detail
