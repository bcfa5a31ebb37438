// Who is asking (HTTP Basic against the broker's password file) and from which web origin (CORS).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth.hpp"
#include "http_response.hpp"
#include "request_parser.hpp"

namespace tern::bridge {

// The client id bridge requests have in ACL checks (what "%c" in a pattern stands for).
inline constexpr std::string_view kBridgeClientId = "$bridge";

struct Identity {
    std::optional<std::string> username;  // none = anonymous
};

struct AuthResult {
    bool ok = false;
    Identity identity;
    // When refused: 401 and why. `slow` when credentials were wrong: the answer is held back
    // about a second, as for MQTT, so that guessing passwords is slow.
    std::string message;
    bool slow = false;
};

// The same rules as an MQTT CONNECT: with a password file, a user name needs its password; no
// credentials are accepted only with allow_anonymous. Credentials come as
// "Authorization: Basic base64(user:password)".
AuthResult authenticate(const HttpRequest& request, const core::PasswordFile* passwords,
                        bool allow_anonymous);

// The 401 answer for a refusal: JSON reason and "WWW-Authenticate: Basic realm=...".
HttpResponse unauthorized(std::string_view message);

enum class OriginCheck : uint8_t {
    None,    // no Origin header (curl, scripts, same-origin GETs)
    Same,    // the Origin is this server (http(s)://<Host>)
    Listed,  // in bridge.allowed_origins (or "*" is)
    Denied,  // a browser page from elsewhere: refused (CSRF, CORS)
};

OriginCheck check_origin(const HttpRequest& request, const std::vector<std::string>& allowed);

// Headers answering a listed origin (Access-Control-Allow-Origin and friends), empty otherwise.
HeaderList cors_headers(const HttpRequest& request, OriginCheck check);

}  // namespace tern::bridge
