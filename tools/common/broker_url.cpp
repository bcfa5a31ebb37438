// Parsing of -L URLs (RFC 3986 authority with percent-decoding) and Paho server URIs.
#include "broker_url.hpp"

#include <charconv>

#include "tool_error.hpp"

namespace tern::tools {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string percent_decode(std::string_view text, std::string_view what) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
        int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
            throw UsageError("invalid URL: bad percent-encoding in the " + std::string(what));
        }
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

Transport parse_scheme(std::string_view scheme) {
    if (scheme == "mqtt") {
        return Transport::kTcp;
    }
    if (scheme == "mqtts") {
        return Transport::kTls;
    }
    if (scheme == "ws") {
        return Transport::kWebSocket;
    }
    if (scheme == "wss") {
        return Transport::kSecureWebSocket;
    }
    throw UsageError("invalid URL: unsupported scheme '" + std::string(scheme) +
                     "' (use mqtt, mqtts, ws or wss)");
}

int parse_port(std::string_view text) {
    int port = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || port < 1 ||
        port > 65535) {
        throw UsageError("invalid URL: bad port '" + std::string(text) + "'");
    }
    return port;
}

// Splits "host[:port]" or "[v6]:port" into url.host and url.port.
void parse_host_port(std::string_view host_port, BrokerUrl& url) {
    std::string_view port_text;
    if (!host_port.empty() && host_port.front() == '[') {
        size_t close = host_port.find(']');
        if (close == std::string_view::npos) {
            throw UsageError("invalid URL: unterminated IPv6 address");
        }
        url.host = std::string(host_port.substr(1, close - 1));
        std::string_view rest = host_port.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                throw UsageError("invalid URL: unexpected text after the IPv6 address");
            }
            port_text = rest.substr(1);
            url.port = parse_port(port_text);
        }
    } else {
        size_t colon = host_port.rfind(':');
        url.host = std::string(host_port.substr(0, colon));
        if (colon != std::string_view::npos) {
            url.port = parse_port(host_port.substr(colon + 1));
        }
    }
    if (url.host.empty()) {
        throw UsageError("invalid URL: missing host");
    }
}

}  // namespace

BrokerUrl parse_broker_url(std::string_view text) {
    size_t scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) {
        throw UsageError("invalid URL '" + std::string(text) +
                         "': expected scheme://[user[:password]@]host[:port][/topic]");
    }
    BrokerUrl url;
    url.transport = parse_scheme(text.substr(0, scheme_end));
    std::string_view rest = text.substr(scheme_end + 3);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos && slash + 1 < rest.size()) {
        url.topic = percent_decode(rest.substr(slash + 1), "topic");
    }
    // The last '@' ends the user information, so an unencoded '@' in a password still works.
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
        std::string_view user_info = authority.substr(0, at);
        size_t colon = user_info.find(':');
        url.user = percent_decode(user_info.substr(0, colon), "user name");
        if (colon != std::string_view::npos) {
            url.password = percent_decode(user_info.substr(colon + 1), "password");
        }
        authority = authority.substr(at + 1);
    }
    parse_host_port(authority, url);
    return url;
}

int default_port(Transport transport) {
    switch (transport) {
        case Transport::kTcp:
            return 1883;
        case Transport::kTls:
            return 8883;
        case Transport::kWebSocket:
            return 80;
        case Transport::kSecureWebSocket:
            return 443;
    }
    return 1883;
}

bool is_tls(Transport transport) {
    return transport == Transport::kTls || transport == Transport::kSecureWebSocket;
}

std::string endpoint_label(const Endpoint& endpoint) {
    bool v6 = endpoint.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + endpoint.host + "]" : endpoint.host;
    return host + ":" + std::to_string(endpoint.port);
}

std::string paho_server_uri(const Endpoint& endpoint) {
    std::string label = endpoint_label(endpoint);
    switch (endpoint.transport) {
        case Transport::kTcp:
            return "tcp://" + label;
        case Transport::kTls:
            return "ssl://" + label;
        case Transport::kWebSocket:
            return "ws://" + label + endpoint.ws_path;
        case Transport::kSecureWebSocket:
            return "wss://" + label + endpoint.ws_path;
    }
    return "tcp://" + label;
}

}  // namespace tern::tools
