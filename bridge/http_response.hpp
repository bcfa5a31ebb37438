// HTTP/1.1 responses: status texts, serialization, and the bridge's JSON error bodies.
#pragma once

#include <string>
#include <string_view>

#include "request_parser.hpp"

namespace tern::bridge {

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    HeaderList headers;  // extra headers (names as they should appear)
    std::string body;
};

// "OK", "Not Found", ...; "Unknown" for codes the bridge never sends.
std::string_view status_text(int status);

// The status line, headers (Content-Type, Content-Length, Connection when needed, the extras)
// and body. `keep_alive` false adds "Connection: close"; `http10_keep_alive` adds
// "Connection: keep-alive" for an HTTP/1.0 client that asked for it. `head` omits the body.
std::string serialize_response(const HttpResponse& response, bool keep_alive,
                               bool http10_keep_alive = false, bool head = false);

// {"error":"<code>","message":"<message>"} with the given status.
HttpResponse json_error(int status, std::string_view code, std::string_view message);

// The short error code used in JSON bodies for a status ("not_found", "payload_too_large", ...).
std::string_view error_code_for(int status);

}  // namespace tern::bridge
