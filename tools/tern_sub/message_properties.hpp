// The MQTT 5 PUBLISH properties tern-sub prints, read out of Paho's property list once.
#pragma once

#include <mqtt/properties.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tern::tools {

struct MessageProperties {
    std::optional<int> payload_format_indicator;
    std::optional<uint32_t> message_expiry_interval;
    std::optional<std::string> content_type;
    std::optional<std::string> response_topic;
    std::optional<std::string> correlation_data;  // binary, kept as raw bytes
    std::optional<int> topic_alias;
    std::vector<std::pair<std::string, std::string>> user_properties;  // in arrival order
    std::vector<uint32_t> subscription_identifiers;                    // in arrival order

    bool empty() const;
};

// Reads the PUBLISH properties of a received message (MQTT 5 §3.3.2.3).
MessageProperties read_message_properties(const mqtt::properties& properties);

}  // namespace tern::tools
