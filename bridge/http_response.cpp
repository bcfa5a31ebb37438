// Response serialization and JSON error bodies.
#include "http_response.hpp"

#include <nlohmann/json.hpp>

namespace tern::bridge {

std::string_view status_text(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 200:
            return "OK";
        case 204:
            return "No Content";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 426:
            return "Upgrade Required";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        default:
            return "Unknown";
    }
}

std::string_view error_code_for(int status) {
    switch (status) {
        case 400:
            return "bad_request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 408:
            return "request_timeout";
        case 413:
            return "payload_too_large";
        case 414:
            return "uri_too_long";
        case 426:
            return "upgrade_required";
        case 431:
            return "headers_too_large";
        case 501:
            return "not_implemented";
        case 503:
            return "unavailable";
        default:
            return "internal_error";
    }
}

std::string serialize_response(const HttpResponse& response, bool keep_alive,
                               bool http10_keep_alive, bool head) {
    std::string out;
    out.reserve(128 + response.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += status_text(response.status);
    out += "\r\n";
    if (!response.content_type.empty()) {
        out += "Content-Type: ";
        out += response.content_type;
        out += "\r\n";
    }
    // 1xx and 204 carry no body and no Content-Length (RFC 9110 §8.6); neither does a 304 here
    // (its Content-Length would have to be the 200's).
    if (response.status >= 200 && response.status != 204 && response.status != 304) {
        out += "Content-Length: ";
        out += std::to_string(response.body.size());
        out += "\r\n";
    }
    for (const auto& [name, value] : response.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!keep_alive) {
        out += "Connection: close\r\n";
    } else if (http10_keep_alive) {
        out += "Connection: keep-alive\r\n";
    }
    out += "\r\n";
    if (!head) {
        out += response.body;
    }
    return out;
}

HttpResponse json_error(int status, std::string_view code, std::string_view message) {
    HttpResponse response;
    response.status = status;
    nlohmann::ordered_json body;
    body["error"] = code;
    body["message"] = message;
    response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

}  // namespace tern::bridge
