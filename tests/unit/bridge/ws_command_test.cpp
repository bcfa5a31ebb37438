// The /ws protocol's command parsing: frames of one object or an array, ids, ops, fields, answers.
#include "ws_command.hpp"

#include <doctest/doctest.h>

#include <string>

using tern::bridge::parse_ws_frame;
using tern::bridge::PingCommand;
using tern::bridge::PresenceSubscribeCommand;
using tern::bridge::PublishCommand;
using tern::bridge::RequestCommand;
using tern::bridge::SubscribeCommand;
using tern::bridge::UnsubscribeCommand;
using tern::bridge::ws_error_answer;
using tern::bridge::ws_ok;
using tern::bridge::WsCommand;
using Json = nlohmann::json;

namespace {

// The single command of a frame.
WsCommand one(std::string_view text) {
    auto commands = parse_ws_frame(text);
    REQUIRE(commands.size() == 1);
    return std::move(commands.front());
}

void check_refused(std::string_view text, const Json& id, std::string_view code,
                   std::string_view message) {
    const WsCommand command = one(text);
    CHECK_FALSE(command.args.has_value());
    CHECK(command.id == id);
    CHECK(command.error.code == code);
    CHECK(command.error.message == message);
}

}  // namespace

TEST_CASE("a frame holds one command object") {
    const WsCommand command = one(R"({"id":"a1","op":"ping"})");
    REQUIRE(command.args.has_value());
    CHECK(std::holds_alternative<PingCommand>(*command.args));
    CHECK(command.id == "a1");
}

TEST_CASE("a frame may hold an array of commands, parsed in order, each on its own") {
    const auto commands = parse_ws_frame(
        R"([{"id":1,"op":"ping"},{"id":2,"op":"nope"},{"id":3,"op":"presence_subscribe"}])");
    REQUIRE(commands.size() == 3);
    CHECK(commands[0].id == 1);
    CHECK(std::holds_alternative<PingCommand>(*commands[0].args));
    CHECK_FALSE(commands[1].args.has_value());
    CHECK(commands[1].error.code == "unknown_command");
    CHECK(std::holds_alternative<PresenceSubscribeCommand>(*commands[2].args));
}

TEST_CASE("frames that are not commands are refused with a null id") {
    check_refused("{oops", nullptr, "bad_json", "the frame is not valid JSON");
    check_refused("[]", nullptr, "bad_command", "a frame's array must hold 1..100 commands");
    check_refused("\"text\"", nullptr, "bad_command", "a command must be a JSON object");
    check_refused(R"({"op":"ping"})", nullptr, "bad_command", "missing 'id'");
    check_refused(R"({"id":1.5,"op":"ping"})", nullptr, "bad_command",
                  "'id' must be a string or an integer");
    std::string many = "[";
    for (int i = 0; i < 101; ++i) {
        many += (i == 0 ? "" : ",") + std::string(R"({"id":1,"op":"ping"})");
    }
    check_refused(many + "]", nullptr, "bad_command", "a frame's array must hold 1..100 commands");
}

TEST_CASE("a command's op and fields are checked") {
    check_refused(R"({"id":-4})", -4, "bad_command", "missing 'op'");
    check_refused(R"({"id":"x","op":"fly"})", "x", "unknown_command", "unknown op 'fly'");
    check_refused(R"({"id":"x","op":"ping","extra":1})", "x", "invalid_field",
                  "unknown field 'extra'");
    check_refused(R"({"id":"x","op":"subscribe"})", "x", "missing_field", "missing 'filter'");
    check_refused(R"({"id":"x","op":"subscribe","filter":["a"]})", "x", "invalid_field",
                  "'filter' must be a string");
    check_refused(R"({"id":"x","op":"subscribe","filter":"a","from":"12"})", "x", "invalid_field",
                  "'from' must be a position \"<epoch>-<seq>\"");
    check_refused(R"({"id":"x","op":"unsubscribe","filter":"a","from":"1-2"})", "x",
                  "invalid_field", "unknown field 'from'");
}

TEST_CASE("subscribe and unsubscribe carry a filter and an optional resume position") {
    WsCommand command = one(R"({"id":"s","op":"subscribe","filter":"a/#","from":"17-42"})");
    REQUIRE(command.args.has_value());
    const auto& subscribe = std::get<SubscribeCommand>(*command.args);
    CHECK(subscribe.filter == "a/#");
    REQUIRE(subscribe.from.has_value());
    CHECK(subscribe.from->epoch == 17);
    CHECK(subscribe.from->seq == 42);
    command = one(R"({"id":"u","op":"unsubscribe","filter":"a/#"})");
    CHECK(std::get<UnsubscribeCommand>(*command.args).filter == "a/#");
}

TEST_CASE("publish reads the same fields as POST /api/publish") {
    WsCommand command =
        one(R"({"id":1,"op":"publish","topic":"t","json":{"v":1},"qos":1,"retain":true,)"
            R"("properties":{"content_type":"application/json"}})");
    REQUIRE(command.args.has_value());
    const auto& publish = std::get<PublishCommand>(*command.args).publish;
    CHECK(publish.topic == "t");
    CHECK(publish.payload == R"({"v":1})");
    CHECK(publish.qos == 1);
    CHECK(publish.retain);
    CHECK(publish.properties.content_type == "application/json");
    check_refused(R"({"id":1,"op":"publish"})", 1, "missing_field", "missing 'topic'");
    check_refused(R"({"id":1,"op":"publish","topic":"t","qos":5})", 1, "invalid_field",
                  "'qos' must be 0, 1 or 2");
    check_refused(R"({"id":1,"op":"publish","topic":"t","timeout_ms":5})", 1, "invalid_field",
                  "unknown key 'timeout_ms'");
}

TEST_CASE("request takes a timeout and leaves the response topic and correlation to the server") {
    WsCommand command = one(R"({"id":1,"op":"request","topic":"dev/cmd","payload":"on"})");
    REQUIRE(command.args.has_value());
    CHECK(std::get<RequestCommand>(*command.args).timeout_ms ==
          tern::bridge::kDefaultRequestTimeoutMs);
    command = one(R"({"id":1,"op":"request","topic":"dev/cmd","timeout_ms":60000})");
    CHECK(std::get<RequestCommand>(*command.args).timeout_ms == 60000);
    check_refused(R"({"id":1,"op":"request","topic":"t","timeout_ms":60001})", 1, "invalid_field",
                  "'timeout_ms' must be 1..60000");
    check_refused(R"({"id":1,"op":"request","topic":"t","timeout_ms":"5"})", 1, "invalid_field",
                  "'timeout_ms' must be 1..60000");
    check_refused(R"({"id":1,"op":"request","topic":"t","properties":{"correlation_data":"AA=="}})",
                  1, "invalid_field",
                  "a request's response_topic and correlation_data are set by the server");
}

TEST_CASE("answers echo the id and put the type first") {
    CHECK(ws_ok(Json("a")) == R"({"type":"ok","id":"a"})");
    nlohmann::ordered_json fields;
    fields["position"] = "1-2";
    CHECK(ws_ok(Json(7), fields) == R"({"type":"ok","id":7,"position":"1-2"})");
    CHECK(ws_error_answer(Json(nullptr), "bad_json", "no") ==
          R"({"type":"error","id":null,"code":"bad_json","message":"no"})");
}
