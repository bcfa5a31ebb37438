// HTTP Basic authentication with the MQTT password file, and the Origin allow-list.
#include "request_auth.hpp"

#include <algorithm>
#include <cctype>

#include "envelope.hpp"

namespace tern::bridge {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

AuthResult refuse(std::string message, bool slow) {
    AuthResult result;
    result.message = std::move(message);
    result.slow = slow;
    return result;
}

}  // namespace

AuthResult authenticate(const HttpRequest& request, const core::PasswordFile* passwords,
                        bool allow_anonymous) {
    const std::string* header = request.header("authorization");
    if (header == nullptr) {
        if (!allow_anonymous) {
            return refuse("authentication required (HTTP Basic with an MQTT user)", false);
        }
        return AuthResult{true, Identity{}, {}, false};
    }
    const std::string_view value = trim(*header);
    const std::size_t space = value.find(' ');
    const std::string_view scheme = value.substr(0, space);
    if (!iequals(scheme, "basic")) {
        return refuse("unsupported authorization scheme '" + std::string(scheme) + "' (use Basic)",
                      false);
    }
    std::string decoded;
    if (space == std::string_view::npos || !base64_decode(trim(value.substr(space + 1)), decoded)) {
        return refuse("malformed Basic credentials", false);
    }
    const std::size_t colon = decoded.find(':');
    if (colon == std::string::npos || colon == 0) {
        return refuse("malformed Basic credentials (expected user:password)", false);
    }
    std::string username = decoded.substr(0, colon);
    const std::string_view password = std::string_view(decoded).substr(colon + 1);
    // Without a password file any user name is accepted, as for an MQTT CONNECT.
    if (passwords != nullptr && !passwords->verify(username, password)) {
        return refuse("bad user name or password", true);
    }
    return AuthResult{true, Identity{std::move(username)}, {}, false};
}

HttpResponse unauthorized(std::string_view message) {
    HttpResponse response = json_error(401, "unauthorized", message);
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"tern\", charset=\"UTF-8\"");
    return response;
}

OriginCheck check_origin(const HttpRequest& request, const std::vector<std::string>& allowed) {
    const std::string* origin = request.header("origin");
    if (origin == nullptr) {
        return OriginCheck::None;
    }
    const std::string* host = request.header("host");
    if (host != nullptr && (*origin == "http://" + *host || *origin == "https://" + *host)) {
        return OriginCheck::Same;
    }
    for (const std::string& entry : allowed) {
        if (entry == "*" || iequals(entry, *origin)) {
            return OriginCheck::Listed;
        }
    }
    return OriginCheck::Denied;
}

HeaderList cors_headers(const HttpRequest& request, OriginCheck check) {
    HeaderList headers;
    if (check != OriginCheck::Listed) {
        return headers;
    }
    // The request's own origin, never "*": credentials (Basic) are allowed with it.
    headers.emplace_back("Access-Control-Allow-Origin", *request.header("origin"));
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
    headers.emplace_back("Vary", "Origin");
    return headers;
}

}  // namespace tern::bridge
