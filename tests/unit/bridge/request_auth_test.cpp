// HTTP Basic against the password file, anonymous rules, and the Origin allow-list (CORS).
#include "request_auth.hpp"

#include <doctest/doctest.h>

#include "envelope.hpp"

using tern::bridge::authenticate;
using tern::bridge::check_origin;
using tern::bridge::cors_headers;
using tern::bridge::HttpRequest;
using tern::bridge::OriginCheck;

namespace {

HttpRequest with_headers(tern::bridge::HeaderList headers) {
    HttpRequest request;
    request.headers = std::move(headers);
    return request;
}

std::string basic(std::string_view credentials) {
    return "Basic " + tern::bridge::base64_encode(credentials);
}

std::shared_ptr<const tern::core::PasswordFile> users() {
    const std::string text = "alice:" + tern::core::PasswordFile::hash_password("s3cret", 1) + "\n";
    return tern::core::PasswordFile::parse(text, "passwd");
}

}  // namespace

TEST_CASE("Basic credentials are checked against the password file") {
    const auto passwords = users();
    auto result = authenticate(with_headers({{"authorization", basic("alice:s3cret")}}),
                               passwords.get(), false);
    CHECK(result.ok);
    REQUIRE(result.identity.username);
    CHECK(*result.identity.username == "alice");

    result = authenticate(with_headers({{"authorization", basic("alice:wrong")}}), passwords.get(),
                          true);
    CHECK_FALSE(result.ok);
    CHECK(result.slow);  // answered late, like a refused CONNACK
    CHECK(result.message == "bad user name or password");

    result = authenticate(with_headers({{"authorization", basic("mallory:s3cret")}}),
                          passwords.get(), true);
    CHECK_FALSE(result.ok);

    // A password may contain ':' (only the first one separates).
    const auto colon = tern::core::PasswordFile::parse(
        "bob:" + tern::core::PasswordFile::hash_password("a:b", 1) + "\n", "passwd");
    CHECK(authenticate(with_headers({{"authorization", basic("bob:a:b")}}), colon.get(), false).ok);
}

TEST_CASE("no credentials: allowed only with allow_anonymous") {
    const auto passwords = users();
    const auto anonymous = authenticate(HttpRequest{}, passwords.get(), true);
    CHECK(anonymous.ok);
    CHECK_FALSE(anonymous.identity.username);
    const auto refused = authenticate(HttpRequest{}, passwords.get(), false);
    CHECK_FALSE(refused.ok);
    CHECK_FALSE(refused.slow);
    CHECK(refused.message == "authentication required (HTTP Basic with an MQTT user)");
}

TEST_CASE("without a password file any user name is accepted, as for MQTT") {
    const auto result =
        authenticate(with_headers({{"authorization", basic("anyone:x")}}), nullptr, false);
    CHECK(result.ok);
    CHECK(*result.identity.username == "anyone");
}

TEST_CASE("malformed or unsupported Authorization headers are refused with a reason") {
    const auto passwords = users();
    CHECK(authenticate(with_headers({{"authorization", "Basic !!!"}}), passwords.get(), true)
              .message == "malformed Basic credentials");
    CHECK(authenticate(with_headers({{"authorization", basic("nocolon")}}), passwords.get(), true)
              .message == "malformed Basic credentials (expected user:password)");
    CHECK(authenticate(with_headers({{"authorization", "Bearer abc"}}), passwords.get(), true)
              .message == "unsupported authorization scheme 'Bearer' (use Basic)");
    CHECK(authenticate(with_headers({{"authorization",
                                      "bAsIc " + tern::bridge::base64_encode("alice:s3cret")}}),
                       passwords.get(), false)
              .ok);
}

TEST_CASE("origins: none, same, listed, denied; CORS headers only for listed ones") {
    const std::vector<std::string> allowed{"https://dash.example.com"};
    CHECK(check_origin(HttpRequest{}, allowed) == OriginCheck::None);
    const HttpRequest same =
        with_headers({{"host", "127.0.0.1:8080"}, {"origin", "http://127.0.0.1:8080"}});
    CHECK(check_origin(same, allowed) == OriginCheck::Same);
    CHECK(cors_headers(same, OriginCheck::Same).empty());
    const HttpRequest listed =
        with_headers({{"host", "h"}, {"origin", "https://dash.example.com"}});
    CHECK(check_origin(listed, allowed) == OriginCheck::Listed);
    const auto headers = cors_headers(listed, OriginCheck::Listed);
    REQUIRE(headers.size() == 3);
    CHECK(headers[0] == std::pair<std::string, std::string>{"Access-Control-Allow-Origin",
                                                            "https://dash.example.com"});
    const HttpRequest other = with_headers({{"host", "h"}, {"origin", "https://evil.example"}});
    CHECK(check_origin(other, allowed) == OriginCheck::Denied);
    CHECK(check_origin(other, {"*"}) == OriginCheck::Listed);
}

namespace {

constexpr int64_t kNow = 1'800'000'000;

tern::bridge::JwtPolicy jwt_policy() {
    tern::bridge::JwtPolicy policy;
    policy.secret = "a-secret-of-more-than-32-bytes-for-tests";
    return policy;
}

std::string token_for(std::string_view user, int64_t exp = kNow + 600) {
    return tern::bridge::sign_jwt({{"sub", user}, {"exp", exp}}, jwt_policy().secret);
}

HttpRequest with_query(tern::bridge::HeaderList query) {
    HttpRequest request;
    request.query = std::move(query);
    return request;
}

}  // namespace

TEST_CASE("a bearer token is read from the Authorization header, the cookie or ?token=") {
    const auto passwords = users();
    const auto policy = jwt_policy();
    const auto check = [&](const HttpRequest& request) {
        return authenticate(request, passwords.get(), false, &policy, kNow);
    };
    auto result = check(with_headers({{"authorization", "Bearer " + token_for("carol")}}));
    CHECK(result.ok);
    CHECK(*result.identity.username == "carol");
    result = check(
        with_headers({{"cookie", "theme=dark; tern_token=" + token_for("dave") + "; other=1"}}));
    CHECK(result.ok);
    CHECK(*result.identity.username == "dave");
    result = check(with_headers({{"cookie", "tern_token=\"" + token_for("quoted") + "\""}}));
    CHECK(*result.identity.username == "quoted");
    result = check(with_query({{"topic", "a/#"}, {"token", token_for("erin")}}));
    CHECK(result.ok);
    CHECK(*result.identity.username == "erin");
    // The Authorization header wins over the cookie and the query.
    HttpRequest both = with_headers({{"authorization", "bearer " + token_for("first")},
                                     {"cookie", "tern_token=" + token_for("second")}});
    both.query = {{"token", token_for("third")}};
    CHECK(*check(both).identity.username == "first");
    // Basic still works next to tokens; a cookie with another name is no token.
    CHECK(*check(with_headers({{"authorization", basic("alice:s3cret")}})).identity.username ==
          "alice");
    const auto none = check(with_headers({{"cookie", "xtern_token=" + token_for("x")}}));
    CHECK_FALSE(none.ok);
    CHECK(none.message ==
          "authentication required (HTTP Basic with an MQTT user, or a bearer token)");
    // Anonymous access still needs allow_anonymous.
    CHECK(authenticate(HttpRequest{}, passwords.get(), true, &policy, kNow).ok);
}

TEST_CASE("refused tokens: expired and bad signatures are slow, malformed ones are not") {
    const auto policy = jwt_policy();
    const auto expired =
        authenticate(with_headers({{"authorization", "Bearer " + token_for("carol", kNow - 100)}}),
                     nullptr, false, &policy, kNow);
    CHECK_FALSE(expired.ok);
    CHECK(expired.slow);
    CHECK(expired.token_error == "expired");
    CHECK(expired.message == "token expired 100 s ago");
    const auto forged = authenticate(
        with_query({{"token", tern::bridge::sign_jwt({{"sub", "x"}, {"exp", kNow + 60}},
                                                     "some-other-secret-32-bytes-long!!")}}),
        nullptr, false, &policy, kNow);
    CHECK(forged.slow);
    CHECK(forged.token_error == "bad_signature");
    const auto garbage = authenticate(with_headers({{"authorization", "Bearer not-a-token"}}),
                                      nullptr, true, &policy, kNow);
    CHECK_FALSE(garbage.ok);  // a token that fails is never anonymous access
    CHECK_FALSE(garbage.slow);
    CHECK(garbage.token_error == "malformed");
    const auto empty =
        authenticate(with_headers({{"authorization", "Bearer"}}), nullptr, true, &policy, kNow);
    CHECK(empty.token_error == "malformed");
}

TEST_CASE("the 401 for a refused token says why in JSON and in WWW-Authenticate") {
    tern::bridge::AuthResult refused;
    refused.message = "token expired 100 s ago";
    refused.token_error = "expired";
    const auto response = tern::bridge::unauthorized(refused, true);
    CHECK(response.status == 401);
    CHECK(response.body ==
          R"({"error":"unauthorized","reason":"expired","message":"token expired 100 s ago"})");
    REQUIRE(response.headers.size() == 2);
    CHECK(response.headers[0].second == "Basic realm=\"tern\", charset=\"UTF-8\"");
    CHECK(response.headers[1] ==
          std::pair<std::string, std::string>{
              "WWW-Authenticate",
              R"(Bearer realm="tern", error="invalid_token", error_description="expired")"});
    // Missing credentials with tokens enabled: both challenges, no error in the Bearer one.
    tern::bridge::AuthResult missing;
    missing.message = "authentication required";
    const auto challenge = tern::bridge::unauthorized(missing, true);
    REQUIRE(challenge.headers.size() == 2);
    CHECK(challenge.headers[1].second == "Bearer realm=\"tern\"");
    CHECK(tern::bridge::unauthorized(missing, false).headers.size() == 1);
}
