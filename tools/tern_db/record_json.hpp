// Retained messages as JSON lines for tern-db export-retained / import-retained, and base64.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "storage/records.hpp"

namespace tern::tools::db {

std::string base64_encode(std::string_view bytes);
// Throws std::invalid_argument on characters outside the alphabet or a bad length.
std::string base64_decode(std::string_view text);

// True when `bytes` can be a JSON string as is: valid UTF-8 without U+0000.
bool is_text(std::string_view bytes) noexcept;

// Every present property: numbers as numbers, UTF-8 strings as strings, binary data
// (correlation_data, authentication_data) as base64 strings, subscription_identifiers as an
// array of numbers, user_properties as an array of [key, value] pairs (order kept).
nlohmann::json properties_to_json(const codec::Properties& properties);
// The inverse. Throws std::invalid_argument naming the offending key.
codec::Properties properties_from_json(const nlohmann::json& object);

// {"topic","payload"[,"encoding":"base64"],"qos","retain","properties"[,"expires_at"]}: the
// payload is a string when it is text, base64 otherwise; expires_at is Unix milliseconds.
nlohmann::json message_to_json(const storage::MessageRecord& message);
// The inverse, validating the topic name and QoS. A properties.message_expiry_interval becomes
// expires_at = now + interval (the stored form). Throws std::invalid_argument with the reason.
storage::MessageRecord message_from_json(const nlohmann::json& object, storage::UnixMillis now);

}  // namespace tern::tools::db
