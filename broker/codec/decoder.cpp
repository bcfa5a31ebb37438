// Fixed-header parsing, first-byte validation, packet dispatch, UTF-8 validation and StreamDecoder.
#include "decoder.hpp"

#include <cstring>

#include "wire_reader.hpp"

namespace tern::codec {

using detail::DecodeResult;
using detail::malformed;
using detail::protocol_error;
using detail::WireReader;

namespace {

// Section 3.14.2.1, table 3-10: the DISCONNECT reason codes of MQTT 5.
bool is_disconnect_code(uint8_t code) {
    switch (code) {
        case 0x00:
        case 0x04:
        case 0x80:
        case 0x81:
        case 0x82:
        case 0x83:
        case 0x87:
        case 0x89:
        case 0x8B:
        case 0x8D:
        case 0x8E:
        case 0x8F:
        case 0x90:
        case 0x93:
        case 0x94:
        case 0x95:
        case 0x96:
        case 0x97:
        case 0x98:
        case 0x99:
        case 0x9A:
        case 0x9B:
        case 0x9C:
        case 0x9D:
        case 0x9E:
        case 0x9F:
        case 0xA0:
        case 0xA1:
        case 0xA2:
            return true;
        default:
            return false;
    }
}

DecodeResult decode_disconnect(WireReader& reader, ProtocolVersion version, Packet& out) {
    Disconnect& disconnect = out.emplace<Disconnect>();
    if (version != ProtocolVersion::V5) {
        if (!reader.empty()) {
            return malformed("DISCONNECT Remaining Length is not 0");  // 3.1.1 section 3.14
        }
        return std::nullopt;
    }
    // Section 3.14.2.1: with Remaining Length 0 the reason is 0x00 (Normal disconnection);
    // section 3.14.2.2.1: with Remaining Length below 2 there is no Property Length.
    if (reader.empty()) {
        return std::nullopt;
    }
    reader.read_u8(disconnect.reason_code);
    if (!is_disconnect_code(disconnect.reason_code)) {
        return protocol_error("DISCONNECT reason code is not defined [MQTT-3.14.2-1]");
    }
    if (reader.empty()) {
        return std::nullopt;
    }
    if (auto error = detail::decode_properties(reader, detail::PropertyScope::Disconnect,
                                               disconnect.properties)) {
        return error;
    }
    if (!reader.empty()) {
        return malformed("DISCONNECT has bytes after its properties");
    }
    return std::nullopt;
}

DecodeResult decode_auth(WireReader& reader, Packet& out) {
    Auth& auth = out.emplace<Auth>();
    // Section 3.15.2.1: Reason Code and Property Length may both be omitted (Remaining Length
    // 0, reason 0x00 Success); unlike DISCONNECT there is no form with only a Reason Code.
    if (reader.empty()) {
        return std::nullopt;
    }
    reader.read_u8(auth.reason_code);
    if (auth.reason_code != 0x00 && auth.reason_code != 0x18 && auth.reason_code != 0x19) {
        return protocol_error("AUTH reason code is not defined [MQTT-3.15.2-1]");
    }
    if (auto error =
            detail::decode_properties(reader, detail::PropertyScope::Auth, auth.properties)) {
        return error;
    }
    if (!reader.empty()) {
        return malformed("AUTH has bytes after its properties");
    }
    return std::nullopt;
}

DecodeResult decode_empty(WireReader& reader, PacketType type, Packet& out) {
    // PINGREQ and PINGRESP have no variable header and no payload (sections 3.12, 3.13).
    if (!reader.empty()) {
        return malformed(std::string(packet_type_name(type)) + " Remaining Length is not 0");
    }
    if (type == PacketType::Pingreq) {
        out.emplace<Pingreq>();
    } else {
        out.emplace<Pingresp>();
    }
    return std::nullopt;
}

}  // namespace

bool is_valid_mqtt_utf8(std::string_view text) noexcept {
    // Well-formed UTF-8 per RFC 3629 [MQTT-1.5.4-1]: no overlong forms, no surrogates
    // U+D800..U+DFFF, nothing above U+10FFFF, and no U+0000 [MQTT-1.5.4-2]. Runs of ASCII are
    // checked eight bytes at a time.
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    const auto* const end = p + text.size();
    constexpr uint64_t kHighBits = 0x8080808080808080ULL;
    constexpr uint64_t kLowBits = 0x0101010101010101ULL;
    while (p < end) {
        if (end - p >= 8) {
            uint64_t word = 0;
            std::memcpy(&word, p, 8);
            if ((word & kHighBits) == 0) {
                if (((word - kLowBits) & ~word & kHighBits) != 0) {
                    return false;  // a zero byte
                }
                p += 8;
                continue;
            }
        }
        const uint8_t lead = *p;
        if (lead < 0x80) {
            if (lead == 0) {
                return false;
            }
            ++p;
            continue;
        }
        std::size_t length = 0;
        uint8_t low = 0x80;  // allowed range of the second byte
        uint8_t high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;  // C0 and C1 would be overlong
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            low = lead == 0xE0 ? 0xA0 : 0x80;   // E0 80..9F is overlong
            high = lead == 0xED ? 0x9F : 0xBF;  // ED A0..BF encodes a surrogate
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            low = lead == 0xF0 ? 0x90 : 0x80;   // F0 80..8F is overlong
            high = lead == 0xF4 ? 0x8F : 0xBF;  // F4 90.. is above U+10FFFF
        } else {
            return false;  // a continuation byte, C0, C1 or F5..FF
        }
        if (static_cast<std::size_t>(end - p) < length || p[1] < low || p[1] > high) {
            return false;
        }
        for (std::size_t i = 2; i < length; ++i) {
            if ((p[i] & 0xC0) != 0x80) {
                return false;
            }
        }
        p += length;
    }
    return true;
}

FrameStatus parse_fixed_header(std::span<const uint8_t> data, uint32_t max_packet_size,
                               FrameHeader& out, DecodeError& error) noexcept {
    if (data.empty()) {
        return FrameStatus::NeedMore;
    }
    uint32_t length = 0;
    std::size_t used = 0;
    switch (detail::decode_varint(data.subspan(1), length, used)) {
        case detail::VarintStatus::NeedMore:
            return FrameStatus::NeedMore;
        case detail::VarintStatus::Invalid:
            // [MQTT-1.5.5-1]: at most four bytes, minimum length encoding. 3.1.1 section 2.2.3
            // also limits the Remaining Length to four bytes.
            error.code = ReasonCode::MalformedPacket;
            error.reason = "Remaining Length is not a valid Variable Byte Integer [MQTT-1.5.5-1]";
            return FrameStatus::Error;
        case detail::VarintStatus::Ok:
            break;
    }
    out.first_byte = data[0];
    out.remaining_length = length;
    out.header_size = static_cast<uint8_t>(1 + used);
    if (max_packet_size != 0 && out.total_size() > max_packet_size) {
        // 5.0 [MQTT-3.2.2-15] / [MQTT-3.1.2-24]: a packet over the Maximum Packet Size is a
        // Protocol Error answered with 0x95 (Packet too large).
        error.code = ReasonCode::PacketTooLarge;
        error.reason = "packet is larger than the Maximum Packet Size [MQTT-3.2.2-15]";
        return FrameStatus::Error;
    }
    return FrameStatus::Complete;
}

std::optional<DecodeError> validate_first_byte(uint8_t first_byte, ProtocolVersion version) {
    const auto type = static_cast<PacketType>(first_byte >> 4);
    const uint8_t flags = first_byte & 0x0F;
    if (first_byte >> 4 == 0) {
        return malformed("packet type 0 is reserved (2.1.2)");
    }
    if (type == PacketType::Auth && version != ProtocolVersion::V5) {
        // 3.1.1 section 2.2.1: type 15 is reserved; AUTH exists only in MQTT 5.
        return malformed("packet type 15 (AUTH) is reserved before MQTT 5");
    }
    if (type == PacketType::Publish) {
        const uint8_t qos = (flags >> 1) & 0x03;
        if (qos == 3) {
            return malformed("PUBLISH QoS is 3 [MQTT-3.3.1-4]");
        }
        // [MQTT-3.3.1-2]: DUP is 0 for every QoS 0 message. MQTT 3.1 has no such rule.
        if (qos == 0 && (flags & 0x08) != 0 && version != ProtocolVersion::V31) {
            return malformed("PUBLISH DUP flag set at QoS 0 [MQTT-3.3.1-2]");
        }
        return std::nullopt;
    }
    // MQTT 3.1 used these bits as DUP/QoS/RETAIN on every packet (PUBREL, SUBSCRIBE and
    // UNSUBSCRIBE may carry DUP on a retry), so only 3.1.1 and 5.0 reserve them, except CONNECT
    // which no 3.1 client sends with flags.
    if (version == ProtocolVersion::V31 && type != PacketType::Connect) {
        return std::nullopt;
    }
    const bool needs_0010 = type == PacketType::Pubrel || type == PacketType::Subscribe ||
                            type == PacketType::Unsubscribe;
    if (flags != (needs_0010 ? 0x02 : 0x00)) {
        // [MQTT-2.1.3-1] [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] [MQTT-3.14.1-1]
        // [MQTT-3.15.1-1]: reserved flags must have the listed value, else Malformed.
        return malformed(std::string(packet_type_name(type)) +
                         " fixed header flags are invalid [MQTT-2.1.3-1]");
    }
    return std::nullopt;
}

namespace {

// What every packet's decoding checks first: the body is the whole packet, the first byte valid.
std::optional<DecodeError> check_frame(const FrameHeader& header, std::span<const uint8_t> body,
                                       ProtocolVersion version) {
    if (body.size() != header.remaining_length) {
        return malformed("packet body does not match the Remaining Length");
    }
    return validate_first_byte(header.first_byte, version);
}

}  // namespace

std::optional<DecodeError> decode_packet(const FrameHeader& header, std::span<const uint8_t> body,
                                         ProtocolVersion version, Packet& out) {
    if (auto error = check_frame(header, body, version)) {
        return error;
    }
    WireReader reader(body);
    const PacketType type = header.type();
    switch (type) {
        case PacketType::Connect:
            return detail::decode_connect(reader, out);
        case PacketType::Connack:
            return detail::decode_connack(reader, version, out);
        case PacketType::Publish:
            return detail::decode_publish(header.first_byte & 0x0F, reader, version, out);
        case PacketType::Puback:
        case PacketType::Pubrec:
        case PacketType::Pubrel:
        case PacketType::Pubcomp:
            return detail::decode_ack(type, reader, version, out);
        case PacketType::Subscribe:
            return detail::decode_subscribe(reader, version, out);
        case PacketType::Suback:
            return detail::decode_suback(reader, version, out);
        case PacketType::Unsubscribe:
            return detail::decode_unsubscribe(reader, version, out);
        case PacketType::Unsuback:
            return detail::decode_unsuback(reader, version, out);
        case PacketType::Pingreq:
        case PacketType::Pingresp:
            return decode_empty(reader, type, out);
        case PacketType::Disconnect:
            return decode_disconnect(reader, version, out);
        case PacketType::Auth:
            return decode_auth(reader, out);
    }
    return malformed("packet type is reserved");
}

std::optional<DecodeError> decode_short_ack(const FrameHeader& header,
                                            std::span<const uint8_t> body, ProtocolVersion version,
                                            AckHead& out) {
    if (auto error = check_frame(header, body, version)) {
        return error;
    }
    WireReader reader(body);
    if (auto error = detail::decode_ack_head(header.type(), reader, version, out)) {
        return error;
    }
    if (!reader.empty()) {
        return malformed("acknowledgement has bytes after its reason code");  // caller's size check
    }
    return std::nullopt;
}

FrameStatus StreamDecoder::next(Packet& out, DecodeError& error) {
    if (_failed) {
        error = *_failed;
        return FrameStatus::Error;
    }
    const std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(_buffer.data()) + _offset,
                                        _buffer.size() - _offset);
    FrameHeader header;
    const FrameStatus status = parse_fixed_header(data, _max_packet_size, header, error);
    std::optional<DecodeError> failure;
    if (status == FrameStatus::Error) {
        failure = error;
    } else if (status == FrameStatus::Complete) {
        // Reject a bad first byte before waiting for a body that may never be worth reading.
        failure = validate_first_byte(header.first_byte, _version);
    }
    if (!failure && (status == FrameStatus::NeedMore || data.size() < header.total_size())) {
        // Keep only the unread bytes so the buffer does not grow with the stream.
        if (_offset > 0) {
            _buffer.erase(0, _offset);
            _offset = 0;
        }
        return FrameStatus::NeedMore;
    }
    if (!failure) {
        failure = decode_packet(header, data.subspan(header.header_size, header.remaining_length),
                                _version, out);
    }
    if (failure) {
        _failed = std::move(failure);
        error = *_failed;
        return FrameStatus::Error;
    }
    _offset += header.total_size();
    if (_offset == _buffer.size()) {
        _buffer.clear();
        _offset = 0;
    }
    if (const auto* connect = std::get_if<Connect>(&out)) {
        // The CONNECT fixes the version of every later packet on the connection.
        _version = connect->version;
    }
    return FrameStatus::Complete;
}

}  // namespace tern::codec
