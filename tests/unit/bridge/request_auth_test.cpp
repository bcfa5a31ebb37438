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
