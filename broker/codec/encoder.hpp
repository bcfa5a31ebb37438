// MQTT encoder: packets to bytes for a given protocol version.
#pragma once

#include <cstdint>
#include <string>

#include "packets.hpp"
#include "protocol.hpp"

namespace tern::codec {

// Appends the wire form of `packet` for `version` to `out`. Properties are written only for
// MQTT 5. The caller guarantees the packet is valid for the version (the encoder does not check
// the spec, it only serializes). A CONNECT is written in the version it names (Connect::version),
// like the decoder reads it. MQTT 5 acknowledgements use the shortest form the spec allows.
void encode(const Packet& packet, ProtocolVersion version, std::string& out);

// Appends an acknowledgement without properties (PUBACK, PUBREC, PUBREL, PUBCOMP), exactly as
// encode() writes the Ack with the same fields: the hot path's acks, without building a Packet.
void append_ack(std::string& out, const AckHead& ack, ProtocolVersion version);

// Appends a Variable Byte Integer [MQTT-1.5.5]. `value` must be <= kMaxVariableByteInteger.
void append_varint(std::string& out, uint32_t value);

// Number of bytes a Variable Byte Integer takes.
inline constexpr uint32_t varint_size(uint32_t value) noexcept {
    return value < 128u ? 1u : value < 16'384u ? 2u : value < 2'097'152u ? 3u : 4u;
}

// Appends the encoded property block (length + properties) of `properties` to `out`.
void append_properties(std::string& out, const Properties& properties);

// Size of the encoded property block including its length prefix.
uint32_t properties_block_size(const Properties& properties);

// Appends a two-byte big-endian integer.
inline void append_u16(std::string& out, uint16_t value) {
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xFF));
}

// Appends a length-prefixed UTF-8 string or binary data [MQTT-1.5.4].
inline void append_string(std::string& out, std::string_view text) {
    append_u16(out, static_cast<uint16_t>(text.size()));
    out.append(text);
}

}  // namespace tern::codec
