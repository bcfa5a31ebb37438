// HS256 JSON Web Tokens: base64url, the header and signature checks, then the registered claims.
#include "jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>

namespace tern::bridge {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kSha256Bytes = 32;
// The longest user name an MQTT client could send (a UTF-8 string field) [MQTT-1.5.4].
constexpr std::size_t kMaxUsernameBytes = 65'535;

JwtResult refuse(JwtError error, std::string reason) {
    return JwtResult{error, std::move(reason), {}};
}

std::array<unsigned char, kSha256Bytes> hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, kSha256Bytes> digest{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &length);
    return digest;
}

// A segment decoded and parsed as a JSON object; nullopt when it is not one.
std::optional<Json> decode_object(std::string_view segment) {
    std::string text;
    if (!base64url_decode(segment, text)) {
        return std::nullopt;
    }
    Json value = Json::parse(text, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
        return std::nullopt;
    }
    return value;
}

enum class DateRead : uint8_t { Absent, Invalid, Present };

// A NumericDate claim (RFC 7519 §2: seconds since the epoch, possibly fractional).
DateRead numeric_date(const Json& claims, const char* name, double& value) {
    const auto found = claims.find(name);
    if (found == claims.end()) {
        return DateRead::Absent;
    }
    if (!found->is_number()) {
        return DateRead::Invalid;
    }
    value = found->get<double>();
    return std::isfinite(value) ? DateRead::Present : DateRead::Invalid;
}

std::string seconds(double amount) {
    // Claims are untrusted: a date 10^29 s away must not overflow the conversion (found by
    // tern_fuzz_jwt). Past ~31 million years the exact figure does not matter.
    constexpr double kLimit = 1e15;
    const double whole = std::clamp(std::ceil(amount), -kLimit, kLimit);
    return std::to_string(static_cast<int64_t>(whole)) + " s";
}

// exp (required), nbf and iat against `now`, each with the leeway (RFC 7519 §4.1.4-6).
JwtResult check_times(const Json& claims, const JwtPolicy& policy, int64_t now_s) {
    const double now = static_cast<double>(now_s);
    const double leeway = static_cast<double>(policy.leeway_s);
    double exp = 0;
    double nbf = 0;
    double iat = 0;
    const DateRead exp_read = numeric_date(claims, "exp", exp);
    const DateRead nbf_read = numeric_date(claims, "nbf", nbf);
    const DateRead iat_read = numeric_date(claims, "iat", iat);
    for (const auto& [read, name] :
         {std::pair{exp_read, "exp"}, std::pair{nbf_read, "nbf"}, std::pair{iat_read, "iat"}}) {
        if (read == DateRead::Invalid) {
            return refuse(JwtError::InvalidClaim,
                          std::string("claim '") + name + "' is not a number of seconds");
        }
    }
    if (exp_read == DateRead::Absent) {
        return refuse(JwtError::MissingExpiry, "token has no 'exp' claim (tokens must expire)");
    }
    // "The current date/time MUST be before the expiration date/time" (RFC 7519 §4.1.4).
    if (now >= exp + leeway) {
        return refuse(JwtError::Expired, "token expired " + seconds(now - exp) + " ago");
    }
    // "...MUST be after or equal to the not-before date/time" (RFC 7519 §4.1.5).
    if (nbf_read == DateRead::Present && now + leeway < nbf) {
        return refuse(JwtError::NotYetValid, "token not valid for another " + seconds(nbf - now));
    }
    if (iat_read == DateRead::Present && iat > now + leeway) {
        return refuse(JwtError::NotYetValid,
                      "token issued " + seconds(iat - now) + " in the future");
    }
    return {};
}

// iss and aud when the policy names them (RFC 7519 §4.1.1, §4.1.3: aud is a string or an array).
JwtResult check_parties(const Json& claims, const JwtPolicy& policy) {
    if (!policy.issuer.empty()) {
        const auto iss = claims.find("iss");
        if (iss == claims.end() || !iss->is_string() ||
            iss->get_ref<const std::string&>() != policy.issuer) {
            return refuse(JwtError::WrongIssuer, "token issuer is not '" + policy.issuer + "'");
        }
    }
    if (!policy.audience.empty()) {
        const auto aud = claims.find("aud");
        bool found = false;
        if (aud != claims.end() && aud->is_string()) {
            found = aud->get_ref<const std::string&>() == policy.audience;
        } else if (aud != claims.end() && aud->is_array()) {
            for (const Json& entry : *aud) {
                found = found || (entry.is_string() &&
                                  entry.get_ref<const std::string&>() == policy.audience);
            }
        }
        if (!found) {
            return refuse(JwtError::WrongAudience,
                          "token audience does not include '" + policy.audience + "'");
        }
    }
    return {};
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string text;
    text.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t group = (static_cast<uint8_t>(bytes[i]) << 16) |
                               (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                               static_cast<uint8_t>(bytes[i + 2]);
        text += kAlphabet[(group >> 18) & 63];
        text += kAlphabet[(group >> 12) & 63];
        text += kAlphabet[(group >> 6) & 63];
        text += kAlphabet[group & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
        if (rest == 2) {
            group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        }
        text += kAlphabet[(group >> 18) & 63];
        text += kAlphabet[(group >> 12) & 63];
        if (rest == 2) {
            text += kAlphabet[(group >> 6) & 63];
        }
    }
    return text;
}

bool base64url_decode(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 == 1) {
        return false;
    }
    out.reserve(text.size() * 3 / 4);
    uint32_t group = 0;
    int bits = 0;
    for (const char c : text) {
        const std::size_t value = kAlphabet.find(c);
        if (value == std::string_view::npos) {
            return false;  // '=' padding included: JWS segments have none (RFC 7515 §2)
        }
        group = (group << 6) | static_cast<uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((group >> bits) & 0xff);
        }
    }
    // The unused low bits of the last character must be zero: one encoding per byte string, so
    // a token cannot be altered without changing what is signed or checked.
    return (group & ((1u << bits) - 1)) == 0;
}

JwtResult verify_jwt(std::string_view token, const JwtPolicy& policy, int64_t now_s) {
    if (token.size() > kMaxJwtBytes) {
        return refuse(JwtError::Malformed,
                      "token longer than " + std::to_string(kMaxJwtBytes) + " bytes");
    }
    const std::size_t first_dot = token.find('.');
    const std::size_t second_dot =
        first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return refuse(JwtError::Malformed, "token is not three dot-separated segments");
    }
    const std::optional<Json> header = decode_object(token.substr(0, first_dot));
    if (!header) {
        return refuse(JwtError::Malformed, "token header is not base64url JSON object");
    }
    // The algorithm is fixed by the server, never chosen by the token: "none" and every other
    // alg are refused (RFC 8725 §3.1, §2.1).
    const auto alg = header->find("alg");
    if (alg == header->end() || !alg->is_string()) {
        return refuse(JwtError::UnsupportedAlgorithm, "token header has no 'alg'");
    }
    if (alg->get_ref<const std::string&>() != "HS256") {
        return refuse(JwtError::UnsupportedAlgorithm,
                      "algorithm '" + alg->get<std::string>() + "' is not accepted (only HS256)");
    }
    // Extensions the token says must be understood are not (RFC 7515 §4.1.11).
    if (header->contains("crit")) {
        return refuse(JwtError::UnsupportedAlgorithm, "token header has 'crit' extensions");
    }
    std::string signature;
    if (!base64url_decode(token.substr(second_dot + 1), signature) ||
        signature.size() != kSha256Bytes) {
        return refuse(JwtError::Malformed, "token signature is not a base64url HS256 signature");
    }
    if (policy.secret.empty()) {
        return refuse(JwtError::BadSignature, "bearer tokens are not enabled on this server");
    }
    const auto expected = hmac_sha256(policy.secret, token.substr(0, second_dot));
    if (CRYPTO_memcmp(expected.data(), signature.data(), kSha256Bytes) != 0) {
        return refuse(JwtError::BadSignature, "token signature does not match");
    }
    const std::optional<Json> claims =
        decode_object(token.substr(first_dot + 1, second_dot - first_dot - 1));
    if (!claims) {
        return refuse(JwtError::Malformed, "token payload is not a base64url JSON object");
    }
    if (JwtResult times = check_times(*claims, policy, now_s); !times.ok()) {
        return times;
    }
    if (JwtResult parties = check_parties(*claims, policy); !parties.ok()) {
        return parties;
    }
    const auto name = claims->find(policy.username_claim);
    if (name == claims->end() || !name->is_string() ||
        name->get_ref<const std::string&>().empty()) {
        return refuse(JwtError::MissingUsername,
                      "token has no user name in claim '" + policy.username_claim + "'");
    }
    const std::string& username = name->get_ref<const std::string&>();
    // An MQTT user name is a UTF-8 string without U+0000 [MQTT-1.5.4-2]; the JSON parser has
    // already refused ill-formed UTF-8.
    if (username.size() > kMaxUsernameBytes || username.find('\0') != std::string::npos) {
        return refuse(JwtError::MissingUsername,
                      "claim '" + policy.username_claim + "' is not a valid user name");
    }
    return JwtResult{JwtError::None, {}, username};
}

int64_t unix_seconds_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string sign_jwt(const Json& claims, std::string_view secret) {
    const std::string signing_input =
        base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(claims.dump());
    const auto digest = hmac_sha256(secret, signing_input);
    return signing_input + "." +
           base64url_encode(
               std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string_view jwt_error_code(JwtError error) {
    switch (error) {
        case JwtError::None:
            return "none";
        case JwtError::Malformed:
            return "malformed";
        case JwtError::UnsupportedAlgorithm:
            return "unsupported_algorithm";
        case JwtError::BadSignature:
            return "bad_signature";
        case JwtError::Expired:
            return "expired";
        case JwtError::NotYetValid:
            return "not_yet_valid";
        case JwtError::MissingExpiry:
            return "missing_exp";
        case JwtError::InvalidClaim:
            return "invalid_claim";
        case JwtError::WrongIssuer:
            return "wrong_issuer";
        case JwtError::WrongAudience:
            return "wrong_audience";
        case JwtError::MissingUsername:
            return "missing_username";
    }
    return "invalid_token";
}

}  // namespace tern::bridge
