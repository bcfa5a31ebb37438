// The /ws JSON protocol's client commands: a text frame parsed into commands, each command's
// fields checked and typed, and the server's answers serialized. No sockets, no broker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/message.hpp"
#include "net/history.hpp"
#include "publish_request.hpp"

namespace tern::bridge {

// Error codes of the protocol (docs/bridge-protocol.md lists when each is sent).
namespace ws_error {
inline constexpr std::string_view kBadJson = "bad_json";
inline constexpr std::string_view kBadCommand = "bad_command";
inline constexpr std::string_view kUnknownCommand = "unknown_command";
inline constexpr std::string_view kMissingField = "missing_field";
inline constexpr std::string_view kInvalidField = "invalid_field";
inline constexpr std::string_view kInvalidFilter = "invalid_filter";
inline constexpr std::string_view kInvalidTopic = "invalid_topic";
inline constexpr std::string_view kForbidden = "forbidden";
inline constexpr std::string_view kAlreadySubscribed = "already_subscribed";
inline constexpr std::string_view kNotSubscribed = "not_subscribed";
inline constexpr std::string_view kTooManySubscriptions = "too_many_subscriptions";
inline constexpr std::string_view kTooManyRequests = "too_many_requests";
inline constexpr std::string_view kNoSubscribers = "no_subscribers";
inline constexpr std::string_view kTimeout = "timeout";
}  // namespace ws_error

// Most commands in one frame (an array); a longer array is refused as a whole.
inline constexpr std::size_t kMaxCommandsPerFrame = 100;
// Request timeouts: the default when "timeout_ms" is absent, and the largest accepted.
inline constexpr core::MonoMillis kDefaultRequestTimeoutMs = 5000;
inline constexpr core::MonoMillis kMaxRequestTimeoutMs = 60'000;

struct WsError {
    std::string_view code;  // one of ws_error
    std::string message;
};

struct PingCommand {};
struct SubscribeCommand {
    std::string filter;
    std::optional<net::StreamPosition> from;  // resume after this position
};
struct UnsubscribeCommand {
    std::string filter;
};
struct PublishCommand {
    PublishRequest publish;  // not yet checked against the broker (check_publish)
};
struct RequestCommand {
    PublishRequest publish;  // response topic and correlation data are the server's
    core::MonoMillis timeout_ms = kDefaultRequestTimeoutMs;
};
struct PresenceSubscribeCommand {};
struct PresenceUnsubscribeCommand {};

using WsCommandArgs =
    std::variant<PingCommand, SubscribeCommand, UnsubscribeCommand, PublishCommand, RequestCommand,
                 PresenceSubscribeCommand, PresenceUnsubscribeCommand>;

// One command of a frame: its id (a string or an integer, echoed in the answer; null when it had
// none usable) and either its typed arguments or why it is refused.
struct WsCommand {
    nlohmann::json id;
    std::optional<WsCommandArgs> args;
    WsError error;  // meaningful when !args
};

// A text frame holds one command object or a JSON array of them (answered in order). When the
// frame as a whole is refused (not JSON, an empty or too long array) `commands` holds one
// refused command with a null id.
std::vector<WsCommand> parse_ws_frame(std::string_view text);

// Checks one command object (an element of the frame).
WsCommand parse_ws_command(const nlohmann::json& object);

// Answers, serialized: {"type":"ok","id":ID,...fields} and
// {"type":"error","id":ID,"code":CODE,"message":TEXT}.
std::string ws_ok(const nlohmann::json& id, nlohmann::ordered_json fields = {});
std::string ws_error_answer(const nlohmann::json& id, std::string_view code,
                            std::string_view message);

}  // namespace tern::bridge
