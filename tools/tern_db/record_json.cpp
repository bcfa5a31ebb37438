// Retained messages as JSON lines for tern-db export-retained / import-retained, and base64.
#include "record_json.hpp"

#include <limits>
#include <stdexcept>

#include "codec/decoder.hpp"
#include "core/topic.hpp"
#include "storage/property_table.hpp"

namespace tern::tools::db {
namespace {

using nlohmann::json;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    std::size_t position = kAlphabet.find(c);
    return position == std::string_view::npos ? -1 : static_cast<int>(position);
}

[[noreturn]] void bad(const std::string& reason) {
    throw std::invalid_argument(reason);
}

template <typename T>
T unsigned_number(const json& value, std::string_view name) {
    if (!value.is_number_unsigned() || value.get<uint64_t>() > std::numeric_limits<T>::max()) {
        bad("'" + std::string(name) + "' must be an integer from 0 to " +
            std::to_string(std::numeric_limits<T>::max()));
    }
    return static_cast<T>(value.get<uint64_t>());
}

std::string string_value(const json& value, std::string_view name) {
    if (!value.is_string()) {
        bad("'" + std::string(name) + "' must be a string");
    }
    return value.get<std::string>();
}

std::string binary_value(const json& value, std::string_view name) {
    try {
        return base64_decode(string_value(value, name));
    } catch (const std::invalid_argument& error) {
        bad("'" + std::string(name) + "': " + error.what());
    }
}

// Sets the property `key` from `value`; false when no property has that name.
bool set_property(codec::Properties& properties, const std::string& key, const json& value) {
    using namespace storage;
    for (const auto& field : kByteProperties) {
        if (field.name == key) {
            properties.*field.member = unsigned_number<uint8_t>(value, key);
            return true;
        }
    }
    for (const auto& field : kTwoByteProperties) {
        if (field.name == key) {
            properties.*field.member = unsigned_number<uint16_t>(value, key);
            return true;
        }
    }
    for (const auto& field : kFourByteProperties) {
        if (field.name == key) {
            properties.*field.member = unsigned_number<uint32_t>(value, key);
            return true;
        }
    }
    for (const auto& field : kStringProperties) {
        if (field.name == key) {
            properties.*field.member = string_value(value, key);
            return true;
        }
    }
    for (const auto& field : kBinaryProperties) {
        if (field.name == key) {
            properties.*field.member = binary_value(value, key);
            return true;
        }
    }
    if (key == kSubscriptionIdentifiersName) {
        if (!value.is_array()) {
            bad("'" + key + "' must be an array of integers");
        }
        for (const json& id : value) {
            properties.subscription_identifiers.push_back(unsigned_number<uint32_t>(id, key));
        }
        return true;
    }
    if (key == kUserPropertiesName) {
        if (!value.is_array()) {
            bad("'" + key + "' must be an array of [key, value] pairs");
        }
        for (const json& pair : value) {
            if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
                !pair[1].is_string()) {
                bad("'" + key + "' must be an array of [key, value] pairs");
            }
            properties.user_properties.emplace_back(pair[0].get<std::string>(),
                                                    pair[1].get<std::string>());
        }
        return true;
    }
    return false;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t index = 0; index < bytes.size(); index += 3) {
        uint32_t group = static_cast<uint8_t>(bytes[index]) << 16;
        std::size_t available = std::min<std::size_t>(3, bytes.size() - index);
        if (available > 1) {
            group |= static_cast<uint8_t>(bytes[index + 1]) << 8;
        }
        if (available > 2) {
            group |= static_cast<uint8_t>(bytes[index + 2]);
        }
        for (std::size_t sextet = 0; sextet < 4; ++sextet) {
            out.push_back(sextet <= available ? kAlphabet[(group >> (18 - 6 * sextet)) & 0x3F]
                                              : '=');
        }
    }
    return out;
}

std::string base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        bad("base64 length is not a multiple of 4");
    }
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
        ++padding;
    }
    std::string out;
    uint32_t group = 0;
    int bits = 0;
    for (std::size_t index = 0; index < text.size() - padding; ++index) {
        int value = base64_value(text[index]);
        if (value < 0) {
            bad("invalid base64 character");
        }
        group = (group << 6) | static_cast<uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((group >> bits) & 0xFF));
        }
    }
    return out;
}

bool is_text(std::string_view bytes) noexcept {
    return codec::is_valid_mqtt_utf8(bytes);
}

json properties_to_json(const codec::Properties& properties) {
    using namespace storage;
    json object = json::object();
    auto numbers = [&](const auto& table) {
        for (const auto& field : table) {
            if (const auto& value = properties.*field.member) {
                object[std::string(field.name)] = *value;
            }
        }
    };
    numbers(kByteProperties);
    numbers(kTwoByteProperties);
    numbers(kFourByteProperties);
    for (const auto& field : kStringProperties) {
        if (const auto& value = properties.*field.member) {
            object[std::string(field.name)] = *value;
        }
    }
    for (const auto& field : kBinaryProperties) {
        if (const auto& value = properties.*field.member) {
            object[std::string(field.name)] = base64_encode(*value);
        }
    }
    if (!properties.subscription_identifiers.empty()) {
        object[std::string(kSubscriptionIdentifiersName)] = properties.subscription_identifiers;
    }
    if (!properties.user_properties.empty()) {
        json pairs = json::array();
        for (const auto& [key, value] : properties.user_properties) {
            pairs.push_back(json::array({key, value}));
        }
        object[std::string(kUserPropertiesName)] = pairs;
    }
    return object;
}

codec::Properties properties_from_json(const json& object) {
    if (!object.is_object()) {
        bad("'properties' must be an object");
    }
    codec::Properties properties;
    for (const auto& [key, value] : object.items()) {
        if (!set_property(properties, key, value)) {
            bad("unknown property '" + key + "'");
        }
    }
    return properties;
}

json message_to_json(const storage::MessageRecord& message) {
    json object = json::object();
    object["topic"] = message.topic;
    if (is_text(message.payload)) {
        object["payload"] = message.payload;
    } else {
        object["payload"] = base64_encode(message.payload);
        object["encoding"] = "base64";
    }
    object["qos"] = message.qos;
    object["retain"] = message.retain;
    object["properties"] = properties_to_json(message.properties.get());
    if (message.expires_at != 0) {
        object["expires_at"] = message.expires_at;
    }
    return object;
}

storage::MessageRecord message_from_json(const json& object, storage::UnixMillis now) {
    if (!object.is_object()) {
        bad("a line must hold one JSON object");
    }
    for (const auto& [key, value] : object.items()) {
        if (key != "topic" && key != "payload" && key != "encoding" && key != "qos" &&
            key != "retain" && key != "properties" && key != "expires_at") {
            bad("unknown key '" + key + "'");
        }
    }
    storage::MessageRecord message;
    if (!object.contains("topic")) {
        bad("'topic' is missing");
    }
    message.topic = string_value(object["topic"], "topic");
    // A stored retained message has a real topic name: no wildcards [MQTT-3.3.2-2].
    if (!codec::is_valid_mqtt_utf8(message.topic) || !core::is_valid_topic_name(message.topic)) {
        bad("'" + message.topic + "' is not a valid topic name");
    }
    std::string encoding =
        object.contains("encoding") ? string_value(object["encoding"], "encoding") : "utf8";
    std::string payload =
        object.contains("payload") ? string_value(object["payload"], "payload") : std::string();
    if (encoding == "base64") {
        message.payload = binary_value(object["payload"], "payload");
    } else if (encoding == "utf8") {
        message.payload = std::move(payload);
    } else {
        bad("'encoding' must be \"utf8\" or \"base64\"");
    }
    message.qos = object.contains("qos") ? unsigned_number<uint8_t>(object["qos"], "qos") : 0;
    if (message.qos > 2) {
        bad("'qos' must be 0, 1 or 2");
    }
    message.retain = true;
    if (object.contains("retain")) {
        if (!object["retain"].is_boolean()) {
            bad("'retain' must be true or false");
        }
        message.retain = object["retain"].get<bool>();
    }
    codec::Properties properties;
    if (object.contains("properties")) {
        properties = properties_from_json(object["properties"]);
    }
    if (object.contains("expires_at")) {
        message.expires_at = unsigned_number<uint64_t>(object["expires_at"], "expires_at");
    }
    // Stored messages keep their expiry as a time, not an interval (see records.hpp).
    if (std::optional<uint32_t> interval = properties.message_expiry_interval) {
        if (message.expires_at == 0) {
            message.expires_at = now + uint64_t{*interval} * 1000;
        }
        properties.message_expiry_interval.reset();
    }
    message.properties = codec::SharedProperties(std::move(properties));
    return message;
}

}  // namespace tern::tools::db
