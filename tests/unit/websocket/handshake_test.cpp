// The opening handshake: the accept key, the exact 101 response, every refusal with its status,
// subprotocol selection and the Origin allow-list.
#include "websocket/handshake.hpp"

#include <vector>

#include "websocket_test_support.hpp"

namespace tern::websocket::test {

namespace {

constexpr std::string_view kKeyHeader = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 §1.3

std::vector<HttpHeader> valid_headers() {
    return {{"Host", "server.example.com"},
            {"Upgrade", "websocket"},
            {"Connection", "Upgrade"},
            {"Sec-WebSocket-Key", kKeyHeader},
            {"Sec-WebSocket-Version", "13"}};
}

HandshakeResult run(const std::vector<HttpHeader>& headers, const HandshakePolicy& policy = {},
                    std::string_view method = "GET", int major = 1, int minor = 1) {
    HandshakeRequest request;
    request.method = method;
    request.version_major = major;
    request.version_minor = minor;
    request.headers = headers;
    return accept_handshake(request, policy);
}

// valid_headers() with the header `name` removed (every occurrence).
std::vector<HttpHeader> without(std::string_view name) {
    std::vector<HttpHeader> headers = valid_headers();
    std::erase_if(headers, [name](const HttpHeader& header) { return header.name == name; });
    return headers;
}

// valid_headers() with the value of `name` replaced.
std::vector<HttpHeader> with(std::string_view name, std::string_view value) {
    std::vector<HttpHeader> headers = without(name);
    headers.push_back({name, value});
    return headers;
}

std::vector<HttpHeader> plus(std::vector<HttpHeader> headers, std::string_view name,
                             std::string_view value) {
    headers.push_back({name, value});
    return headers;
}

HandshakePolicy mqtt_policy() {
    HandshakePolicy policy;
    policy.subprotocols = {"mqtt", "mqttv3.1"};
    policy.subprotocol_policy = SubprotocolPolicy::Required;
    return policy;
}

constexpr std::string_view kAccepted =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

}  // namespace

TEST_CASE("The accept key of RFC 6455 section 1.3 is computed") {
    CHECK(compute_accept_key(kKeyHeader) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(compute_accept_key("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST_CASE("A valid request gets the exact 101 response") {
    const HandshakeResult result = run(valid_headers());
    CHECK(result.accepted());
    CHECK(result.status == 101);
    CHECK(result.response == std::string(kAccepted) + "\r\n");
    CHECK(result.subprotocol.empty());
    CHECK(result.reason.empty());
}

TEST_CASE("Header names, tokens and whitespace are read leniently as HTTP allows") {
    const std::vector<HttpHeader> headers = {{"host", "h"},
                                             {"UPGRADE", " WebSocket "},
                                             {"connection", "keep-alive,\tUpgrade"},
                                             {"sec-websocket-key", " dGhlIHNhbXBsZSBub25jZQ== "},
                                             {"SEC-WEBSOCKET-VERSION", "13"}};
    const HandshakeResult result = run(headers);
    CHECK(result.status == 101);
    CHECK(result.response == std::string(kAccepted) + "\r\n");
    // Repeated Connection headers form one list.
    CHECK(run(plus(with("Connection", "keep-alive"), "Connection", "upgrade")).status == 101);
    CHECK(run(with("Upgrade", "h2c, websocket")).status == 101);
}

TEST_CASE("A method other than GET is refused with 405") {
    for (std::string_view method : {"POST", "get", "HEAD"}) {
        CAPTURE(method);
        const HandshakeResult result = run(valid_headers(), {}, method);
        CHECK_FALSE(result.accepted());
        CHECK(result.status == 405);
        CHECK(result.error_headers == "Allow: GET\r\n");
        CHECK(result.response.empty());
    }
}

TEST_CASE("HTTP before 1.1 is refused with 400") {
    CHECK(run(valid_headers(), {}, "GET", 1, 0).status == 400);
    CHECK(run(valid_headers(), {}, "GET", 0, 9).status == 400);
    CHECK(run(valid_headers(), {}, "GET", 1, 2).status == 101);
}

TEST_CASE("Missing or wrong upgrade headers are refused with 400") {
    CHECK(run(without("Host")).status == 400);
    CHECK(run(plus(valid_headers(), "Host", "other")).status == 400);
    CHECK(run(without("Upgrade")).status == 400);
    CHECK(run(with("Upgrade", "h2c")).status == 400);
    CHECK(run(with("Upgrade", "websockets")).status == 400);
    CHECK(run(without("Connection")).status == 400);
    CHECK(run(with("Connection", "keep-alive")).status == 400);
    CHECK(run(with("Connection", "Upgraded")).status == 400);
    const HandshakeResult result = run(with("Connection", "close"));
    CHECK(result.reason == "Connection header does not contain Upgrade (RFC 6455 §4.2.1)");
    CHECK(result.error_headers.empty());
}

TEST_CASE("A WebSocket version other than 13 is refused with 426 naming version 13") {
    for (const auto& headers :
         {without("Sec-WebSocket-Version"), with("Sec-WebSocket-Version", "8"),
          with("Sec-WebSocket-Version", "13, 8"),
          plus(valid_headers(), "Sec-WebSocket-Version", "13")}) {
        const HandshakeResult result = run(headers);
        CHECK(result.status == 426);
        CHECK(result.error_headers == "Sec-WebSocket-Version: 13\r\n");
    }
}

TEST_CASE("A missing, repeated or malformed key is refused with 400") {
    CHECK(run(without("Sec-WebSocket-Key")).status == 400);
    CHECK(run(plus(valid_headers(), "Sec-WebSocket-Key", kKeyHeader)).status == 400);
    for (std::string_view key :
         {"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZQ",
          "dGhlIHNhbXBsZSBub25jZ===", "dGhlIHNhbXBsZSBub25jZQ.=", "dGhlIHNhbX-sZSBub25jZQ==",
          "dGhlIHNhbXBsZSBub25jZSBib2R5Lg=="}) {
        CAPTURE(key);
        CHECK_FALSE(is_valid_client_key(key));
        CHECK(run(with("Sec-WebSocket-Key", key)).status == 400);
    }
    CHECK(is_valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    CHECK(is_valid_client_key("+/+/+/+/+/+/+/+/+/+/+w=="));
}

TEST_CASE("The server picks the first subprotocol of the client's list that it speaks") {
    const HandshakePolicy policy = mqtt_policy();
    HandshakeResult result = run(plus(valid_headers(), "Sec-WebSocket-Protocol", "mqtt"), policy);
    CHECK(result.status == 101);
    CHECK(result.subprotocol == "mqtt");
    CHECK(result.response == std::string(kAccepted) + "Sec-WebSocket-Protocol: mqtt\r\n\r\n");

    result = run(plus(valid_headers(), "Sec-WebSocket-Protocol", "mqttv3.1, mqtt"), policy);
    CHECK(result.subprotocol == "mqttv3.1");
    result = run(plus(valid_headers(), "Sec-WebSocket-Protocol", "wamp,  mqtt ,mqttv3.1"), policy);
    CHECK(result.subprotocol == "mqtt");
    // Several headers are one list, in order.
    result = run(plus(plus(valid_headers(), "Sec-WebSocket-Protocol", "chat"),
                      "Sec-WebSocket-Protocol", "mqttv3.1"),
                 policy);
    CHECK(result.subprotocol == "mqttv3.1");
    // Names are case-sensitive.
    CHECK(run(plus(valid_headers(), "Sec-WebSocket-Protocol", "MQTT"), policy).status == 400);
}

TEST_CASE("Without a common subprotocol a required one refuses, an optional one accepts") {
    const HandshakePolicy required = mqtt_policy();
    HandshakeResult result = run(valid_headers(), required);
    CHECK(result.status == 400);
    CHECK(result.reason ==
          "no supported WebSocket subprotocol offered; this endpoint speaks: mqtt, mqttv3.1");
    CHECK(
        run(plus(valid_headers(), "Sec-WebSocket-Protocol", "chat, superchat"), required).status ==
        400);

    HandshakePolicy optional = required;
    optional.subprotocol_policy = SubprotocolPolicy::Optional;
    result = run(plus(valid_headers(), "Sec-WebSocket-Protocol", "chat"), optional);
    CHECK(result.status == 101);
    CHECK(result.subprotocol.empty());
    CHECK(result.response == std::string(kAccepted) + "\r\n");
}

TEST_CASE("Origin is checked against the allow-list and clients without Origin pass") {
    HandshakePolicy policy;
    policy.allowed_origins = {"https://dash.example.com", "http://localhost:8080"};
    CHECK(run(valid_headers(), policy).status == 101);
    CHECK(run(plus(valid_headers(), "Origin", "https://dash.example.com"), policy).status == 101);
    CHECK(run(plus(valid_headers(), "origin", "HTTPS://Dash.Example.com"), policy).status == 101);
    CHECK(run(plus(valid_headers(), "Origin", "http://localhost:8080"), policy).status == 101);
    const HandshakeResult refused =
        run(plus(valid_headers(), "Origin", "https://evil.example.com"), policy);
    CHECK(refused.status == 403);
    CHECK(refused.reason == "Origin not allowed (RFC 6455 §4.2.2, §10.2)");
    CHECK(run(plus(valid_headers(), "Origin", "http://localhost:8081"), policy).status == 403);
    CHECK(run(plus(valid_headers(), "Origin", "null"), policy).status == 403);
    CHECK(run(plus(plus(valid_headers(), "Origin", "https://dash.example.com"), "Origin",
                   "https://dash.example.com"),
              policy)
              .status == 403);

    // An empty list admits only clients without Origin; "*" admits every origin.
    CHECK(run(plus(valid_headers(), "Origin", "https://dash.example.com"), {}).status == 403);
    HandshakePolicy any;
    any.allowed_origins = {"*"};
    CHECK(run(plus(valid_headers(), "Origin", "https://anything.test"), any).status == 101);
    CHECK(run(plus(valid_headers(), "Origin", "null"), any).status == 101);
}

TEST_CASE("Checks run in a fixed order: the first failure decides the status") {
    // Wrong version and bad key: the version is checked first.
    CHECK(run(with("Sec-WebSocket-Version", "8"), {}, "GET").status == 426);
    // Bad key and bad origin: the key first.
    HandshakePolicy policy;
    CHECK(run(plus(with("Sec-WebSocket-Key", "short"), "Origin", "https://x"), policy).status ==
          400);
    // Bad origin and no subprotocol: the origin first.
    CHECK(run(plus(valid_headers(), "Origin", "https://x"), mqtt_policy()).status == 403);
    // POST without any upgrade header: the method first.
    CHECK(run({}, {}, "POST").status == 405);
}

TEST_CASE("An error response is a complete HTTP response carrying the extra headers") {
    const HandshakeResult result = run(with("Sec-WebSocket-Version", "7"));
    const std::string body = "only WebSocket version 13 is supported (RFC 6455 §4.2.2)\n";
    CHECK(format_error_response(result) ==
          "HTTP/1.1 426 Upgrade Required\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Length: " +
              std::to_string(body.size()) +
              "\r\n"
              "Connection: close\r\n"
              "Sec-WebSocket-Version: 13\r\n"
              "\r\n" +
              body);
    CHECK(status_text(400) == "Bad Request");
    CHECK(status_text(403) == "Forbidden");
    CHECK(status_text(405) == "Method Not Allowed");
    CHECK(status_text(426) == "Upgrade Required");
}

}  // namespace tern::websocket::test
