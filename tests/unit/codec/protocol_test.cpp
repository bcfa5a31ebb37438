// Names of packet types and reason codes, packet_type(), and the 5.0 to 3.1.1 CONNACK mapping.
#include "codec_test_support.hpp"

namespace tern::codec::test {

TEST_CASE("Reason codes have the names the spec gives them") {
    CHECK(reason_code_name(ReasonCode::Success) == "Success");
    CHECK(reason_code_name(ReasonCode::NormalDisconnection) == "Success");
    CHECK(reason_code_name(ReasonCode::GrantedQos2) == "Granted QoS 2");
    CHECK(reason_code_name(ReasonCode::MalformedPacket) == "Malformed Packet");
    CHECK(reason_code_name(ReasonCode::ProtocolError) == "Protocol Error");
    CHECK(reason_code_name(ReasonCode::UnsupportedProtocolVersion) ==
          "Unsupported Protocol Version");
    CHECK(reason_code_name(ReasonCode::TopicNameInvalid) == "Topic Name invalid");
    CHECK(reason_code_name(ReasonCode::PacketTooLarge) == "Packet too large");
    CHECK(reason_code_name(ReasonCode::WildcardSubscriptionsNotSupported) ==
          "Wildcard Subscriptions not supported");
    CHECK(reason_code_name(static_cast<ReasonCode>(0x03)) == "Unknown reason code");
}

TEST_CASE("Packet types have their spec names") {
    CHECK(packet_type_name(PacketType::Connect) == "CONNECT");
    CHECK(packet_type_name(PacketType::Pubrel) == "PUBREL");
    CHECK(packet_type_name(PacketType::Unsuback) == "UNSUBACK");
    CHECK(packet_type_name(PacketType::Auth) == "AUTH");
    CHECK(packet_type_name(static_cast<PacketType>(0)) == "RESERVED");
}

TEST_CASE("packet_type names the type of every packet value") {
    CHECK(packet_type(Connect{}) == PacketType::Connect);
    CHECK(packet_type(Connack{}) == PacketType::Connack);
    CHECK(packet_type(Publish{}) == PacketType::Publish);
    CHECK(packet_type(Ack{PacketType::Pubrec, 1, 0, {}}) == PacketType::Pubrec);
    CHECK(packet_type(Ack{PacketType::Pubcomp, 1, 0, {}}) == PacketType::Pubcomp);
    CHECK(packet_type(Subscribe{}) == PacketType::Subscribe);
    CHECK(packet_type(Suback{}) == PacketType::Suback);
    CHECK(packet_type(Unsubscribe{}) == PacketType::Unsubscribe);
    CHECK(packet_type(Unsuback{}) == PacketType::Unsuback);
    CHECK(packet_type(Pingreq{}) == PacketType::Pingreq);
    CHECK(packet_type(Pingresp{}) == PacketType::Pingresp);
    CHECK(packet_type(Disconnect{}) == PacketType::Disconnect);
    CHECK(packet_type(Auth{}) == PacketType::Auth);
}

TEST_CASE("MQTT 5 CONNACK codes map to the closest 3.1.1 return codes") {
    CHECK(to_v3_connack(ReasonCode::Success) == ConnectReturnCode::Accepted);
    CHECK(to_v3_connack(ReasonCode::UnsupportedProtocolVersion) ==
          ConnectReturnCode::UnacceptableProtocolVersion);
    CHECK(to_v3_connack(ReasonCode::ClientIdentifierNotValid) ==
          ConnectReturnCode::IdentifierRejected);
    CHECK(to_v3_connack(ReasonCode::ServerBusy) == ConnectReturnCode::ServerUnavailable);
    CHECK(to_v3_connack(ReasonCode::ServerUnavailable) == ConnectReturnCode::ServerUnavailable);
    CHECK(to_v3_connack(ReasonCode::BadUserNameOrPassword) ==
          ConnectReturnCode::BadUserNameOrPassword);
    CHECK(to_v3_connack(ReasonCode::NotAuthorized) == ConnectReturnCode::NotAuthorized);
    CHECK(to_v3_connack(ReasonCode::Banned) == ConnectReturnCode::NotAuthorized);
    // Protocol violations have no 3.1.1 code: the connection closes without a CONNACK.
    CHECK_FALSE(v3_connack_equivalent(ReasonCode::MalformedPacket).has_value());
    CHECK_FALSE(v3_connack_equivalent(ReasonCode::ProtocolError).has_value());
    CHECK(v3_connack_equivalent(ReasonCode::Banned) == ConnectReturnCode::NotAuthorized);
    CHECK(to_v3_connack(ReasonCode::MalformedPacket) == ConnectReturnCode::ServerUnavailable);
}

}  // namespace tern::codec::test
