// The bridge's endpoint handlers (api_handlers.cpp, sse_stream.cpp) and checks they share.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "http_connection.hpp"
#include "request_auth.hpp"
#include "request_parser.hpp"

namespace tern::net {
struct PresenceRecord;
}

namespace tern::bridge {

class Bridge;

namespace handlers {

void healthz(HttpConnection& connection, const HttpRequest& request, const Identity& who);
void metrics(HttpConnection& connection, const HttpRequest& request, const Identity& who);
void retained(HttpConnection& connection, const HttpRequest& request, const Identity& who);
void publish(HttpConnection& connection, const HttpRequest& request, const Identity& who);
void presence(HttpConnection& connection, const HttpRequest& request, const Identity& who);
void events(HttpConnection& connection, const HttpRequest& request, const Identity& who);
// GET /ws: the WebSocket JSON protocol (ws_session.cpp).
void ws(HttpConnection& connection, const HttpRequest& request, const Identity& who);
// GET /mqtt: MQTT over WebSocket, handed to the broker (mqtt_upgrade.cpp).
void mqtt(HttpConnection& connection, const HttpRequest& request, const Identity& who);

}  // namespace handlers

// Checks a subscription filter as SUBSCRIBE would: a valid filter within the topic limits, no
// $share (a web client is not a group member), wildcards only when enabled, and readable by
// `who` under the ACL. Returns the 400/403 answer when it is refused.
std::optional<HttpResponse> check_filter(Bridge& bridge, const Identity& who,
                                         std::string_view filter);

// Whether `who` may receive a message on `topic` (always true without an ACL file).
bool may_receive(Bridge& bridge, const Identity& who, std::string_view topic);

// One client's presence: {"client_id","online","connected_at","last_seen","peer","protocol"}.
nlohmann::ordered_json presence_json(const net::PresenceRecord& record);

// A 200 JSON answer.
HttpResponse json_response(std::string body);

}  // namespace tern::bridge
