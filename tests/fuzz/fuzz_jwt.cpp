// libFuzzer target for the bridge's JWT verification: any bytes as a token never crash and are
// accepted only with a user name; any JSON object signed with the key is never refused for its
// form or signature; base64url round-trips. The first input byte picks the mode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "jwt.hpp"

namespace {

using tern::bridge::JwtError;
using tern::bridge::JwtPolicy;

constexpr int64_t kNow = 1'800'000'000;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_jwt: %s\n", what);
    std::abort();
}

JwtPolicy policy(bool with_parties) {
    JwtPolicy rules;
    rules.secret = "fuzzing-secret-of-at-least-32-bytes!";
    if (with_parties) {
        rules.issuer = "https://auth.example";
        rules.audience = "tern";
    }
    return rules;
}

void check_token(std::string_view token, bool with_parties) {
    const auto result = tern::bridge::verify_jwt(token, policy(with_parties), kNow);
    if (result.ok() &&
        (result.username.empty() || result.username.find('\0') != std::string::npos ||
         !result.reason.empty())) {
        fail("accepted token without a valid user name");
    }
    if (!result.ok() && (result.reason.empty() || !result.username.empty())) {
        fail("refused token without a reason, or with a user name");
    }
}

void check_signed(std::string_view text) {
    const auto claims = nlohmann::json::parse(text, nullptr, false);
    if (claims.is_discarded() || !claims.is_object()) {
        return;
    }
    const std::string token = tern::bridge::sign_jwt(claims, policy(false).secret);
    const auto result = tern::bridge::verify_jwt(token, policy(false), kNow);
    if (token.size() <= tern::bridge::kMaxJwtBytes &&
        (result.error == JwtError::Malformed || result.error == JwtError::BadSignature ||
         result.error == JwtError::UnsupportedAlgorithm)) {
        fail("a token signed with the key was refused for its form or signature");
    }
}

void check_base64url(std::string_view bytes) {
    std::string back;
    if (!tern::bridge::base64url_decode(tern::bridge::base64url_encode(bytes), back) ||
        back != bytes) {
        fail("base64url does not round-trip");
    }
    // Whatever decodes must encode back to the same text (one encoding per byte string).
    if (tern::bridge::base64url_decode(bytes, back) &&
        tern::bridge::base64url_encode(back) != bytes) {
        fail("base64url accepted a non-canonical encoding");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0:
            check_token(input, false);
            break;
        case 1:
            check_token(input, true);
            break;
        case 2:
            check_signed(input);
            break;
        default:
            check_base64url(input);
            break;
    }
    return 0;
}
