// The WebSocket opening handshake of a bridge request (/ws, /mqtt): the check and the refusal.
#include "websocket_upgrade.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tern::bridge {

websocket::HandshakeResult check_upgrade(const HttpRequest& request,
                                         const websocket::HandshakePolicy& policy) {
    std::vector<websocket::HttpHeader> headers;
    headers.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) {
        headers.push_back({name, value});
    }
    websocket::HandshakeRequest handshake;
    handshake.method = request.method;
    handshake.version_major = request.http_major;
    handshake.version_minor = request.http_minor;
    handshake.headers = headers;
    return websocket::accept_handshake(handshake, policy);
}

HttpResponse upgrade_refusal(const websocket::HandshakeResult& result) {
    HttpResponse response = json_error(result.status, error_code_for(result.status), result.reason);
    // error_headers: "Name: value\r\n" lines.
    std::string_view lines = result.error_headers;
    while (!lines.empty()) {
        const std::size_t end = lines.find("\r\n");
        const std::string_view line = lines.substr(0, end);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.remove_prefix(1);
            }
            response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
        }
        lines = end == std::string_view::npos ? std::string_view{} : lines.substr(end + 2);
    }
    return response;
}

}  // namespace tern::bridge
