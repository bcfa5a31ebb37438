// The JSON envelope of a message for web clients (SSE data, REST, later /ws), and its helpers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/message.hpp"

namespace tern::bridge {

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(std::string_view bytes);
// Accepts standard base64 with or without padding; false on anything else.
bool base64_decode(std::string_view text, std::string& out);

// The envelope of `message`:
//   {"topic":..., "payload":"<text>" [, "json":<value>] | "payload":"<base64>","encoding":"base64",
//    "qos":Q, "retain":R, "timestamp":<Unix ms>, "id":"<epoch>-<seq>",
//    "properties":{"content_type", "user_properties":[[k,v],...], "response_topic",
//                  "correlation_data":"<base64>"}}
// The payload is text when it is valid UTF-8, and then also "json" when it parses as JSON.
// "id" is left out when the message has no sequence number (no history configured);
// "properties" when it has none of those four. `timestamp_ms` is used when the message carries
// no publication time.
nlohmann::ordered_json envelope(const core::Message& message, bool retain, uint64_t epoch,
                                uint64_t timestamp_ms);
// The same, serialized compactly (invalid UTF-8 in properties is replaced, never thrown).
std::string envelope_json(const core::Message& message, bool retain, uint64_t epoch,
                          uint64_t timestamp_ms);

// Serializes JSON for a response body (compact; invalid UTF-8 replaced).
std::string dump_json(const nlohmann::ordered_json& value);

// One Server-Sent Events block: "event: E\n" (when not empty), "id: I\n" (when not empty), one
// "data: " line per line of `data`, and the blank line that dispatches it.
std::string sse_event(std::string_view event, std::string_view id, std::string_view data);

}  // namespace tern::bridge
