// JSON rendering of received messages for tern-sub --json (nlohmann::ordered_json keeps the
// documented key order).
#include "json_message.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>

namespace tern::tools {
namespace {

using Json = nlohmann::ordered_json;

// Adds key (and key_encoding) holding bytes as a string or, when not UTF-8, as base64.
void add_bytes(Json& object, const std::string& key, const std::string& bytes,
               const std::string& encoding_key) {
    if (is_valid_utf8(bytes)) {
        object[key] = bytes;
        return;
    }
    object[key] = base64_encode(bytes);
    object[encoding_key] = "base64";
}

Json properties_to_json(const MessageProperties& properties) {
    Json out = Json::object();
    if (properties.content_type) {
        out["content_type"] = *properties.content_type;
    }
    if (!properties.user_properties.empty()) {
        Json pairs = Json::array();
        for (const auto& [key, value] : properties.user_properties) {
            pairs.push_back(Json::array({key, value}));
        }
        out["user_properties"] = std::move(pairs);
    }
    if (properties.response_topic) {
        out["response_topic"] = *properties.response_topic;
    }
    if (properties.correlation_data) {
        add_bytes(out, "correlation_data", *properties.correlation_data,
                  "correlation_data_encoding");
    }
    if (properties.message_expiry_interval) {
        out["message_expiry_interval"] = *properties.message_expiry_interval;
    }
    if (!properties.subscription_identifiers.empty()) {
        out["subscription_identifiers"] = properties.subscription_identifiers;
    }
    if (properties.payload_format_indicator) {
        out["payload_format_indicator"] = *properties.payload_format_indicator;
    }
    if (properties.topic_alias) {
        out["topic_alias"] = *properties.topic_alias;
    }
    return out;
}

}  // namespace

std::string message_to_json(const mqtt::message& message, const MessageProperties& properties) {
    Json out = Json::object();
    out["topic"] = message.get_topic();
    add_bytes(out, "payload", message.get_payload_str(), "encoding");
    out["qos"] = message.get_qos();
    out["retain"] = message.is_retained();
    if (!properties.empty()) {
        out["properties"] = properties_to_json(properties);
    }
    // A topic is UTF-8 by the spec [MQTT-1.5.4-1]; replace rather than throw if a broker
    // breaks that.
    return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool is_valid_utf8(std::string_view bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
        auto byte = static_cast<uint8_t>(bytes[i]);
        size_t extra = 0;
        uint32_t code_point = 0;
        if (byte < 0x80) {
            ++i;
            continue;
        } else if ((byte & 0xE0) == 0xC0) {
            extra = 1;
            code_point = byte & 0x1Fu;
        } else if ((byte & 0xF0) == 0xE0) {
            extra = 2;
            code_point = byte & 0x0Fu;
        } else if ((byte & 0xF8) == 0xF0) {
            extra = 3;
            code_point = byte & 0x07u;
        } else {
            return false;
        }
        if (i + extra >= bytes.size()) {
            return false;
        }
        for (size_t k = 1; k <= extra; ++k) {
            auto next = static_cast<uint8_t>(bytes[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code_point = (code_point << 6) | (next & 0x3Fu);
        }
        constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
        if (code_point < kMinimum[extra] || code_point > 0x10FFFF ||
            (code_point >= 0xD800 && code_point <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t group = (static_cast<uint8_t>(bytes[i]) << 16) |
                         (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                         static_cast<uint8_t>(bytes[i + 2]);
        out.push_back(kAlphabet[(group >> 18) & 0x3F]);
        out.push_back(kAlphabet[(group >> 12) & 0x3F]);
        out.push_back(kAlphabet[(group >> 6) & 0x3F]);
        out.push_back(kAlphabet[group & 0x3F]);
    }
    size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t group = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
        if (rest == 2) {
            group |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
        }
        out.push_back(kAlphabet[(group >> 18) & 0x3F]);
        out.push_back(kAlphabet[(group >> 12) & 0x3F]);
        out.push_back(rest == 2 ? kAlphabet[(group >> 6) & 0x3F] : '=');
        out.push_back('=');
    }
    return out;
}

}  // namespace tern::tools
