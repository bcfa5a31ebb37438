// Internal to tern_codec: a bounds-checked reader over one packet body and the error helpers the
// packet decoders share. Not part of the public codec interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "decoder.hpp"
#include "protocol.hpp"

namespace tern::codec::detail {

using DecodeResult = std::optional<DecodeError>;

inline DecodeError make_error(ReasonCode code, std::string_view reason) {
    return DecodeError{code, std::string(reason)};
}

inline DecodeResult malformed(std::string_view reason) {
    return make_error(ReasonCode::MalformedPacket, reason);
}

inline DecodeResult protocol_error(std::string_view reason) {
    return make_error(ReasonCode::ProtocolError, reason);
}

enum class VarintStatus { Ok, NeedMore, Invalid };

// Decodes a Variable Byte Integer [MQTT-1.5.5-1] from the start of `data`. Invalid: a fifth byte
// would be needed, or the encoding is longer than the minimum (a trailing 0x00 group), which
// [MQTT-1.5.5-1] forbids ("MUST use the minimum number of bytes"). NeedMore: `data` ends early.
inline VarintStatus decode_varint(std::span<const uint8_t> data, uint32_t& value,
                                  std::size_t& used) noexcept {
    uint32_t result = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i >= data.size()) {
            return VarintStatus::NeedMore;
        }
        const uint8_t byte = data[i];
        result |= static_cast<uint32_t>(byte & 0x7F) << (7 * i);
        if ((byte & 0x80) == 0) {
            if (i > 0 && byte == 0) {
                return VarintStatus::Invalid;  // non-minimal, e.g. 0x80 0x00
            }
            value = result;
            used = i + 1;
            return VarintStatus::Ok;
        }
    }
    return VarintStatus::Invalid;  // continuation bit set on the fourth byte
}

// Reads big-endian integers, Variable Byte Integers and length-prefixed fields from one packet
// body. Every read checks bounds and returns false (or NeedMore) rather than reading past the end;
// the caller turns that into a Malformed Packet.
class WireReader {
  public:
    explicit WireReader(std::span<const uint8_t> data) noexcept : _data(data) {}

    std::size_t remaining() const noexcept { return _data.size() - _pos; }
    bool empty() const noexcept { return _pos == _data.size(); }

    bool read_u8(uint8_t& out) noexcept {
        if (remaining() < 1) {
            return false;
        }
        out = _data[_pos++];
        return true;
    }

    bool read_u16(uint16_t& out) noexcept {
        if (remaining() < 2) {
            return false;
        }
        out = static_cast<uint16_t>((_data[_pos] << 8) | _data[_pos + 1]);
        _pos += 2;
        return true;
    }

    bool read_u32(uint32_t& out) noexcept {
        if (remaining() < 4) {
            return false;
        }
        out = (static_cast<uint32_t>(_data[_pos]) << 24) |
              (static_cast<uint32_t>(_data[_pos + 1]) << 16) |
              (static_cast<uint32_t>(_data[_pos + 2]) << 8) |
              static_cast<uint32_t>(_data[_pos + 3]);
        _pos += 4;
        return true;
    }

    VarintStatus read_varint(uint32_t& out) noexcept {
        std::size_t used = 0;
        const VarintStatus status = decode_varint(_data.subspan(_pos), out, used);
        if (status == VarintStatus::Ok) {
            _pos += used;
        }
        return status;
    }

    // A two-byte length followed by that many bytes (UTF-8 string or binary data, section 1.5.4
    // and 1.5.6). The view points into the packet body; nothing is copied.
    bool read_prefixed(std::string_view& out) noexcept {
        uint16_t length = 0;
        if (!read_u16(length)) {
            return false;
        }
        if (remaining() < length) {
            return false;
        }
        out = std::string_view(reinterpret_cast<const char*>(_data.data() + _pos), length);
        _pos += length;
        return true;
    }

    // Splits off the next `length` bytes as a reader of their own.
    bool take(std::size_t length, WireReader& out) noexcept {
        if (remaining() < length) {
            return false;
        }
        out = WireReader(_data.subspan(_pos, length));
        _pos += length;
        return true;
    }

    // Everything left (a PUBLISH payload, SUBACK reason codes).
    std::string_view take_rest() noexcept {
        const std::string_view rest(reinterpret_cast<const char*>(_data.data() + _pos),
                                    remaining());
        _pos = _data.size();
        return rest;
    }

  private:
    std::span<const uint8_t> _data;
    std::size_t _pos = 0;
};

// True when `topic` contains a wildcard character, which a Topic Name must not
// [MQTT-3.3.2-2] [MQTT-4.7.0-1] (3.1.1: [MQTT-4.7.1-1]).
inline bool has_wildcard(std::string_view topic) noexcept {
    // Two memchr scans: find_first_of would call memchr once per character of the topic.
    return std::memchr(topic.data(), '+', topic.size()) != nullptr ||
           std::memchr(topic.data(), '#', topic.size()) != nullptr;
}

// Which packet a property block belongs to; decides which identifiers are allowed (section
// 2.2.2.2, table of properties).
enum class PropertyScope : uint8_t {
    Connect,
    Will,
    Connack,
    Publish,
    PubAck,  // PUBACK, PUBREC, PUBREL and PUBCOMP
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Disconnect,
    Auth,
};

// Reads a Property Length and the properties it covers into `out` (which must be empty), checking
// identifiers, placement, repetition, value ranges and UTF-8.
DecodeResult decode_properties(WireReader& reader, PropertyScope scope, Properties& out);

// The per-family body decoders; `reader` holds exactly the packet's Remaining Length bytes.
DecodeResult decode_connect(WireReader& reader, Packet& out);
DecodeResult decode_connack(WireReader& reader, ProtocolVersion version, Packet& out);
DecodeResult decode_publish(uint8_t flags, WireReader& reader, ProtocolVersion version,
                            Packet& out);
DecodeResult decode_ack(PacketType type, WireReader& reader, ProtocolVersion version, Packet& out);
// An acknowledgement up to its properties; `reader` is left at the Property Length, if any.
DecodeResult decode_ack_head(PacketType type, WireReader& reader, ProtocolVersion version,
                             AckHead& head);
DecodeResult decode_subscribe(WireReader& reader, ProtocolVersion version, Packet& out);
DecodeResult decode_suback(WireReader& reader, ProtocolVersion version, Packet& out);
DecodeResult decode_unsubscribe(WireReader& reader, ProtocolVersion version, Packet& out);
DecodeResult decode_unsuback(WireReader& reader, ProtocolVersion version, Packet& out);

}  // namespace tern::codec::detail
