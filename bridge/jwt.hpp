// JSON Web Tokens signed with HMAC-SHA256 (RFC 7519, RFC 7515, RFC 7518 §3.2): the bridge's
// bearer tokens, verified against one shared secret.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tern::bridge {

// What a token must satisfy. Built once from core::BridgeSettings.
struct JwtPolicy {
    std::string secret;                  // the HMAC key; empty = bearer tokens are refused
    std::string username_claim = "sub";  // the claim that names the MQTT user
    std::string issuer;                  // required "iss" when not empty
    std::string audience;                // required "aud" (or an element of it) when not empty
    int64_t leeway_s = 30;               // clock skew allowed on exp, nbf and iat
};

// Why a token was refused. The first three are about the token's form, the others about a token
// that was checked against the key.
enum class JwtError : uint8_t {
    None,
    Malformed,             // not three base64url segments of JSON objects, or too long
    UnsupportedAlgorithm,  // alg is not HS256 ("none" included), or a "crit" header
    BadSignature,
    Expired,          // exp is past (beyond the leeway)
    NotYetValid,      // nbf is ahead, or iat is in the future (beyond the leeway)
    MissingExpiry,    // no exp: tokens that never expire are not accepted
    InvalidClaim,     // exp, nbf or iat is not a number
    WrongIssuer,      // iss is not the configured issuer
    WrongAudience,    // aud does not hold the configured audience
    MissingUsername,  // the user-name claim is absent, not a string, empty or not a user name
};

struct JwtResult {
    JwtError error = JwtError::None;
    std::string reason;    // one line for the 401 body and the log ("token expired 42 s ago")
    std::string username;  // the user-name claim, when accepted
    bool ok() const noexcept { return error == JwtError::None; }
};

// Tokens longer than this are refused unread (they arrive in headers, cookies and URLs).
inline constexpr std::size_t kMaxJwtBytes = 8 * 1024;

// Verifies `token` at `now_s` (seconds since the Unix epoch). The header and the signature are
// checked before any claim is believed; the signature comparison is constant-time. Thread-safe.
JwtResult verify_jwt(std::string_view token, const JwtPolicy& policy, int64_t now_s);

// Seconds since the Unix epoch, from the system clock (what exp, nbf and iat are measured in).
int64_t unix_seconds_now();

// Makes a token with header {"alg":"HS256","typ":"JWT"} and these claims (tests and tools).
std::string sign_jwt(const nlohmann::json& claims, std::string_view secret);

// The short code of an error for JSON bodies: "malformed", "unsupported_algorithm",
// "bad_signature", "expired", ...
std::string_view jwt_error_code(JwtError error);

// base64url without padding (RFC 4648 §5, RFC 7515 §2). decode refuses padding, characters
// outside the alphabet and a length that no encoding has (4n+1).
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace tern::bridge
