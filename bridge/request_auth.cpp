// HTTP Basic authentication with the MQTT password file, JWT bearer tokens, and the Origin
// allow-list.
#include "request_auth.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "bridge.hpp"
#include "envelope.hpp"
#include "http_connection.hpp"
#include "net/broker.hpp"

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

// The value of the cookie `name` in the request's Cookie headers (RFC 6265 §4.2.1:
// "a=b; c=d"), or null.
std::optional<std::string_view> cookie_value(const HttpRequest& request, std::string_view name) {
    for (const auto& [header, value] : request.headers) {
        if (header != "cookie") {
            continue;
        }
        std::string_view rest = value;
        while (!rest.empty()) {
            const std::size_t end = rest.find(';');
            const std::string_view pair = trim(rest.substr(0, end));
            rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
            const std::size_t equals = pair.find('=');
            if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != name) {
                continue;
            }
            std::string_view cookie = trim(pair.substr(equals + 1));
            if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"') {
                cookie = cookie.substr(1, cookie.size() - 2);
            }
            return cookie;
        }
    }
    return std::nullopt;
}

AuthResult check_token(std::string_view token, const JwtPolicy& jwt, int64_t now_s) {
    JwtResult verdict = verify_jwt(token, jwt, now_s);
    if (verdict.ok()) {
        return AuthResult{true, Identity{std::move(verdict.username)}, {}, false, {}};
    }
    // A token that is well formed but refused may be a guess at the key or at a user's token:
    // answered late, like a wrong password.
    const bool slow =
        verdict.error != JwtError::Malformed && verdict.error != JwtError::UnsupportedAlgorithm;
    AuthResult result = refuse(std::move(verdict.reason), slow);
    result.token_error = jwt_error_code(verdict.error);
    return result;
}

}  // namespace

AuthResult authenticate(const HttpRequest& request, const core::PasswordFile* passwords,
                        bool allow_anonymous, const JwtPolicy* jwt, int64_t now_s) {
    if (jwt == nullptr) {
        return authenticate(request, passwords, allow_anonymous);
    }
    if (const std::string* header = request.header("authorization")) {
        const std::string_view value = trim(*header);
        const std::size_t space = value.find(' ');
        if (iequals(value.substr(0, space), "bearer")) {
            const std::string_view token =
                space == std::string_view::npos ? std::string_view{} : trim(value.substr(space));
            return check_token(token, *jwt, now_s);
        }
        return authenticate(request, passwords, allow_anonymous);
    }
    if (const auto cookie = cookie_value(request, kTokenCookie)) {
        return check_token(*cookie, *jwt, now_s);
    }
    if (const std::string* token = request.query_value("token")) {
        return check_token(*token, *jwt, now_s);
    }
    if (!allow_anonymous) {
        return refuse("authentication required (HTTP Basic with an MQTT user, or a bearer token)",
                      false);
    }
    return AuthResult{true, Identity{}, {}, false, {}};
}

AuthResult authenticate(const HttpRequest& request, const core::PasswordFile* passwords,
                        bool allow_anonymous) {
    const std::string* header = request.header("authorization");
    if (header == nullptr) {
        if (!allow_anonymous) {
            return refuse("authentication required (HTTP Basic with an MQTT user)", false);
        }
        return AuthResult{true, Identity{}, {}, false, {}};
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
    return AuthResult{true, Identity{std::move(username)}, {}, false, {}};
}

HttpResponse unauthorized(std::string_view message) {
    HttpResponse response = json_error(401, "unauthorized", message);
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"tern\", charset=\"UTF-8\"");
    return response;
}

HttpResponse unauthorized(const AuthResult& result, bool bearer) {
    HttpResponse response = unauthorized(result.message);
    if (!result.token_error.empty()) {
        nlohmann::ordered_json body;
        body["error"] = "unauthorized";
        body["reason"] = result.token_error;
        body["message"] = result.message;
        response.body = body.dump();
    }
    if (bearer) {
        std::string challenge = "Bearer realm=\"tern\"";
        if (!result.token_error.empty()) {
            // The code, not the message: a message may quote the token's own text.
            challenge +=
                ", error=\"invalid_token\", error_description=\"" + result.token_error + "\"";
        }
        response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    }
    return response;
}

bool authenticate_request(Bridge& bridge, HttpConnection& connection, const HttpRequest& request,
                          Identity& who) {
    net::Broker& broker = bridge.broker();
    const auto passwords = broker.passwords();
    const JwtPolicy* jwt = bridge.jwt_policy();
    AuthResult auth = authenticate(request, passwords.get(), broker.settings().auth.allow_anonymous,
                                   jwt, unix_seconds_now());
    if (auth.ok) {
        who = std::move(auth.identity);
        return true;
    }
    HttpResponse response = unauthorized(auth, jwt != nullptr);
    if (!auth.slow) {
        connection.respond(std::move(response));
        return false;
    }
    bridge.stats().auth_failures.fetch_add(1, std::memory_order_relaxed);
    // Neither the password nor the token is logged; the user name and the reason are.
    spdlog::warn("bridge: client {}: authentication failed: {}", connection.peer(), auth.message);
    connection.respond_later(std::move(response), 1000);
    return false;
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
