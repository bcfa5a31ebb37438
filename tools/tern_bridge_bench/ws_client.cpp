// WsClient: RFC 6455 client side. Frames it sends are masked (§5.3, tern_websocket's
// append_masked_frame); frames it receives must not be (§5.1) and are parsed here.
#include "ws_client.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

#include "client_loop.hpp"
#include "websocket/frame_encoder.hpp"
#include "websocket/handshake.hpp"

namespace tern::bridge_bench {

namespace {

constexpr uint64_t kMaxMessage = 16 * 1024 * 1024;

// The value of header `name` (lower case) in `head`, or empty.
std::string_view header_value(std::string_view head, std::string_view name) {
    std::size_t line = head.find("\r\n");
    while (line != std::string_view::npos) {
        const std::size_t start = line + 2;
        const std::size_t end = head.find("\r\n", start);
        const std::string_view text = head.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        const std::size_t colon = text.find(':');
        if (colon == name.size()) {
            bool same = true;
            for (std::size_t i = 0; i < colon && same; ++i) {
                same =
                    static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))) == name[i];
            }
            if (same) {
                std::string_view value = text.substr(colon + 1);
                while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
                    value.remove_prefix(1);
                }
                while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
                    value.remove_suffix(1);
                }
                return value;
            }
        }
        line = end;
    }
    return {};
}

}  // namespace

WsClient::WsClient(ClientLoop& loop, uint32_t group, std::string filter, std::string host_header,
                   std::string authorization, uint32_t seed)
    : WebClient(loop, ClientKind::Ws, group, std::move(filter)),
      _host_header(std::move(host_header)),
      _authorization(std::move(authorization)),
      _random(seed) {
    // §4.1: a nonce of 16 random bytes, base64-encoded (24 characters).
    std::array<unsigned char, 16> nonce{};
    for (auto& byte : nonce) {
        byte = static_cast<unsigned char>(_random());
    }
    std::array<unsigned char, 25> encoded{};
    EVP_EncodeBlock(encoded.data(), nonce.data(), static_cast<int>(nonce.size()));
    _key.assign(reinterpret_cast<const char*>(encoded.data()), 24);
}

std::string WsClient::request() const {
    std::string out =
        "GET /ws HTTP/1.1\r\nHost: " + _host_header +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + _key +
        "\r\nSec-WebSocket-Version: 13\r\n";
    out += _authorization;
    out += "\r\n";
    return out;
}

bool WsClient::on_head(int status, std::string_view head) {
    _status = status;
    if (status != 101) {
        _error_body = true;
        end_reason = "HTTP " + std::to_string(status);
        return true;
    }
    // §4.1: the client fails the connection unless the accept value matches its key.
    if (header_value(head, "sec-websocket-accept") != websocket::compute_accept_key(_key)) {
        fail("wrong Sec-WebSocket-Accept");
        return false;
    }
    std::string command = R"({"id":1,"op":"subscribe","filter":)";
    command += '"';
    for (const char c : filter()) {
        if (c == '"' || c == '\\') {
            command += '\\';
        }
        command += c;
    }
    command += "\"}";
    send_frame(0x1, command);
    return true;
}

void WsClient::send_frame(uint8_t opcode, std::string_view payload) {
    websocket::MaskKey key{};
    const uint32_t bits = _random();
    std::memcpy(key.data(), &bits, key.size());
    std::string frame;
    websocket::append_masked_frame(
        frame, static_cast<websocket::Opcode>(opcode),
        {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()}, key);
    send(std::move(frame));
}

void WsClient::on_body(char* data, std::size_t size) {
    if (_error_body) {
        if (_partial.size() < 200) {
            _partial.append(data, std::min<std::size_t>(size, 200 - _partial.size()));
        }
        fail("HTTP " + std::to_string(_status) + ": " + _partial);
        return;
    }
    if (_partial.empty()) {
        const std::size_t used = scan(data, size);
        if (used < size && !finished()) {
            _partial.assign(data + used, size - used);
        }
        return;
    }
    _partial.append(data, size);
    const std::size_t used = scan(_partial.data(), _partial.size());
    if (!finished()) {
        _partial.erase(0, used);
    }
}

std::size_t WsClient::scan(char* data, std::size_t size) {
    std::size_t at = 0;
    while (!finished() && size - at >= 2) {
        const auto* p = reinterpret_cast<const uint8_t*>(data + at);
        const bool fin = (p[0] & 0x80) != 0;
        const uint8_t opcode = p[0] & 0x0F;
        if ((p[1] & 0x80) != 0) {
            cut("masked frame from the server (RFC 6455 §5.1)");
            break;
        }
        uint64_t length = p[1] & 0x7F;
        std::size_t header = 2;
        if (length >= 126) {
            header = length == 126 ? 4 : 10;
            if (size - at < header) {
                break;
            }
            length = 0;
            for (std::size_t i = 2; i < header; ++i) {
                length = (length << 8) | p[i];
            }
        }
        if (length > kMaxMessage) {
            cut("frame over 16 MiB");
            break;
        }
        if (size - at - header < length) {
            break;
        }
        on_frame(opcode, fin, data + at + header, static_cast<std::size_t>(length));
        at += header + static_cast<std::size_t>(length);
    }
    return at;
}

void WsClient::on_frame(uint8_t opcode, bool fin, char* payload, std::size_t size) {
    switch (opcode) {
        case 0x0:  // continuation (§5.4)
        case 0x1:
        case 0x2:
            if (opcode != 0x0 && fin && !_in_fragments) {
                on_text({payload, size});
                return;
            }
            _fragments.append(payload, size);
            _in_fragments = !fin;
            if (fin) {
                on_text(_fragments);
                _fragments.clear();
            }
            return;
        case 0x8: {  // close (§5.5.1): a status code and a reason, or nothing
            uint16_t code = 1005;
            std::string reason;
            if (size >= 2) {
                code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                             static_cast<uint8_t>(payload[1]));
                reason.assign(payload + 2, size - 2);
            }
            // Echo the close (§5.5.1), then end: the server closes the TCP connection.
            send_frame(0x8, std::string_view(payload, std::min<std::size_t>(size, 2)));
            end_reason = "close " + std::to_string(code) + (reason.empty() ? "" : ": " + reason);
            cut(end_reason);
            return;
        }
        case 0x9:  // ping: answer with the same payload (§5.5.2)
            ++stats().other;
            send_frame(0xA, {payload, size});
            return;
        default:  // pong
            ++stats().other;
            return;
    }
}

void WsClient::on_text(std::string_view text) {
    if (text.starts_with(R"({"type":"message")")) {
        record_message(text);
        return;
    }
    if (!ready() && text.starts_with(R"({"type":"ok","id":1)")) {
        mark_ready();
        return;
    }
    if (!ready() && text.starts_with(R"({"type":"error")")) {
        fail("subscribe refused: " + std::string(text.substr(0, 200)));
        return;
    }
    ++stats().other;
}

}  // namespace tern::bridge_bench
