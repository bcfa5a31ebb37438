// Every MQTT 5 property of codec::Properties as a table (identifier, name, member) for serializers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codec/properties.hpp"

namespace tern::storage {

// One optional property of type T: its identifier (the tag in the binary records), its
// snake_case name (the key in tern-db's JSON) and where it lives in codec::Properties.
template <typename T>
struct PropertyField {
    codec::PropertyId id;
    std::string_view name;
    std::optional<T> codec::Properties::*member;
};

using codec::Properties;
using codec::PropertyId;

inline constexpr std::array<PropertyField<uint8_t>, 8> kByteProperties{{
    {PropertyId::PayloadFormatIndicator, "payload_format_indicator",
     &Properties::payload_format_indicator},
    {PropertyId::RequestProblemInformation, "request_problem_information",
     &Properties::request_problem_information},
    {PropertyId::RequestResponseInformation, "request_response_information",
     &Properties::request_response_information},
    {PropertyId::MaximumQos, "maximum_qos", &Properties::maximum_qos},
    {PropertyId::RetainAvailable, "retain_available", &Properties::retain_available},
    {PropertyId::WildcardSubscriptionAvailable, "wildcard_subscription_available",
     &Properties::wildcard_subscription_available},
    {PropertyId::SubscriptionIdentifierAvailable, "subscription_identifier_available",
     &Properties::subscription_identifier_available},
    {PropertyId::SharedSubscriptionAvailable, "shared_subscription_available",
     &Properties::shared_subscription_available},
}};

inline constexpr std::array<PropertyField<uint16_t>, 4> kTwoByteProperties{{
    {PropertyId::ServerKeepAlive, "server_keep_alive", &Properties::server_keep_alive},
    {PropertyId::ReceiveMaximum, "receive_maximum", &Properties::receive_maximum},
    {PropertyId::TopicAliasMaximum, "topic_alias_maximum", &Properties::topic_alias_maximum},
    {PropertyId::TopicAlias, "topic_alias", &Properties::topic_alias},
}};

inline constexpr std::array<PropertyField<uint32_t>, 4> kFourByteProperties{{
    {PropertyId::MessageExpiryInterval, "message_expiry_interval",
     &Properties::message_expiry_interval},
    {PropertyId::SessionExpiryInterval, "session_expiry_interval",
     &Properties::session_expiry_interval},
    {PropertyId::WillDelayInterval, "will_delay_interval", &Properties::will_delay_interval},
    {PropertyId::MaximumPacketSize, "maximum_packet_size", &Properties::maximum_packet_size},
}};

// UTF-8 string properties.
inline constexpr std::array<PropertyField<std::string>, 7> kStringProperties{{
    {PropertyId::ContentType, "content_type", &Properties::content_type},
    {PropertyId::ResponseTopic, "response_topic", &Properties::response_topic},
    {PropertyId::AssignedClientIdentifier, "assigned_client_identifier",
     &Properties::assigned_client_identifier},
    {PropertyId::AuthenticationMethod, "authentication_method", &Properties::authentication_method},
    {PropertyId::ResponseInformation, "response_information", &Properties::response_information},
    {PropertyId::ServerReference, "server_reference", &Properties::server_reference},
    {PropertyId::ReasonString, "reason_string", &Properties::reason_string},
}};

// Binary Data properties (raw bytes in a std::string).
inline constexpr std::array<PropertyField<std::string>, 2> kBinaryProperties{{
    {PropertyId::CorrelationData, "correlation_data", &Properties::correlation_data},
    {PropertyId::AuthenticationData, "authentication_data", &Properties::authentication_data},
}};

// The two repeatable properties are not optionals and are handled by name.
inline constexpr std::string_view kSubscriptionIdentifiersName = "subscription_identifiers";
inline constexpr std::string_view kUserPropertiesName = "user_properties";

}  // namespace tern::storage
