// The server side of the WebSocket opening handshake (RFC 6455 §4.2): checks an upgrade request
// the HTTP layer has parsed and builds the 101 response or says which error to answer.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tern::websocket {

// One request header line as the HTTP layer parsed it. Names compare case-insensitively; a name
// may appear several times (list headers are then read as one comma-separated list).
struct HttpHeader {
    std::string_view name;
    std::string_view value;
};

// What the handshake needs from the request. The views must stay valid during accept_handshake.
struct HandshakeRequest {
    std::string_view method;  // case-sensitive: "GET"
    int version_major = 1;    // HTTP/1.1 → 1, 1
    int version_minor = 1;
    std::span<const HttpHeader> headers;
};

enum class SubprotocolPolicy : uint8_t {
    Optional,  // no common subprotocol: accept without Sec-WebSocket-Protocol (§4.2.2)
    Required,  // no common subprotocol: refuse with 400 (e.g. /mqtt, [MQTT-6.0.0-3])
};

// The endpoint's rules, set by the caller from its configuration.
struct HandshakePolicy {
    // Subprotocols the endpoint speaks (exact, case-sensitive names). The server picks the
    // first one in the client's Sec-WebSocket-Protocol list that is also here. /mqtt: "mqtt"
    // [MQTT-6.0.0-4] and "mqttv3.1" (what MQTT 3.1 clients offer).
    std::vector<std::string> subprotocols;
    SubprotocolPolicy subprotocol_policy = SubprotocolPolicy::Optional;
    // Origins a browser may connect from: exact serialized origins ("https://example.com",
    // compared ASCII case-insensitively) or "*" for any. A request without Origin (a non-browser
    // client) is always allowed; with an empty list only such clients get in.
    std::vector<std::string> allowed_origins;
};

// The outcome: status 101 with the response to write, or an HTTP error to answer with.
struct HandshakeResult {
    int status = 0;
    // 101: the complete response (status line, headers, blank line), ready to write.
    std::string response;
    // 101: the selected subprotocol, empty when none was selected.
    std::string subprotocol;
    // Error: a short explanation citing the rule, for the response body and the log.
    std::string reason;
    // Error: header lines, each ending in CRLF, that the error response must carry
    // (405: "Allow: GET"; 426: "Sec-WebSocket-Version: 13", §4.2.2).
    std::string error_headers;

    bool accepted() const noexcept { return status == 101; }
};

// Checks `request` against RFC 6455 §4.2.1 and `policy`, in this order:
// 405 method is not GET (+ Allow: GET); 400 HTTP version below 1.1; 400 no Host; 400 Upgrade
// lacks the token "websocket"; 400 Connection lacks the token "Upgrade"; 426 Sec-WebSocket-Version
// missing or not 13 (+ Sec-WebSocket-Version: 13); 400 Sec-WebSocket-Key missing, repeated or not
// the base64 form of 16 bytes; 403 Origin not allowed (or repeated); 400 no common subprotocol
// under SubprotocolPolicy::Required. Extensions are never negotiated: Sec-WebSocket-Extensions
// is ignored, so the client may not use any (§9.1). After writing the 101 response, hand any bytes
// the HTTP parser read past the request head to the FrameDecoder first: a client may send its
// first frames right behind the handshake.
HandshakeResult accept_handshake(const HandshakeRequest& request, const HandshakePolicy& policy);

// Sec-WebSocket-Accept for `key` (§4.2.2): base64(SHA-1(key + kAcceptGuid)). Throws
// std::runtime_error only when OpenSSL cannot compute SHA-1.
std::string compute_accept_key(std::string_view key);

// True when `key` is 24 base64 characters ending in "==", i.e. encodes 16 bytes (§4.1).
bool is_valid_client_key(std::string_view key) noexcept;

// The reason phrase for the statuses accept_handshake returns ("Bad Request", ...).
std::string_view status_text(int status) noexcept;

// A complete minimal error response for a refused handshake: status line, Content-Type,
// Content-Length, Connection: close, the result's error_headers and the reason as the body.
std::string format_error_response(const HandshakeResult& result);

}  // namespace tern::websocket
