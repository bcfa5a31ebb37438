// Table-driven parsing of -D property arguments into Paho property lists (MQTT 5 §2.2.2.2).
#include "property_set.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "tool_error.hpp"

namespace tern::tools {
namespace {

using Code = mqtt::property::code;
using Command = PropertyCommand;

enum class ValueType { kByte, kTwoByte, kFourByte, kVarInt, kString, kBinary, kPair };

constexpr unsigned bit(Command command) {
    return 1u << static_cast<unsigned>(command);
}

struct PropertyInfo {
    std::string_view name;
    Code code;
    ValueType type;
    unsigned commands;  // bit(Command) for each packet that may carry the property
};

constexpr unsigned kPublishOrWill = bit(Command::kPublish) | bit(Command::kWill);
constexpr unsigned kAnyPacket = bit(Command::kConnect) | bit(Command::kPublish) |
                                bit(Command::kWill) | bit(Command::kSubscribe) |
                                bit(Command::kUnsubscribe) | bit(Command::kDisconnect);

// Which property may travel in which packet: spec §2.2.2.2, Table 2-4. AUTH-only and
// server-only properties are left out because these tools never send them.
constexpr PropertyInfo kProperties[] = {
    {"payload-format-indicator", Code::PAYLOAD_FORMAT_INDICATOR, ValueType::kByte, kPublishOrWill},
    {"message-expiry-interval", Code::MESSAGE_EXPIRY_INTERVAL, ValueType::kFourByte,
     kPublishOrWill},
    {"content-type", Code::CONTENT_TYPE, ValueType::kString, kPublishOrWill},
    {"response-topic", Code::RESPONSE_TOPIC, ValueType::kString, kPublishOrWill},
    {"correlation-data", Code::CORRELATION_DATA, ValueType::kBinary, kPublishOrWill},
    {"subscription-identifier", Code::SUBSCRIPTION_IDENTIFIER, ValueType::kVarInt,
     bit(Command::kSubscribe)},
    {"session-expiry-interval", Code::SESSION_EXPIRY_INTERVAL, ValueType::kFourByte,
     bit(Command::kConnect) | bit(Command::kDisconnect)},
    {"request-problem-information", Code::REQUEST_PROBLEM_INFORMATION, ValueType::kByte,
     bit(Command::kConnect)},
    {"will-delay-interval", Code::WILL_DELAY_INTERVAL, ValueType::kFourByte, bit(Command::kWill)},
    {"request-response-information", Code::REQUEST_RESPONSE_INFORMATION, ValueType::kByte,
     bit(Command::kConnect)},
    {"reason-string", Code::REASON_STRING, ValueType::kString, bit(Command::kDisconnect)},
    {"receive-maximum", Code::RECEIVE_MAXIMUM, ValueType::kTwoByte, bit(Command::kConnect)},
    {"topic-alias-maximum", Code::TOPIC_ALIAS_MAXIMUM, ValueType::kTwoByte, bit(Command::kConnect)},
    {"topic-alias", Code::TOPIC_ALIAS, ValueType::kTwoByte, bit(Command::kPublish)},
    {"maximum-packet-size", Code::MAXIMUM_PACKET_SIZE, ValueType::kFourByte,
     bit(Command::kConnect)},
    {"user-property", Code::USER_PROPERTY, ValueType::kPair, kAnyPacket},
};

struct CommandName {
    std::string_view name;
    Command command;
};

constexpr std::array<CommandName, 6> kCommands{{
    {"connect", Command::kConnect},
    {"publish", Command::kPublish},
    {"subscribe", Command::kSubscribe},
    {"unsubscribe", Command::kUnsubscribe},
    {"disconnect", Command::kDisconnect},
    {"will", Command::kWill},
}};

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

Command parse_command(const std::string& name, const std::vector<Command>& tool_commands) {
    std::string key = lower(name);
    for (const auto& entry : kCommands) {
        if (entry.name == key) {
            if (std::find(tool_commands.begin(), tool_commands.end(), entry.command) ==
                tool_commands.end()) {
                throw UsageError("-D: this tool does not send " + key + " packets");
            }
            return entry.command;
        }
    }
    throw UsageError("-D: unknown command '" + name + "'");
}

const PropertyInfo& find_property(const std::string& name) {
    std::string key = lower(name);
    for (const auto& info : kProperties) {
        if (info.name == key) {
            return info;
        }
    }
    throw UsageError("-D: unknown property '" + name + "'");
}

uint32_t parse_number(const std::string& text, uint32_t min, uint32_t max, std::string_view name) {
    uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
        value > max) {
        throw UsageError("-D: " + std::string(name) + " must be a number from " +
                         std::to_string(min) + " to " + std::to_string(max) + ", not '" + text +
                         "'");
    }
    return static_cast<uint32_t>(value);
}

mqtt::property make_property(const PropertyInfo& info, const std::vector<std::string>& args) {
    size_t expected = info.type == ValueType::kPair ? 4 : 3;
    if (args.size() != expected) {
        throw UsageError("-D " + std::string(info.name) + ": expected " +
                         (expected == 4 ? "a key and a value" : "exactly one value"));
    }
    const std::string& value = args[2];
    auto as_int = [](uint32_t v) { return static_cast<int32_t>(v); };
    switch (info.type) {
        case ValueType::kByte:
            // Every byte property a client sends is a flag: 0 or 1 (§3.1.2.11.6, §3.3.2.3.2).
            return {info.code, as_int(parse_number(value, 0, 1, info.name))};
        case ValueType::kTwoByte: {
            // Receive Maximum 0 is a protocol error (§3.1.2.11.3); so is Topic Alias 0
            // [MQTT-3.3.2-8]. Topic Alias Maximum 0 just means "no aliases".
            uint32_t min = info.code == Code::TOPIC_ALIAS_MAXIMUM ? 0 : 1;
            return {info.code, as_int(parse_number(value, min, 65535, info.name))};
        }
        case ValueType::kFourByte: {
            uint32_t min = info.code == Code::MAXIMUM_PACKET_SIZE ? 1 : 0;
            return {info.code, as_int(parse_number(value, min, 4294967295u, info.name))};
        }
        case ValueType::kVarInt:
            // A Subscription Identifier of 0 is a protocol error (spec §3.8.2.1.2).
            return {info.code, as_int(parse_number(value, 1, 268435455, info.name))};
        case ValueType::kString:
        case ValueType::kBinary:
            return {info.code, mqtt::string_ref(value)};
        case ValueType::kPair:
            return {info.code, mqtt::string_ref(args[2]), mqtt::string_ref(args[3])};
    }
    throw UsageError("-D: unsupported property type");
}

}  // namespace

mqtt::properties& PropertySet::for_command(PropertyCommand command) {
    switch (command) {
        case Command::kConnect:
            return connect;
        case Command::kPublish:
            return publish;
        case Command::kSubscribe:
            return subscribe;
        case Command::kUnsubscribe:
            return unsubscribe;
        case Command::kDisconnect:
            return disconnect;
        case Command::kWill:
            return will;
    }
    return connect;
}

void add_property_arg(PropertySet& set, const std::vector<std::string>& args,
                      const std::vector<PropertyCommand>& tool_commands) {
    if (args.size() < 3) {
        throw UsageError(
            "-D needs a command, a property and a value, e.g. "
            "-D publish content-type text/plain");
    }
    Command command = parse_command(args[0], tool_commands);
    const PropertyInfo& info = find_property(args[1]);
    if ((info.commands & bit(command)) == 0) {
        throw UsageError("-D: property " + std::string(info.name) + " is not allowed in " +
                         lower(args[0]));
    }
    mqtt::properties& target = set.for_command(command);
    // Only User Property may repeat; any other property twice is a protocol error (§2.2.2.2).
    if (info.code != Code::USER_PROPERTY && target.contains(info.code)) {
        throw UsageError("-D: property " + std::string(info.name) + " given twice for " +
                         lower(args[0]));
    }
    target.add(make_property(info, args));
}

}  // namespace tern::tools
