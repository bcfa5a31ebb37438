// Tests of -L URL parsing and the Paho server URIs built from endpoints.
#include "common/broker_url.hpp"

#include <doctest/doctest.h>

#include "common/tool_error.hpp"

using namespace tern::tools;

TEST_CASE("a full mqtt URL yields user, password, host, port and topic") {
    BrokerUrl url = parse_broker_url("mqtt://alice:s3cret@broker.example:1884/sensors/t1");
    CHECK(url.transport == Transport::kTcp);
    CHECK(url.user == "alice");
    CHECK(url.password == "s3cret");
    CHECK(url.host == "broker.example");
    CHECK(url.port == 1884);
    CHECK(url.topic == "sensors/t1");
}

TEST_CASE("each scheme maps to its transport and default port") {
    CHECK(parse_broker_url("mqtt://h").transport == Transport::kTcp);
    CHECK(parse_broker_url("mqtts://h").transport == Transport::kTls);
    CHECK(parse_broker_url("ws://h").transport == Transport::kWebSocket);
    CHECK(parse_broker_url("wss://h").transport == Transport::kSecureWebSocket);
    CHECK(default_port(Transport::kTcp) == 1883);
    CHECK(default_port(Transport::kTls) == 8883);
    CHECK(default_port(Transport::kWebSocket) == 80);
    CHECK(default_port(Transport::kSecureWebSocket) == 443);
    BrokerUrl bare = parse_broker_url("mqtt://h");
    CHECK_FALSE(bare.port.has_value());
    CHECK_FALSE(bare.topic.has_value());
    CHECK_FALSE(bare.user.has_value());
}

TEST_CASE("user, password and topic are percent-decoded") {
    BrokerUrl url = parse_broker_url("mqtt://us%40er:p%3Aw@h/a/%23");
    CHECK(url.user == "us@er");
    CHECK(url.password == "p:w");
    CHECK(url.topic == "a/#");
}

TEST_CASE("an unencoded '@' in the password still works because the last '@' ends it") {
    BrokerUrl url = parse_broker_url("mqtt://bob:pa@ss@h:1/t");
    CHECK(url.user == "bob");
    CHECK(url.password == "pa@ss");
    CHECK(url.host == "h");
}

TEST_CASE("a user without a password has no password") {
    BrokerUrl url = parse_broker_url("mqtt://bob@h/t");
    CHECK(url.user == "bob");
    CHECK_FALSE(url.password.has_value());
}

TEST_CASE("a literal '#' in the path is part of the topic") {
    CHECK(parse_broker_url("mqtt://h/a/#").topic == "a/#");
    CHECK(parse_broker_url("mqtt://h/+/x").topic == "+/x");
}

TEST_CASE("IPv6 hosts are written in brackets") {
    BrokerUrl url = parse_broker_url("mqtt://[::1]:1999/t");
    CHECK(url.host == "::1");
    CHECK(url.port == 1999);
    CHECK(parse_broker_url("mqtt://[fe80::1]").host == "fe80::1");
}

TEST_CASE("malformed URLs are usage errors") {
    CHECK_THROWS_AS(parse_broker_url("broker:1883"), UsageError);
    CHECK_THROWS_WITH_AS(parse_broker_url("http://h"),
                         "invalid URL: unsupported scheme 'http' (use mqtt, mqtts, ws or wss)",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_broker_url("mqtt://h:0"), "invalid URL: bad port '0'", UsageError);
    CHECK_THROWS_WITH_AS(parse_broker_url("mqtt://h:x1"), "invalid URL: bad port 'x1'", UsageError);
    CHECK_THROWS_WITH_AS(parse_broker_url("mqtt://:1883/t"), "invalid URL: missing host",
                         UsageError);
    CHECK_THROWS_WITH_AS(parse_broker_url("mqtt://h/a%2"),
                         "invalid URL: bad percent-encoding in the topic", UsageError);
    CHECK_THROWS_WITH_AS(parse_broker_url("mqtt://[::1/t"),
                         "invalid URL: unterminated IPv6 address", UsageError);
}

TEST_CASE("Paho server URIs use tcp, ssl, ws and wss") {
    Endpoint endpoint;
    endpoint.host = "example.org";
    endpoint.port = 1883;
    CHECK(paho_server_uri(endpoint) == "tcp://example.org:1883");
    endpoint.transport = Transport::kTls;
    CHECK(paho_server_uri(endpoint) == "ssl://example.org:1883");
    endpoint.transport = Transport::kWebSocket;
    endpoint.ws_path = "/mqtt";
    CHECK(paho_server_uri(endpoint) == "ws://example.org:1883/mqtt");
    endpoint.transport = Transport::kSecureWebSocket;
    CHECK(paho_server_uri(endpoint) == "wss://example.org:1883/mqtt");
    endpoint.transport = Transport::kTcp;
    endpoint.host = "::1";
    CHECK(paho_server_uri(endpoint) == "tcp://[::1]:1883");
    CHECK(endpoint_label(endpoint) == "[::1]:1883");
}
