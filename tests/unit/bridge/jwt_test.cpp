// HS256 JSON Web Tokens: what verify_jwt accepts and every reason it refuses a token.
#include "jwt.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

using tern::bridge::base64url_decode;
using tern::bridge::base64url_encode;
using tern::bridge::JwtError;
using tern::bridge::JwtPolicy;
using tern::bridge::sign_jwt;
using tern::bridge::verify_jwt;
using Json = nlohmann::json;

namespace {

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-secret";

JwtPolicy policy() {
    JwtPolicy result;
    result.secret = kSecret;
    result.leeway_s = 30;
    return result;
}

Json claims(const Json& extra = Json::object()) {
    Json result = {{"sub", "alice"}, {"exp", kNow + 600}, {"iat", kNow - 10}};
    result.update(extra);
    return result;
}

// A token with any header and payload text, signed (independently of jwt.cpp) with `secret`.
std::string raw_token(std::string_view header, std::string_view payload,
                      const std::string& secret = kSecret) {
    const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    unsigned char mac[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
    return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), length));
}

JwtError error_of(const std::string& token, const JwtPolicy& rules = policy()) {
    return verify_jwt(token, rules, kNow).error;
}

}  // namespace

TEST_CASE("base64url round-trips every length and refuses padding and other alphabets") {
    std::string bytes;
    for (int i = 0; i < 70; ++i) {
        std::string back;
        const std::string text = base64url_encode(bytes);
        CHECK(text.find_first_of("+/=") == std::string::npos);
        REQUIRE(base64url_decode(text, back));
        CHECK(back == bytes);
        bytes += static_cast<char>(0xfb + i);
    }
    std::string out;
    CHECK(base64url_encode("\xfb\xff") == "-_8");
    CHECK_FALSE(base64url_decode("-_8=", out));   // padding
    CHECK_FALSE(base64url_decode("+/8", out));    // standard alphabet
    CHECK_FALSE(base64url_decode("abcde", out));  // 4n+1 characters encode nothing
    CHECK_FALSE(base64url_decode("-_9", out));    // non-zero unused bits: not canonical
    CHECK(base64url_decode("", out));
    CHECK(out.empty());
}

TEST_CASE("a good token gives the user name of its sub claim") {
    const auto result = verify_jwt(sign_jwt(claims(), kSecret), policy(), kNow);
    CHECK(result.ok());
    CHECK(result.error == JwtError::None);
    CHECK(result.username == "alice");
    // Signed independently of sign_jwt, with the header members in another order.
    CHECK(verify_jwt(raw_token(R"({"typ":"JWT","alg":"HS256"})", claims().dump()), policy(), kNow)
              .username == "alice");
}

TEST_CASE("the user name comes from the configured claim") {
    JwtPolicy rules = policy();
    rules.username_claim = "preferred_username";
    const std::string token = sign_jwt(claims({{"preferred_username", "bob"}}), kSecret);
    CHECK(verify_jwt(token, rules, kNow).username == "bob");
    CHECK(error_of(sign_jwt(claims(), kSecret), rules) == JwtError::MissingUsername);
    CHECK(error_of(sign_jwt(claims({{"sub", 5}}), kSecret)) == JwtError::MissingUsername);
    CHECK(error_of(sign_jwt(claims({{"sub", ""}}), kSecret)) == JwtError::MissingUsername);
    CHECK(error_of(sign_jwt(claims({{"sub", std::string("a\0b", 3)}}), kSecret)) ==
          JwtError::MissingUsername);  // U+0000 is not allowed in a user name [MQTT-1.5.4-2]
}

TEST_CASE("exp is required and checked with the leeway") {
    Json no_exp = claims();
    no_exp.erase("exp");
    const auto missing = verify_jwt(sign_jwt(no_exp, kSecret), policy(), kNow);
    CHECK(missing.error == JwtError::MissingExpiry);
    CHECK(missing.reason == "token has no 'exp' claim (tokens must expire)");

    const auto expired =
        verify_jwt(sign_jwt(claims({{"exp", kNow - 100}}), kSecret), policy(), kNow);
    CHECK(expired.error == JwtError::Expired);
    CHECK(expired.reason == "token expired 100 s ago");
    CHECK(expired.username.empty());
    // Within the leeway (30 s) a token just past exp still passes; at exp + leeway it does not.
    CHECK(error_of(sign_jwt(claims({{"exp", kNow - 29}}), kSecret)) == JwtError::None);
    CHECK(error_of(sign_jwt(claims({{"exp", kNow - 30}}), kSecret)) == JwtError::Expired);
    JwtPolicy strict = policy();
    strict.leeway_s = 0;
    CHECK(error_of(sign_jwt(claims({{"exp", kNow}}), kSecret), strict) == JwtError::Expired);
    CHECK(error_of(sign_jwt(claims({{"exp", kNow + 1}}), kSecret), strict) == JwtError::None);
    CHECK(error_of(sign_jwt(claims({{"exp", kNow + 0.5}}), kSecret), strict) == JwtError::None);
    CHECK(error_of(sign_jwt(claims({{"exp", "tomorrow"}}), kSecret)) == JwtError::InvalidClaim);
}

TEST_CASE("nbf and iat in the future are refused beyond the leeway") {
    const auto early = verify_jwt(sign_jwt(claims({{"nbf", kNow + 120}}), kSecret), policy(), kNow);
    CHECK(early.error == JwtError::NotYetValid);
    CHECK(early.reason == "token not valid for another 120 s");
    CHECK(error_of(sign_jwt(claims({{"nbf", kNow + 30}}), kSecret)) == JwtError::None);
    CHECK(error_of(sign_jwt(claims({{"nbf", kNow + 31}}), kSecret)) == JwtError::NotYetValid);
    CHECK(error_of(sign_jwt(claims({{"nbf", kNow - 5}}), kSecret)) == JwtError::None);
    CHECK(error_of(sign_jwt(claims({{"iat", kNow + 60}}), kSecret)) == JwtError::NotYetValid);
    CHECK(error_of(sign_jwt(claims({{"iat", kNow + 20}}), kSecret)) == JwtError::None);
    CHECK(error_of(sign_jwt(claims({{"nbf", nullptr}}), kSecret)) == JwtError::InvalidClaim);
    // Dates far beyond any integer of seconds are refused with a readable reason, without
    // overflowing (a fuzzer find).
    const auto far = verify_jwt(sign_jwt(claims({{"nbf", 1.5e29}}), kSecret), policy(), kNow);
    CHECK(far.error == JwtError::NotYetValid);
    CHECK(far.reason == "token not valid for another 1000000000000000 s");
    CHECK(error_of(sign_jwt(claims({{"exp", -1.5e29}}), kSecret)) == JwtError::Expired);
}

TEST_CASE("only HS256 is accepted: none and every other algorithm are refused") {
    const std::string payload = base64url_encode(claims().dump());
    // alg "none" with an empty signature (the classic forgery).
    const auto none = verify_jwt(
        base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".", policy(), kNow);
    CHECK(none.error == JwtError::UnsupportedAlgorithm);
    CHECK(none.reason == "algorithm 'none' is not accepted (only HS256)");
    // Even correctly MACed with the secret, another alg name is refused.
    CHECK(error_of(raw_token(R"({"alg":"HS512"})", claims().dump())) ==
          JwtError::UnsupportedAlgorithm);
    CHECK(error_of(raw_token(R"({"alg":"RS256"})", claims().dump())) ==
          JwtError::UnsupportedAlgorithm);
    CHECK(error_of(raw_token(R"({"alg":"hs256"})", claims().dump())) ==
          JwtError::UnsupportedAlgorithm);
    CHECK(error_of(raw_token(R"({"typ":"JWT"})", claims().dump())) ==
          JwtError::UnsupportedAlgorithm);
    CHECK(error_of(raw_token(R"({"alg":"HS256","crit":["exp"]})", claims().dump())) ==
          JwtError::UnsupportedAlgorithm);
}

TEST_CASE("a token signed with another key, or altered, has a bad signature") {
    const auto other =
        verify_jwt(sign_jwt(claims(), "another-secret-of-at-least-32-bytes!"), policy(), kNow);
    CHECK(other.error == JwtError::BadSignature);
    CHECK(other.reason == "token signature does not match");
    // The payload changed after signing (user name swapped): the signature no longer matches.
    const std::string good = sign_jwt(claims(), kSecret);
    const std::size_t first = good.find('.');
    const std::size_t second = good.find('.', first + 1);
    const std::string forged = good.substr(0, first + 1) +
                               base64url_encode(claims({{"sub", "admin"}}).dump()) +
                               good.substr(second);
    CHECK(error_of(forged) == JwtError::BadSignature);
    // The last signature character changed.
    std::string flipped = good;
    flipped.back() = flipped.back() == 'A' ? 'Q' : 'A';
    CHECK(error_of(flipped) == JwtError::BadSignature);
    // Without a configured secret nothing is accepted, not even a token MACed with "".
    JwtPolicy keyless = policy();
    keyless.secret.clear();
    CHECK(error_of(raw_token(R"({"alg":"HS256"})", claims().dump(), ""), keyless) ==
          JwtError::BadSignature);
}

TEST_CASE("malformed tokens are refused with the part that is wrong") {
    const std::string good = sign_jwt(claims(), kSecret);
    CHECK(error_of("") == JwtError::Malformed);
    CHECK(error_of("abc") == JwtError::Malformed);
    CHECK(error_of("a.b") == JwtError::Malformed);
    CHECK(error_of(good + ".x") == JwtError::Malformed);  // four segments
    CHECK(verify_jwt("a.b", policy(), kNow).reason == "token is not three dot-separated segments");
    CHECK(error_of("!!." + good.substr(good.find('.') + 1)) == JwtError::Malformed);
    CHECK(error_of(base64url_encode("[1,2]") + good.substr(good.find('.'))) ==
          JwtError::Malformed);  // header is not an object
    CHECK(error_of(good.substr(0, good.rfind('.')) + ".c2ln") ==
          JwtError::Malformed);  // a 3-byte signature
    CHECK(error_of(raw_token(R"({"alg":"HS256"})", "not json")) == JwtError::Malformed);
    CHECK(error_of(raw_token(R"({"alg":"HS256"})", "[\"sub\"]")) == JwtError::Malformed);
    CHECK(error_of(good + std::string(tern::bridge::kMaxJwtBytes, 'A')) == JwtError::Malformed);
}

TEST_CASE("iss and aud are checked only when configured") {
    JwtPolicy rules = policy();
    rules.issuer = "https://auth.example";
    rules.audience = "tern";
    const Json both = {{"iss", "https://auth.example"}, {"aud", "tern"}};
    CHECK(error_of(sign_jwt(claims(both), kSecret), rules) == JwtError::None);
    CHECK(error_of(
              sign_jwt(claims({{"iss", "https://auth.example"}, {"aud", {"x", "tern"}}}), kSecret),
              rules) == JwtError::None);
    const auto wrong_iss = verify_jwt(
        sign_jwt(claims({{"iss", "https://evil.example"}, {"aud", "tern"}}), kSecret), rules, kNow);
    CHECK(wrong_iss.error == JwtError::WrongIssuer);
    CHECK(wrong_iss.reason == "token issuer is not 'https://auth.example'");
    CHECK(error_of(sign_jwt(claims({{"aud", "tern"}}), kSecret), rules) == JwtError::WrongIssuer);
    const auto wrong_aud = verify_jwt(
        sign_jwt(claims({{"iss", "https://auth.example"}, {"aud", {"x", "y"}}}), kSecret), rules,
        kNow);
    CHECK(wrong_aud.error == JwtError::WrongAudience);
    CHECK(wrong_aud.reason == "token audience does not include 'tern'");
    CHECK(error_of(sign_jwt(claims({{"iss", "https://auth.example"}}), kSecret), rules) ==
          JwtError::WrongAudience);
    // Not configured: any iss and aud pass.
    CHECK(error_of(sign_jwt(claims({{"iss", "whoever"}, {"aud", 7}}), kSecret)) == JwtError::None);
}
