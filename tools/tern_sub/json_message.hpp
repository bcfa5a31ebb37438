// tern-sub --json: one JSON object per received message.
#pragma once

#include <mqtt/message.h>

#include <string>
#include <string_view>

#include "message_properties.hpp"

namespace tern::tools {

// {"topic":…,"payload":…,"qos":…,"retain":…,"properties":{…}} on one line, no newline. The
// payload is a JSON string when it is valid UTF-8, else base64 with "encoding":"base64";
// correlation data likewise with "correlation_data_encoding":"base64". "properties" appears
// only when the message has any: content_type, user_properties [[k,v],…], response_topic,
// correlation_data, message_expiry_interval, subscription_identifiers [n,…],
// payload_format_indicator, topic_alias.
std::string message_to_json(const mqtt::message& message, const MessageProperties& properties);

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view bytes);

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);

}  // namespace tern::tools
