// Broker endpoints: the -L URL syntax and the URI Paho expects for each transport.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tern::tools {

enum class Transport { kTcp, kTls, kWebSocket, kSecureWebSocket };

// Where to connect: transport, host (IPv6 without brackets), port and, for WebSocket, the
// HTTP path of the upgrade request.
struct Endpoint {
    Transport transport = Transport::kTcp;
    std::string host = "localhost";
    int port = 1883;
    std::string ws_path = "/mqtt";
};

// The parts of "scheme://[user[:password]@]host[:port][/topic]".
struct BrokerUrl {
    Transport transport = Transport::kTcp;
    std::string host;
    std::optional<int> port;
    std::optional<std::string> user;
    std::optional<std::string> password;
    std::optional<std::string> topic;
};

// Parses a -L URL. Schemes: mqtt, mqtts, ws, wss. User, password and topic are
// percent-decoded; everything after the authority's '/' is the topic, so "mqtt://h/a/#" means
// topic "a/#" (no query or fragment). Throws UsageError naming what is wrong.
BrokerUrl parse_broker_url(std::string_view url);

// The default port of a transport: 1883, 8883, 80, 443.
int default_port(Transport transport);

bool is_tls(Transport transport);

// The URI handed to Paho: tcp://, ssl://, ws:// or wss:// with IPv6 hosts in brackets.
std::string paho_server_uri(const Endpoint& endpoint);

// "host:port" (IPv6 in brackets) for messages.
std::string endpoint_label(const Endpoint& endpoint);

}  // namespace tern::tools
