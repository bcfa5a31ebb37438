// Value types for every MQTT control packet of versions 3.1, 3.1.1 and 5.0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "properties.hpp"
#include "protocol.hpp"

namespace tern::codec {

struct Will {
    std::string topic;
    std::string payload;
    uint8_t qos = 0;
    bool retain = false;
    Properties properties;  // will properties (MQTT 5)

    bool operator==(const Will&) const = default;
};

struct Connect {
    ProtocolVersion version = ProtocolVersion::V311;
    bool clean_start = true;  // "clean session" before MQTT 5
    uint16_t keep_alive = 0;  // seconds
    std::string client_id;
    std::optional<Will> will;
    std::optional<std::string> username;
    std::optional<std::string> password;  // binary data
    Properties properties;

    bool operator==(const Connect&) const = default;
};

struct Connack {
    bool session_present = false;
    // MQTT 5: a ReasonCode; 3.1/3.1.1: a ConnectReturnCode.
    uint8_t reason_code = 0;
    Properties properties;

    bool operator==(const Connack&) const = default;
};

struct Publish {
    uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    uint16_t packet_id = 0;  // present on the wire only when qos > 0
    std::string topic;       // may be empty in MQTT 5 when a topic alias is present
    std::string payload;
    Properties properties;

    bool operator==(const Publish&) const = default;
};

// What the broker acts on in PUBACK, PUBREC, PUBREL and PUBCOMP: the hot path reads and writes
// acknowledgements without properties through this, never building an Ack and its property set.
struct AckHead {
    PacketType type = PacketType::Puback;
    uint16_t packet_id = 0;
    uint8_t reason_code = 0;  // MQTT 5; always 0 before
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape.
struct Ack {
    PacketType type = PacketType::Puback;
    uint16_t packet_id = 0;
    uint8_t reason_code = 0;  // MQTT 5; always 0 before
    Properties properties;

    bool operator==(const Ack&) const = default;
};

struct SubscribeEntry {
    std::string filter;
    uint8_t qos = 0;
    bool no_local = false;             // MQTT 5
    bool retain_as_published = false;  // MQTT 5
    uint8_t retain_handling = 0;       // MQTT 5: 0, 1 or 2

    bool operator==(const SubscribeEntry&) const = default;
};

struct Subscribe {
    uint16_t packet_id = 0;
    std::vector<SubscribeEntry> entries;
    Properties properties;

    bool operator==(const Subscribe&) const = default;
};

struct Suback {
    uint16_t packet_id = 0;
    std::vector<uint8_t> reason_codes;  // granted QoS or failure code, one per filter
    Properties properties;

    bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
    uint16_t packet_id = 0;
    std::vector<std::string> filters;
    Properties properties;

    bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
    uint16_t packet_id = 0;
    std::vector<uint8_t> reason_codes;  // MQTT 5 only; empty before
    Properties properties;

    bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
    bool operator==(const Pingreq&) const = default;
};

struct Pingresp {
    bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
    uint8_t reason_code = 0;  // MQTT 5
    Properties properties;

    bool operator==(const Disconnect&) const = default;
};

struct Auth {
    uint8_t reason_code = 0;
    Properties properties;

    bool operator==(const Auth&) const = default;
};

// Pingreq (empty) comes first: a default-constructed Packet, which the decoder then fills and an
// acknowledgement barrier holds until it knows its ack, must not build a CONNECT (1.2 KB with its
// property sets) for every packet on the hot path.
using Packet = std::variant<Pingreq, Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingresp, Disconnect, Auth>;

// The packet type of a decoded packet.
PacketType packet_type(const Packet& packet) noexcept;

}  // namespace tern::codec
