// The WebSocket opening handshake of a bridge request (/ws, /mqtt): the check and the refusal.
#pragma once

#include "http_response.hpp"
#include "request_parser.hpp"
#include "websocket/handshake.hpp"

namespace tern::bridge {

// Checks `request` as a WebSocket upgrade under `policy` (RFC 6455 §4.2.1).
websocket::HandshakeResult check_upgrade(const HttpRequest& request,
                                         const websocket::HandshakePolicy& policy);

// The JSON error answer to a refused handshake, with the headers it calls for (Allow,
// Sec-WebSocket-Version).
HttpResponse upgrade_refusal(const websocket::HandshakeResult& result);

}  // namespace tern::bridge
