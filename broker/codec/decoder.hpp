// Incremental MQTT decoder: cuts whole packets out of a byte stream and decodes them strictly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "packets.hpp"
#include "protocol.hpp"

namespace tern::codec {

// Why a packet could not be decoded. `code` is the MQTT 5 reason code to send in DISCONNECT (or
// CONNACK for CONNECT problems); `reason` is a short human-readable explanation citing the rule.
struct DecodeError {
    ReasonCode code = ReasonCode::MalformedPacket;
    std::string reason;
};

// The fixed header of one packet [MQTT-2.1].
struct FrameHeader {
    uint8_t first_byte = 0;         // packet type (high nibble) and flags (low nibble)
    uint32_t remaining_length = 0;  // bytes after the fixed header
    uint8_t header_size = 0;        // 2..5 bytes: type byte plus the length
    PacketType type() const noexcept { return static_cast<PacketType>(first_byte >> 4); }
    std::size_t total_size() const noexcept { return header_size + std::size_t{remaining_length}; }
};

enum class FrameStatus { Complete, NeedMore, Error };

// Parses the fixed header at the start of `data`. Complete: `out` is filled (the body may still be
// incomplete: check total_size() against data.size()). NeedMore: the length is not complete yet.
// Error: `error` says why (length over four bytes, or over `max_packet_size` → PacketTooLarge).
// A max_packet_size of 0 means "no limit but the protocol's".
FrameStatus parse_fixed_header(std::span<const uint8_t> data, uint32_t max_packet_size,
                               FrameHeader& out, DecodeError& error) noexcept;

// Decodes one whole packet whose fixed header is `header` and whose body is `body`
// (exactly remaining_length bytes) for protocol version `version`. For CONNECT the version is
// read from the packet itself and `version` is ignored. Validates every normative rule that can be
// checked on a packet alone (reserved flags, UTF-8, property placement and duplicates, packet id 0,
// QoS 3, wildcards in a topic name, subscription option reserved bits, ...). Thread-safe.
//
// On failure `out` is unspecified, with one exception: when a CONNECT names a protocol level this
// codec does not support, the error is UnsupportedProtocolVersion and `out` holds a Connect whose
// `version` is the form to answer in (V31 for "MQIsdp", V311 for "MQTT"): the caller sends a
// CONNACK with return code 0x01 in that form and closes [MQTT-3.1.2-2]. A protocol name other
// than "MQTT"/"MQIsdp" is a MalformedPacket: close without CONNACK [MQTT-3.1.2-1].
// Reason codes used: MalformedPacket (cannot be parsed, reserved bits, bad UTF-8, misplaced or
// unknown property), ProtocolError (parses but breaks a rule: packet id 0, repeated property,
// property value out of range, empty SUBSCRIBE, ...), TopicNameInvalid (wildcard in a PUBLISH or
// Will topic), UnsupportedProtocolVersion. Topic Filter syntax is not checked here: MQTT 5
// answers a bad filter per entry in SUBACK (0x8F), so that is the caller's decision.
std::optional<DecodeError> decode_packet(const FrameHeader& header, std::span<const uint8_t> body,
                                         ProtocolVersion version, Packet& out);

// decode_packet() for a PUBACK, PUBREC, PUBREL or PUBCOMP whose body has no properties (at most
// 3 bytes): the same checks, without building an Ack. The caller checks the type and the size.
std::optional<DecodeError> decode_short_ack(const FrameHeader& header,
                                            std::span<const uint8_t> body, ProtocolVersion version,
                                            AckHead& out);

// Checks the first byte of a packet alone: reserved packet types (0, and 15 before MQTT 5) and the
// fixed header flags [MQTT-2.1.3-1] (PUBLISH: QoS 3 [MQTT-3.3.1-4], DUP at QoS 0
// [MQTT-3.3.1-2]). decode_packet calls it too; call it as soon as the header is parsed to reject a
// bad packet before its body arrives. MQTT 3.1 flags are not reserved (only PUBLISH QoS 3 fails).
std::optional<DecodeError> validate_first_byte(uint8_t first_byte, ProtocolVersion version);

// Validates UTF-8 per [MQTT-1.5.4-1..3]: well-formed, no surrogates, no U+0000.
bool is_valid_mqtt_utf8(std::string_view text) noexcept;

// A convenience buffer for tools and tests: feed bytes in any fragmentation, take packets out.
class StreamDecoder {
  public:
    explicit StreamDecoder(ProtocolVersion version = ProtocolVersion::V311,
                           uint32_t max_packet_size = 0)
        : _version(version), _max_packet_size(max_packet_size) {}

    void set_version(ProtocolVersion version) noexcept { _version = version; }
    void feed(std::span<const uint8_t> bytes) {
        _buffer.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    void feed(std::string_view bytes) { _buffer.append(bytes); }

    // Complete: `out` holds the next packet. NeedMore: wait for more bytes. Error: the stream is
    // broken and `error` says why; further calls keep returning Error. After a CONNECT decodes,
    // the decoder switches to that CONNECT's version for the packets that follow.
    FrameStatus next(Packet& out, DecodeError& error);

    std::size_t buffered() const noexcept { return _buffer.size() - _offset; }

  private:
    ProtocolVersion _version;
    uint32_t _max_packet_size;
    std::string _buffer;
    std::size_t _offset = 0;
    std::optional<DecodeError> _failed;
};

}  // namespace tern::codec
