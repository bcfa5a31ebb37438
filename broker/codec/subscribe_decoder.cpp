// Decodes SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (sections 3.8-3.11).
#include "wire_reader.hpp"

namespace tern::codec::detail {

namespace {

DecodeResult read_packet_id(WireReader& reader, std::string_view packet, uint16_t& packet_id) {
    if (!reader.read_u16(packet_id)) {
        return malformed(std::string(packet) + " too short for a Packet Identifier");
    }
    if (packet_id == 0) {
        // 5.0 [MQTT-2.2.1-3] [MQTT-2.2.1-5], 3.1.1 [MQTT-2.3.1-1]: a non-zero identifier.
        return protocol_error(std::string(packet) + " Packet Identifier is 0 [MQTT-2.2.1-3]");
    }
    return std::nullopt;
}

DecodeResult read_filter(WireReader& reader, std::string_view packet, std::string& filter) {
    std::string_view view;
    if (!reader.read_prefixed(view)) {
        return malformed(std::string(packet) + " Topic Filter runs past the packet");
    }
    if (!is_valid_mqtt_utf8(view)) {
        // [MQTT-3.8.3-1] [MQTT-3.10.3-1]: Topic Filters are UTF-8 Encoded Strings. Whether the
        // filter is well formed (wildcard placement, empty) is answered per filter in the
        // SUBACK/UNSUBACK (0x8F / 0x80), so it is not checked here.
        return malformed(std::string(packet) + " Topic Filter is not valid UTF-8 [MQTT-3.8.3-1]");
    }
    filter.assign(view);
    return std::nullopt;
}

DecodeResult check_options_v3(uint8_t options) {
    // 3.1.1 [MQTT-3-8.3-4]: reserved bits 7-2 are 0 and QoS is 0, 1 or 2, else malformed.
    if ((options & 0xFC) != 0) {
        return malformed("SUBSCRIBE reserved option bits are set [MQTT-3-8.3-4]");
    }
    if ((options & 0x03) == 3) {
        return malformed("SUBSCRIBE requested QoS is 3 [MQTT-3-8.3-4]");
    }
    return std::nullopt;
}

DecodeResult check_options_v5(uint8_t options, std::string_view filter) {
    if ((options & 0xC0) != 0) {
        return malformed("SUBSCRIBE reserved option bits 6-7 are set [MQTT-3.8.3-5]");
    }
    // Section 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3" and "It
    // is a Protocol Error to send a Retain Handling value of 3".
    if ((options & 0x03) == 3) {
        return protocol_error("SUBSCRIBE Maximum QoS is 3 (3.8.3.1)");
    }
    if (((options >> 4) & 0x03) == 3) {
        return protocol_error("SUBSCRIBE Retain Handling is 3 (3.8.3.1)");
    }
    if ((options & 0x04) != 0 && filter.starts_with("$share/")) {
        return protocol_error("SUBSCRIBE No Local on a Shared Subscription [MQTT-3.8.3-4]");
    }
    return std::nullopt;
}

// Section 3.9.3, table 3.9: the SUBACK reason codes of MQTT 5.
bool is_v5_suback_code(uint8_t code) {
    switch (code) {
        case 0x00:
        case 0x01:
        case 0x02:
        case 0x80:
        case 0x83:
        case 0x87:
        case 0x8F:
        case 0x91:
        case 0x97:
        case 0x9E:
        case 0xA1:
        case 0xA2:
            return true;
        default:
            return false;
    }
}

// Section 3.11.3, table 3.10: the UNSUBACK reason codes of MQTT 5.
bool is_unsuback_code(uint8_t code) {
    switch (code) {
        case 0x00:
        case 0x11:
        case 0x80:
        case 0x83:
        case 0x87:
        case 0x8F:
        case 0x91:
            return true;
        default:
            return false;
    }
}

// Reads the reason codes that fill the rest of a SUBACK/UNSUBACK: at least one (the request had
// at least one filter [MQTT-3.8.3-3] [MQTT-3.10.3-2]), each one defined for the packet.
DecodeResult read_reason_codes(WireReader& reader, std::string_view packet,
                               bool (*is_valid)(uint8_t), std::vector<uint8_t>& codes) {
    const std::string_view rest = reader.take_rest();
    if (rest.empty()) {
        return protocol_error(std::string(packet) + " has no reason codes");
    }
    codes.assign(rest.begin(), rest.end());
    for (uint8_t code : codes) {
        if (!is_valid(code)) {
            // [MQTT-3.9.3-2] (3.1.1 [MQTT-3.9.3-2]) [MQTT-3.11.3-2]: only the listed codes.
            return protocol_error(std::string(packet) +
                                  " reason code is not defined [MQTT-3.9.3-2]");
        }
    }
    return std::nullopt;
}

}  // namespace

DecodeResult decode_subscribe(WireReader& reader, ProtocolVersion version, Packet& out) {
    Subscribe& subscribe = out.emplace<Subscribe>();
    if (auto error = read_packet_id(reader, "SUBSCRIBE", subscribe.packet_id)) {
        return error;
    }
    const bool v5 = version == ProtocolVersion::V5;
    if (v5) {
        if (auto error =
                decode_properties(reader, PropertyScope::Subscribe, subscribe.properties)) {
            return error;
        }
    }
    while (!reader.empty()) {
        SubscribeEntry& entry = subscribe.entries.emplace_back();
        if (auto error = read_filter(reader, "SUBSCRIBE", entry.filter)) {
            return error;
        }
        uint8_t options = 0;
        if (!reader.read_u8(options)) {
            return malformed("SUBSCRIBE Topic Filter without Subscription Options");
        }
        if (auto error = v5 ? check_options_v5(options, entry.filter) : check_options_v3(options)) {
            return error;
        }
        entry.qos = options & 0x03;
        entry.no_local = (options & 0x04) != 0;
        entry.retain_as_published = (options & 0x08) != 0;
        entry.retain_handling = (options >> 4) & 0x03;
    }
    if (subscribe.entries.empty()) {
        // 3.1.1 [MQTT-3.8.3-3], 5.0 [MQTT-3.8.3-2]: "A SUBSCRIBE packet with no Payload is a
        // Protocol Error".
        return protocol_error("SUBSCRIBE has no Topic Filter [MQTT-3.8.3-3]");
    }
    return std::nullopt;
}

DecodeResult decode_suback(WireReader& reader, ProtocolVersion version, Packet& out) {
    Suback& suback = out.emplace<Suback>();
    if (auto error = read_packet_id(reader, "SUBACK", suback.packet_id)) {
        return error;
    }
    if (version == ProtocolVersion::V5) {
        if (auto error = decode_properties(reader, PropertyScope::Suback, suback.properties)) {
            return error;
        }
        return read_reason_codes(reader, "SUBACK", is_v5_suback_code, suback.reason_codes);
    }
    // 3.1.1 [MQTT-3.9.3-2]: return codes other than 0x00, 0x01, 0x02 and 0x80 are reserved.
    return read_reason_codes(
        reader, "SUBACK", [](uint8_t code) { return code <= 2 || code == kSubackFailure; },
        suback.reason_codes);
}

DecodeResult decode_unsubscribe(WireReader& reader, ProtocolVersion version, Packet& out) {
    Unsubscribe& unsubscribe = out.emplace<Unsubscribe>();
    if (auto error = read_packet_id(reader, "UNSUBSCRIBE", unsubscribe.packet_id)) {
        return error;
    }
    if (version == ProtocolVersion::V5) {
        if (auto error =
                decode_properties(reader, PropertyScope::Unsubscribe, unsubscribe.properties)) {
            return error;
        }
    }
    while (!reader.empty()) {
        if (auto error = read_filter(reader, "UNSUBSCRIBE", unsubscribe.filters.emplace_back())) {
            return error;
        }
    }
    if (unsubscribe.filters.empty()) {
        // [MQTT-3.10.3-2]: "An UNSUBSCRIBE packet with no Payload is a Protocol Error".
        return protocol_error("UNSUBSCRIBE has no Topic Filter [MQTT-3.10.3-2]");
    }
    return std::nullopt;
}

DecodeResult decode_unsuback(WireReader& reader, ProtocolVersion version, Packet& out) {
    Unsuback& unsuback = out.emplace<Unsuback>();
    if (auto error = read_packet_id(reader, "UNSUBACK", unsuback.packet_id)) {
        return error;
    }
    if (version != ProtocolVersion::V5) {
        // 3.1.1 section 3.11: Remaining Length 2, no payload.
        if (!reader.empty()) {
            return malformed("UNSUBACK Remaining Length is not 2");
        }
        return std::nullopt;
    }
    if (auto error = decode_properties(reader, PropertyScope::Unsuback, unsuback.properties)) {
        return error;
    }
    return read_reason_codes(reader, "UNSUBACK", is_unsuback_code, unsuback.reason_codes);
}

}  // namespace tern::codec::detail
