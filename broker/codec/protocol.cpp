// Names of packet types and reason codes, and the MQTT 5 to 3.1.1 CONNACK code mapping.
#include "protocol.hpp"

namespace tern::codec {

std::string_view reason_code_name(ReasonCode code) noexcept {
    // Several enumerators share a value (0x00 is Success, Normal disconnection and Granted QoS 0),
    // so the switch is on the numeric value and names the most general meaning (section 2.4).
    switch (static_cast<uint8_t>(code)) {
        case 0x00:
            return "Success";
        case 0x01:
            return "Granted QoS 1";
        case 0x02:
            return "Granted QoS 2";
        case 0x04:
            return "Disconnect with Will Message";
        case 0x10:
            return "No matching subscribers";
        case 0x11:
            return "No subscription existed";
        case 0x18:
            return "Continue authentication";
        case 0x19:
            return "Re-authenticate";
        case 0x80:
            return "Unspecified error";
        case 0x81:
            return "Malformed Packet";
        case 0x82:
            return "Protocol Error";
        case 0x83:
            return "Implementation specific error";
        case 0x84:
            return "Unsupported Protocol Version";
        case 0x85:
            return "Client Identifier not valid";
        case 0x86:
            return "Bad User Name or Password";
        case 0x87:
            return "Not authorized";
        case 0x88:
            return "Server unavailable";
        case 0x89:
            return "Server busy";
        case 0x8A:
            return "Banned";
        case 0x8B:
            return "Server shutting down";
        case 0x8C:
            return "Bad authentication method";
        case 0x8D:
            return "Keep Alive timeout";
        case 0x8E:
            return "Session taken over";
        case 0x8F:
            return "Topic Filter invalid";
        case 0x90:
            return "Topic Name invalid";
        case 0x91:
            return "Packet Identifier in use";
        case 0x92:
            return "Packet Identifier not found";
        case 0x93:
            return "Receive Maximum exceeded";
        case 0x94:
            return "Topic Alias invalid";
        case 0x95:
            return "Packet too large";
        case 0x96:
            return "Message rate too high";
        case 0x97:
            return "Quota exceeded";
        case 0x98:
            return "Administrative action";
        case 0x99:
            return "Payload format invalid";
        case 0x9A:
            return "Retain not supported";
        case 0x9B:
            return "QoS not supported";
        case 0x9C:
            return "Use another server";
        case 0x9D:
            return "Server moved";
        case 0x9E:
            return "Shared Subscriptions not supported";
        case 0x9F:
            return "Connection rate exceeded";
        case 0xA0:
            return "Maximum connect time";
        case 0xA1:
            return "Subscription Identifiers not supported";
        case 0xA2:
            return "Wildcard Subscriptions not supported";
        default:
            return "Unknown reason code";
    }
}

std::string_view packet_type_name(PacketType type) noexcept {
    switch (type) {
        case PacketType::Connect:
            return "CONNECT";
        case PacketType::Connack:
            return "CONNACK";
        case PacketType::Publish:
            return "PUBLISH";
        case PacketType::Puback:
            return "PUBACK";
        case PacketType::Pubrec:
            return "PUBREC";
        case PacketType::Pubrel:
            return "PUBREL";
        case PacketType::Pubcomp:
            return "PUBCOMP";
        case PacketType::Subscribe:
            return "SUBSCRIBE";
        case PacketType::Suback:
            return "SUBACK";
        case PacketType::Unsubscribe:
            return "UNSUBSCRIBE";
        case PacketType::Unsuback:
            return "UNSUBACK";
        case PacketType::Pingreq:
            return "PINGREQ";
        case PacketType::Pingresp:
            return "PINGRESP";
        case PacketType::Disconnect:
            return "DISCONNECT";
        case PacketType::Auth:
            return "AUTH";
    }
    return "RESERVED";
}

std::optional<ConnectReturnCode> v3_connack_equivalent(ReasonCode code) noexcept {
    // 3.1.1 section 3.2.2.3 has six return codes; MQTT 5 section 3.2.2.2 has many more.
    switch (code) {
        case ReasonCode::Success:
            return ConnectReturnCode::Accepted;
        case ReasonCode::UnsupportedProtocolVersion:
            return ConnectReturnCode::UnacceptableProtocolVersion;
        case ReasonCode::ClientIdentifierNotValid:
            return ConnectReturnCode::IdentifierRejected;
        case ReasonCode::UnspecifiedError:
        case ReasonCode::ImplementationSpecificError:
        case ReasonCode::ServerUnavailable:
        case ReasonCode::ServerBusy:
        case ReasonCode::ServerShuttingDown:
        case ReasonCode::QuotaExceeded:
        case ReasonCode::UseAnotherServer:
        case ReasonCode::ServerMoved:
        case ReasonCode::ConnectionRateExceeded:
            return ConnectReturnCode::ServerUnavailable;
        case ReasonCode::BadUserNameOrPassword:
            return ConnectReturnCode::BadUserNameOrPassword;
        case ReasonCode::NotAuthorized:
        case ReasonCode::Banned:
        case ReasonCode::BadAuthenticationMethod:
            return ConnectReturnCode::NotAuthorized;
        default:
            // Malformed Packet, Protocol Error, Topic Name invalid, Packet too large, Payload
            // format invalid, Retain/QoS not supported: a 3.1.1 server closes the connection
            // without a CONNACK [MQTT-3.1.4-1] [MQTT-3.2.2-5].
            return std::nullopt;
    }
}

ConnectReturnCode to_v3_connack(ReasonCode code) noexcept {
    return v3_connack_equivalent(code).value_or(ConnectReturnCode::ServerUnavailable);
}

}  // namespace tern::codec
