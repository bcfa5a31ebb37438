// Parsing and checking of /ws commands, and the serialized answers.
#include "ws_command.hpp"

#include <algorithm>
#include <initializer_list>

#include "envelope.hpp"

namespace tern::bridge {

namespace {

using Json = nlohmann::json;

WsCommand refused(Json id, std::string_view code, std::string message) {
    WsCommand command;
    command.id = std::move(id);
    command.error = WsError{code, std::move(message)};
    return command;
}

// Refuses keys other than "id", "op" and `allowed`.
std::optional<WsError> check_keys(const Json& object,
                                  std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : object.items()) {
        if (key != "id" && key != "op" &&
            std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            return WsError{ws_error::kInvalidField, "unknown field '" + key + "'"};
        }
    }
    return std::nullopt;
}

// A required string field.
std::optional<WsError> read_text(const Json& object, std::string_view name, std::string& out) {
    const auto it = object.find(name);
    if (it == object.end()) {
        return WsError{ws_error::kMissingField, "missing '" + std::string(name) + "'"};
    }
    if (!it->is_string()) {
        return WsError{ws_error::kInvalidField, "'" + std::string(name) + "' must be a string"};
    }
    out = it->get<std::string>();
    return std::nullopt;
}

std::variant<WsCommandArgs, WsError> parse_subscribe(const Json& object) {
    if (auto error = check_keys(object, {"filter", "from"})) {
        return *error;
    }
    SubscribeCommand command;
    if (auto error = read_text(object, "filter", command.filter)) {
        return *error;
    }
    if (object.contains("from")) {
        std::string text;
        net::StreamPosition position;
        if (!object["from"].is_string() ||
            !net::StreamPosition::parse(text = object["from"].get<std::string>(), position)) {
            return WsError{ws_error::kInvalidField, "'from' must be a position \"<epoch>-<seq>\""};
        }
        command.from = position;
    }
    return command;
}

std::variant<WsCommandArgs, WsError> parse_unsubscribe(const Json& object) {
    if (auto error = check_keys(object, {"filter"})) {
        return *error;
    }
    UnsubscribeCommand command;
    if (auto error = read_text(object, "filter", command.filter)) {
        return *error;
    }
    return command;
}

// The publish fields; a missing topic is told apart from malformed fields.
std::variant<PublishRequest, WsError> parse_publish_fields(
    const Json& object, std::initializer_list<std::string_view> extra_keys) {
    if (!object.contains("topic")) {
        return WsError{ws_error::kMissingField, "missing 'topic'"};
    }
    PublishRequest request = read_publish(object, extra_keys);
    if (!request.error.empty()) {
        return WsError{ws_error::kInvalidField, request.error};
    }
    return request;
}

std::variant<WsCommandArgs, WsError> parse_publish(const Json& object) {
    auto fields = parse_publish_fields(object, {"id", "op"});
    if (auto* error = std::get_if<WsError>(&fields)) {
        return *error;
    }
    return PublishCommand{std::move(std::get<PublishRequest>(fields))};
}

std::variant<WsCommandArgs, WsError> parse_request(const Json& object) {
    auto fields = parse_publish_fields(object, {"id", "op", "timeout_ms"});
    if (auto* error = std::get_if<WsError>(&fields)) {
        return *error;
    }
    RequestCommand command{std::move(std::get<PublishRequest>(fields))};
    const codec::Properties& props = command.publish.properties;
    if (props.response_topic || props.correlation_data) {
        // The server sets both: the reply must come back to this client only.
        return WsError{ws_error::kInvalidField,
                       "a request's response_topic and correlation_data are set by the server"};
    }
    if (object.contains("timeout_ms")) {
        const Json& timeout = object["timeout_ms"];
        if (!timeout.is_number_unsigned() || timeout.get<uint64_t>() == 0 ||
            timeout.get<uint64_t>() > kMaxRequestTimeoutMs) {
            return WsError{ws_error::kInvalidField,
                           "'timeout_ms' must be 1.." + std::to_string(kMaxRequestTimeoutMs)};
        }
        command.timeout_ms = timeout.get<uint64_t>();
    }
    return command;
}

std::variant<WsCommandArgs, WsError> parse_no_fields(const Json& object, WsCommandArgs args) {
    if (auto error = check_keys(object, {})) {
        return *error;
    }
    return args;
}

std::variant<WsCommandArgs, WsError> parse_args(std::string_view op, const Json& object) {
    if (op == "subscribe") {
        return parse_subscribe(object);
    }
    if (op == "unsubscribe") {
        return parse_unsubscribe(object);
    }
    if (op == "publish") {
        return parse_publish(object);
    }
    if (op == "request") {
        return parse_request(object);
    }
    if (op == "presence_subscribe") {
        return parse_no_fields(object, PresenceSubscribeCommand{});
    }
    if (op == "presence_unsubscribe") {
        return parse_no_fields(object, PresenceUnsubscribeCommand{});
    }
    if (op == "ping") {
        return parse_no_fields(object, PingCommand{});
    }
    return WsError{ws_error::kUnknownCommand, "unknown op '" + std::string(op) + "'"};
}

nlohmann::ordered_json id_value(const Json& id) {
    if (id.is_string()) {
        return id.get<std::string>();
    }
    if (id.is_number_unsigned()) {
        return id.get<uint64_t>();
    }
    if (id.is_number_integer()) {
        return id.get<int64_t>();
    }
    return nullptr;
}

}  // namespace

WsCommand parse_ws_command(const Json& object) {
    if (!object.is_object()) {
        return refused(nullptr, ws_error::kBadCommand, "a command must be a JSON object");
    }
    const auto id = object.find("id");
    if (id == object.end()) {
        return refused(nullptr, ws_error::kBadCommand, "missing 'id'");
    }
    if (!id->is_string() && !id->is_number_integer()) {
        return refused(nullptr, ws_error::kBadCommand, "'id' must be a string or an integer");
    }
    const auto op = object.find("op");
    if (op == object.end()) {
        return refused(*id, ws_error::kBadCommand, "missing 'op'");
    }
    if (!op->is_string()) {
        return refused(*id, ws_error::kBadCommand, "'op' must be a string");
    }
    auto args = parse_args(op->get<std::string>(), object);
    if (auto* error = std::get_if<WsError>(&args)) {
        return refused(*id, error->code, std::move(error->message));
    }
    WsCommand command;
    command.id = *id;
    command.args = std::move(std::get<WsCommandArgs>(args));
    return command;
}

std::vector<WsCommand> parse_ws_frame(std::string_view text) {
    std::vector<WsCommand> commands;
    const Json frame = Json::parse(text, nullptr, false);
    if (frame.is_discarded()) {
        commands.push_back(refused(nullptr, ws_error::kBadJson, "the frame is not valid JSON"));
        return commands;
    }
    if (!frame.is_array()) {
        commands.push_back(parse_ws_command(frame));
        return commands;
    }
    if (frame.empty() || frame.size() > kMaxCommandsPerFrame) {
        commands.push_back(refused(
            nullptr, ws_error::kBadCommand,
            "a frame's array must hold 1.." + std::to_string(kMaxCommandsPerFrame) + " commands"));
        return commands;
    }
    commands.reserve(frame.size());
    for (const Json& element : frame) {
        commands.push_back(parse_ws_command(element));
    }
    return commands;
}

std::string ws_ok(const Json& id, nlohmann::ordered_json fields) {
    nlohmann::ordered_json out;
    out["type"] = "ok";
    out["id"] = id_value(id);
    for (auto& [key, value] : fields.items()) {
        out[key] = std::move(value);
    }
    return dump_json(out);
}

std::string ws_error_answer(const Json& id, std::string_view code, std::string_view message) {
    nlohmann::ordered_json out;
    out["type"] = "error";
    out["id"] = id_value(id);
    out["code"] = code;
    out["message"] = message;
    return dump_json(out);
}

}  // namespace tern::bridge
