// Who is asking (HTTP Basic against the broker's password file, or a JWT bearer token) and from
// which web origin (CORS).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth.hpp"
#include "http_response.hpp"
#include "jwt.hpp"
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
    // A refused bearer token: why, as a short code ("expired", "bad_signature", ...), for the
    // JSON body and "WWW-Authenticate: Bearer error=...". Empty for Basic and missing credentials.
    std::string token_error;
};

// The same rules as an MQTT CONNECT: with a password file, a user name needs its password; no
// credentials are accepted only with allow_anonymous. Credentials come as
// "Authorization: Basic base64(user:password)".
AuthResult authenticate(const HttpRequest& request, const core::PasswordFile* passwords,
                        bool allow_anonymous);

// The 401 answer for a refusal: JSON reason and "WWW-Authenticate: Basic realm=...".
HttpResponse unauthorized(std::string_view message);

// The cookie a browser can hold a bearer token in.
inline constexpr std::string_view kTokenCookie = "tern_token";

// As above, and bearer tokens when `jwt` is not null: "Authorization: Bearer TOKEN", else a
// "tern_token" cookie, else "?token=TOKEN" (native EventSource cannot set headers). An
// Authorization header wins over the others. A valid token's user-name claim is the identity;
// tokens are checked at `now_s` (Unix seconds). Refused tokens are `slow` like wrong passwords,
// except for tokens that are malformed or name another algorithm (never a guess at the key).
AuthResult authenticate(const HttpRequest& request, const core::PasswordFile* passwords,
                        bool allow_anonymous, const JwtPolicy* jwt, int64_t now_s);

// The 401 answer for `result`: JSON {"error":"unauthorized","message":...[,"reason":CODE]} and
// the challenges: "WWW-Authenticate: Basic ..." and, when tokens are enabled (`bearer`),
// "WWW-Authenticate: Bearer realm=\"tern\"[, error=\"invalid_token\", error_description=...]"
// (RFC 6750 §3).
HttpResponse unauthorized(const AuthResult& result, bool bearer);

class Bridge;
class HttpConnection;

// The authentication step of every authenticated endpoint (routes, and the /ws and /mqtt
// handshakes): checks `request` with the bridge's password file, anonymous rule and JWT policy.
// Returns true with `who` filled in; otherwise the request has been answered 401 (wrong
// credentials: a second later, counted in tern_bridge_auth_failures_total and logged) and false
// is returned. On the connection's loop.
bool authenticate_request(Bridge& bridge, HttpConnection& connection, const HttpRequest& request,
                          Identity& who);

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
