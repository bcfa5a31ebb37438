// Validation of the client's opening handshake and construction of the server's answer.
#include "websocket/handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>

#include "websocket/protocol.hpp"

namespace tern::websocket {

namespace {

char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

// Strips optional whitespace (RFC 7230 §3.2.3: spaces and tabs) from both ends.
std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// Calls `visit(token)` for every non-empty element of the comma-separated lists in all `name`
// headers, in order (RFC 7230 §3.2.2: repeated list headers join into one list). Stops when
// `visit` returns true and returns true then.
template <typename Visit>
bool find_token(std::span<const HttpHeader> headers, std::string_view name, Visit visit) {
    for (const HttpHeader& header : headers) {
        if (!equals_ignore_case(header.name, name)) {
            continue;
        }
        std::string_view rest = header.value;
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            const std::string_view token = trim(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            if (!token.empty() && visit(token)) {
                return true;
            }
        }
    }
    return false;
}

bool has_token(std::span<const HttpHeader> headers, std::string_view name, std::string_view want) {
    return find_token(headers, name,
                      [want](std::string_view token) { return equals_ignore_case(token, want); });
}

// The value of a header that may appear at most once: nullopt when absent; `repeated` is set
// when it appears more than once.
std::optional<std::string_view> single_header(std::span<const HttpHeader> headers,
                                              std::string_view name, bool& repeated) {
    std::optional<std::string_view> found;
    repeated = false;
    for (const HttpHeader& header : headers) {
        if (equals_ignore_case(header.name, name)) {
            repeated = found.has_value();
            if (repeated) {
                break;
            }
            found = trim(header.value);
        }
    }
    return found;
}

HandshakeResult refuse(int status, std::string reason, std::string error_headers = {}) {
    HandshakeResult result;
    result.status = status;
    result.reason = std::move(reason);
    result.error_headers = std::move(error_headers);
    return result;
}

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
    return std::any_of(allowed.begin(), allowed.end(), [origin](const std::string& entry) {
        return entry == "*" || equals_ignore_case(entry, origin);
    });
}

// The first subprotocol the client offers that the server speaks; empty when none (§4.2.2).
std::string select_subprotocol(std::span<const HttpHeader> headers,
                               const std::vector<std::string>& supported) {
    std::string selected;
    find_token(headers, "Sec-WebSocket-Protocol", [&](std::string_view token) {
        if (std::find(supported.begin(), supported.end(), token) == supported.end()) {
            return false;
        }
        selected = token;
        return true;
    });
    return selected;
}

std::string list_of(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) {
        out += out.empty() ? "" : ", ";
        out += name;
    }
    return out;
}

// The checks of the request itself (§4.2.1 items 1-4 and 6), before key, origin and protocol.
std::optional<HandshakeResult> check_request_line_and_upgrade(const HandshakeRequest& request) {
    if (request.method != "GET") {
        return refuse(405, "a WebSocket handshake is a GET request (RFC 6455 §4.2.1)",
                      "Allow: GET\r\n");
    }
    if (request.version_major < 1 || (request.version_major == 1 && request.version_minor < 1)) {
        return refuse(400, "a WebSocket handshake needs HTTP/1.1 or later (RFC 6455 §4.2.1)");
    }
    bool repeated = false;
    if (!single_header(request.headers, "Host", repeated) || repeated) {
        return refuse(400, "the request needs exactly one Host header (RFC 6455 §4.2.1)");
    }
    if (!has_token(request.headers, "Upgrade", "websocket")) {
        return refuse(400, "Upgrade header does not name websocket (RFC 6455 §4.2.1)");
    }
    if (!has_token(request.headers, "Connection", "Upgrade")) {
        return refuse(400, "Connection header does not contain Upgrade (RFC 6455 §4.2.1)");
    }
    const auto version = single_header(request.headers, "Sec-WebSocket-Version", repeated);
    if (!version || repeated || *version != "13") {
        return refuse(426, "only WebSocket version 13 is supported (RFC 6455 §4.2.2)",
                      "Sec-WebSocket-Version: 13\r\n");
    }
    return std::nullopt;
}

}  // namespace

HandshakeResult accept_handshake(const HandshakeRequest& request, const HandshakePolicy& policy) {
    if (auto refused = check_request_line_and_upgrade(request)) {
        return std::move(*refused);
    }
    bool repeated = false;
    const auto key = single_header(request.headers, "Sec-WebSocket-Key", repeated);
    if (!key || repeated || !is_valid_client_key(*key)) {
        return refuse(400,
                      "Sec-WebSocket-Key must appear once and be 16 bytes in base64 "
                      "(RFC 6455 §4.2.1)");
    }
    // Browsers always send Origin; other clients need not, and are let in (§10.2).
    const auto origin = single_header(request.headers, "Origin", repeated);
    if (repeated || (origin && !origin_allowed(*origin, policy.allowed_origins))) {
        return refuse(403, "Origin not allowed (RFC 6455 §4.2.2, §10.2)");
    }
    std::string subprotocol = select_subprotocol(request.headers, policy.subprotocols);
    if (subprotocol.empty() && policy.subprotocol_policy == SubprotocolPolicy::Required) {
        return refuse(400, "no supported WebSocket subprotocol offered; this endpoint speaks: " +
                               list_of(policy.subprotocols));
    }

    HandshakeResult result;
    result.status = 101;
    result.response =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ";
    result.response += compute_accept_key(*key);
    result.response += "\r\n";
    if (!subprotocol.empty()) {
        result.response += "Sec-WebSocket-Protocol: ";
        result.response += subprotocol;
        result.response += "\r\n";
    }
    result.response += "\r\n";
    result.subprotocol = std::move(subprotocol);
    return result;
}

std::string compute_accept_key(std::string_view key) {
    std::string input(key);
    input += kAcceptGuid;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
        1) {
        throw std::runtime_error("websocket: SHA-1 is not available");
    }
    // Base64 of n bytes takes 4 * ceil(n / 3) characters plus the terminating NUL.
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
    const int size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
    return std::string(reinterpret_cast<const char*>(encoded.data()),
                       static_cast<std::size_t>(size));
}

bool is_valid_client_key(std::string_view key) noexcept {
    // 16 bytes are 5 groups of 3 plus one byte: 22 characters and "==" (RFC 4648 §4).
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    return std::all_of(key.begin(), key.begin() + 22, is_base64_char);
}

std::string_view status_text(int status) noexcept {
    switch (status) {
        case 101:
            return "Switching Protocols";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 405:
            return "Method Not Allowed";
        case 426:
            return "Upgrade Required";
        default:
            return "Error";
    }
}

std::string format_error_response(const HandshakeResult& result) {
    const std::string body = result.reason + "\n";
    std::string out = "HTTP/1.1 " + std::to_string(result.status) + " ";
    out += status_text(result.status);
    out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\nConnection: close\r\n";
    out += result.error_headers;
    out += "\r\n";
    out += body;
    return out;
}

}  // namespace tern::websocket
