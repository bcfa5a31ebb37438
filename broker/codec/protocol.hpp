// MQTT protocol constants shared by every version: packet types, versions and reason codes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tern::codec {

// The protocol level byte of CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = 3.1.1, 5 = 5.0.
enum class ProtocolVersion : uint8_t { V31 = 3, V311 = 4, V5 = 5 };

enum class PacketType : uint8_t {
    Connect = 1,
    Connack = 2,
    Publish = 3,
    Puback = 4,
    Pubrec = 5,
    Pubrel = 6,
    Pubcomp = 7,
    Subscribe = 8,
    Suback = 9,
    Unsubscribe = 10,
    Unsuback = 11,
    Pingreq = 12,
    Pingresp = 13,
    Disconnect = 14,
    Auth = 15,  // MQTT 5 only
};

// MQTT 5 reason codes (section 2.4). Several codes share a value; the name says which packet uses
// it.
enum class ReasonCode : uint8_t {
    Success = 0x00,
    NormalDisconnection = 0x00,
    GrantedQos0 = 0x00,
    GrantedQos1 = 0x01,
    GrantedQos2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QosNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
};

// MQTT 3.1/3.1.1 CONNACK return codes (3.1.1 section 3.2.2.3).
enum class ConnectReturnCode : uint8_t {
    Accepted = 0x00,
    UnacceptableProtocolVersion = 0x01,
    IdentifierRejected = 0x02,
    ServerUnavailable = 0x03,
    BadUserNameOrPassword = 0x04,
    NotAuthorized = 0x05,
};

// 3.1.1 SUBACK failure return code.
inline constexpr uint8_t kSubackFailure = 0x80;

// Largest value a Variable Byte Integer can hold (four bytes) [MQTT-1.5.5].
inline constexpr uint32_t kMaxVariableByteInteger = 268'435'455;

// Human-readable name of a reason code, for logs and reason strings ("Malformed Packet").
std::string_view reason_code_name(ReasonCode code) noexcept;

// Name of a packet type ("PUBLISH"), for logs.
std::string_view packet_type_name(PacketType type) noexcept;

// Maps an MQTT 5 CONNACK reason code to the closest 3.1.1 CONNACK return code.
// Codes without an equivalent (see v3_connack_equivalent) map to ServerUnavailable.
ConnectReturnCode to_v3_connack(ReasonCode code) noexcept;

// The 3.1.1 CONNACK return code for `code`, or nullopt when 3.1.1 has none: then a 3.1/3.1.1
// server closes the connection without sending a CONNACK [MQTT-3.1.4-1] [MQTT-3.2.2-5]. That is
// the case for Malformed Packet and Protocol Error.
std::optional<ConnectReturnCode> v3_connack_equivalent(ReasonCode code) noexcept;

}  // namespace tern::codec
