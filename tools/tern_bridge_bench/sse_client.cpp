// SseClient: request line with the filter, then "\n\n"-separated events (WHATWG HTML §9.2).
#include "sse_client.hpp"

#include "client_loop.hpp"

namespace tern::bridge_bench {

namespace {

constexpr std::size_t kMaxEvent = 4 * 1024 * 1024;

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string url_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        if (is_unreserved(c) || c == '/') {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 15];
        }
    }
    return out;
}

SseClient::SseClient(ClientLoop& loop, uint32_t group, std::string filter, std::string host_header,
                     std::string authorization, uint32_t conflate_ms)
    : WebClient(loop, ClientKind::Sse, group, std::move(filter)),
      _host_header(std::move(host_header)),
      _authorization(std::move(authorization)),
      _conflate_ms(conflate_ms) {}

std::string SseClient::request() const {
    std::string out = "GET /events?topic=" + url_encode(filter());
    if (_conflate_ms != 0) {
        out += "&conflate=" + std::to_string(_conflate_ms);
    }
    out += " HTTP/1.1\r\nHost: " + _host_header + "\r\nAccept: text/event-stream\r\n";
    out += _authorization;
    out += "\r\n";
    return out;
}

bool SseClient::on_head(int status, std::string_view) {
    _status = status;
    if (status != 200) {
        // Keep the JSON error body (it names the reason) and fail once the server closes.
        _error_body = true;
        end_reason = "HTTP " + std::to_string(status);
        return true;
    }
    mark_ready();
    return true;
}

void SseClient::on_body(char* data, std::size_t size) {
    if (_error_body) {
        if (_partial.size() < 200) {
            _partial.append(data, std::min<std::size_t>(size, 200 - _partial.size()));
        }
        fail("HTTP " + std::to_string(_status) + ": " + _partial);
        return;
    }
    if (_partial.empty()) {
        const std::size_t used = scan({data, size});
        if (used < size && !finished()) {
            _partial.assign(data + used, size - used);
        }
        return;
    }
    _partial.append(data, size);
    const std::size_t used = scan(_partial);
    if (!finished()) {
        _partial.erase(0, used);
        if (_partial.size() > kMaxEvent) {
            cut("an event over 4 MiB");
        }
    }
}

std::size_t SseClient::scan(std::string_view data) {
    std::size_t start = 0;
    while (!finished()) {
        const std::size_t end = data.find("\n\n", start);
        if (end == std::string_view::npos) {
            break;
        }
        on_event(data.substr(start, end - start));
        start = end + 2;
    }
    return start;
}

void SseClient::on_event(std::string_view block) {
    // A message event is "data: ..." or "id: ...\ndata: ..." (the bridge writes no "event:"
    // line for it); every other block is an event with a name, an id alone or a comment.
    if (block.starts_with("data: ")) {
        record_message(block);
        return;
    }
    if (block.starts_with("id: ")) {
        const std::size_t data = block.find("\ndata: ");
        if (data != std::string_view::npos) {
            record_message(block.substr(data));
            return;
        }
    }
    if (block.starts_with("event: error")) {
        // The bridge's slow-consumer cut-off: {"error": CODE, "message": TEXT}, then it closes.
        const std::size_t code = block.find("\"error\":\"");
        if (code != std::string_view::npos) {
            const std::size_t from = code + 9;
            const std::size_t to = block.find('"', from);
            end_reason = "error event: " + std::string(block.substr(from, to - from));
        } else {
            end_reason = "error event";
        }
    }
    ++stats().other;
}

}  // namespace tern::bridge_bench
