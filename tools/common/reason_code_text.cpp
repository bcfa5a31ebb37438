// Reason code tables for error messages: MQTT 5 §2.4 and MQTT 3.1.1 §3.2.2.3.
#include "reason_code_text.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace tern::tools {
namespace {

constexpr auto kReasonNames = std::to_array<std::pair<int, std::string_view>>({
    {0x00, "Success"},
    {0x01, "Granted QoS 1"},
    {0x02, "Granted QoS 2"},
    {0x04, "Disconnect with Will Message"},
    {0x10, "No matching subscribers"},
    {0x11, "No subscription existed"},
    {0x18, "Continue authentication"},
    {0x19, "Re-authenticate"},
    {0x80, "Unspecified error"},
    {0x81, "Malformed Packet"},
    {0x82, "Protocol Error"},
    {0x83, "Implementation specific error"},
    {0x84, "Unsupported Protocol Version"},
    {0x85, "Client Identifier not valid"},
    {0x86, "Bad user name or password"},
    {0x87, "Not authorized"},
    {0x88, "Server unavailable"},
    {0x89, "Server busy"},
    {0x8A, "Banned"},
    {0x8B, "Server shutting down"},
    {0x8C, "Bad authentication method"},
    {0x8D, "Keep Alive timeout"},
    {0x8E, "Session taken over"},
    {0x8F, "Topic Filter invalid"},
    {0x90, "Topic Name invalid"},
    {0x91, "Packet Identifier in use"},
    {0x92, "Packet Identifier not found"},
    {0x93, "Receive Maximum exceeded"},
    {0x94, "Topic Alias invalid"},
    {0x95, "Packet too large"},
    {0x96, "Message rate too high"},
    {0x97, "Quota exceeded"},
    {0x98, "Administrative action"},
    {0x99, "Payload format invalid"},
    {0x9A, "Retain not supported"},
    {0x9B, "QoS not supported"},
    {0x9C, "Use another server"},
    {0x9D, "Server moved"},
    {0x9E, "Shared Subscriptions not supported"},
    {0x9F, "Connection rate exceeded"},
    {0xA0, "Maximum connect time"},
    {0xA1, "Subscription Identifiers not supported"},
    {0xA2, "Wildcard Subscriptions not supported"},
});

constexpr auto kConnackV3Names = std::to_array<std::string_view>({
    "Connection accepted",
    "Unacceptable protocol version",
    "Identifier rejected",
    "Server unavailable",
    "Bad user name or password",
    "Not authorized",
});

}  // namespace

std::string_view reason_code_name(int code) {
    for (const auto& [value, name] : kReasonNames) {
        if (value == code) {
            return name;
        }
    }
    return "Unknown reason code";
}

std::string_view connack_v3_name(int code) {
    if (code >= 0 && code < static_cast<int>(kConnackV3Names.size())) {
        return kConnackV3Names[static_cast<size_t>(code)];
    }
    return "Unknown return code";
}

std::string hex_code(int code) {
    char buffer[16];
    std::snprintf(buffer, sizeof(buffer), "0x%02X", static_cast<unsigned>(code) & 0xFFu);
    return buffer;
}

std::string describe_reason_code(int code) {
    return std::string(reason_code_name(code)) + " (" + hex_code(code) + ")";
}

std::string describe_connack_code(int code, int mqtt_version) {
    if (mqtt_version >= 5) {
        return describe_reason_code(code);
    }
    return std::string(connack_v3_name(code)) + " (" + hex_code(code) + ")";
}

}  // namespace tern::tools
