// MQTT 5 properties (section 2.2.2): one struct holding every property a packet may carry.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tern::codec {

// Property identifiers (section 2.2.2.2).
enum class PropertyId : uint8_t {
    PayloadFormatIndicator = 0x01,
    MessageExpiryInterval = 0x02,
    ContentType = 0x03,
    ResponseTopic = 0x08,
    CorrelationData = 0x09,
    SubscriptionIdentifier = 0x0B,
    SessionExpiryInterval = 0x11,
    AssignedClientIdentifier = 0x12,
    ServerKeepAlive = 0x13,
    AuthenticationMethod = 0x15,
    AuthenticationData = 0x16,
    RequestProblemInformation = 0x17,
    WillDelayInterval = 0x18,
    RequestResponseInformation = 0x19,
    ResponseInformation = 0x1A,
    ServerReference = 0x1C,
    ReasonString = 0x1F,
    ReceiveMaximum = 0x21,
    TopicAliasMaximum = 0x22,
    TopicAlias = 0x23,
    MaximumQos = 0x24,
    RetainAvailable = 0x25,
    UserProperty = 0x26,
    MaximumPacketSize = 0x27,
    WildcardSubscriptionAvailable = 0x28,
    SubscriptionIdentifierAvailable = 0x29,
    SharedSubscriptionAvailable = 0x2A,
};

using UserProperties = std::vector<std::pair<std::string, std::string>>;

// Every MQTT 5 property. Absent properties are empty optionals. Binary data (correlation data,
// authentication data) is held in std::string as raw bytes. User properties keep their order
// [MQTT-3.3.2-18]. Only PUBLISH may carry several subscription identifiers; SUBSCRIBE carries at
// most one.
struct Properties {
    std::optional<uint8_t> payload_format_indicator;
    std::optional<uint32_t> message_expiry_interval;
    std::optional<std::string> content_type;
    std::optional<std::string> response_topic;
    std::optional<std::string> correlation_data;
    std::vector<uint32_t> subscription_identifiers;
    std::optional<uint32_t> session_expiry_interval;
    std::optional<std::string> assigned_client_identifier;
    std::optional<uint16_t> server_keep_alive;
    std::optional<std::string> authentication_method;
    std::optional<std::string> authentication_data;
    std::optional<uint8_t> request_problem_information;
    std::optional<uint32_t> will_delay_interval;
    std::optional<uint8_t> request_response_information;
    std::optional<std::string> response_information;
    std::optional<std::string> server_reference;
    std::optional<std::string> reason_string;
    std::optional<uint16_t> receive_maximum;
    std::optional<uint16_t> topic_alias_maximum;
    std::optional<uint16_t> topic_alias;
    std::optional<uint8_t> maximum_qos;
    std::optional<uint8_t> retain_available;
    UserProperties user_properties;
    std::optional<uint32_t> maximum_packet_size;
    std::optional<uint8_t> wildcard_subscription_available;
    std::optional<uint8_t> subscription_identifier_available;
    std::optional<uint8_t> shared_subscription_available;

    bool operator==(const Properties&) const = default;

    // True when no property is set: what most packets carry (every MQTT 3.1.1 one). Cheaper
    // than comparing with a default Properties, and on the path of every PUBLISH and ack.
    bool empty() const noexcept {
        return !payload_format_indicator && !message_expiry_interval && !content_type &&
               !response_topic && !correlation_data && subscription_identifiers.empty() &&
               !session_expiry_interval && !assigned_client_identifier && !server_keep_alive &&
               !authentication_method && !authentication_data && !request_problem_information &&
               !will_delay_interval && !request_response_information && !response_information &&
               !server_reference && !reason_string && !receive_maximum && !topic_alias_maximum &&
               !topic_alias && !maximum_qos && !retain_available && user_properties.empty() &&
               !maximum_packet_size && !wildcard_subscription_available &&
               !subscription_identifier_available && !shared_subscription_available;
    }
};

// A property set that never changes once built, shared by everything holding a copy (a message
// and its storage records), and allocated only when a property is set: the struct is ~500
// bytes, and most messages (every MQTT 3.1.1 one) have none.
class SharedProperties {
  public:
    SharedProperties() = default;
    explicit SharedProperties(Properties&& properties)
        : _set(properties.empty() ? nullptr
                                  : std::make_shared<const Properties>(std::move(properties))) {}

    // The set; an empty one when none was given.
    const Properties& get() const noexcept { return _set ? *_set : none(); }
    // The set, or null when none was given (never an empty set: the constructor decided that).
    const Properties* pointer() const noexcept { return _set.get(); }
    bool operator==(const SharedProperties& other) const { return get() == other.get(); }

  private:
    static const Properties& none() noexcept {
        static const Properties kNone;
        return kNone;
    }
    std::shared_ptr<const Properties> _set;  // null = no property
};

}  // namespace tern::codec
