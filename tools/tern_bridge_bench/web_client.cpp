// WebClient: connect, request, response head, then the body to the kind; outcome accounting.
#include "web_client.hpp"

#include <cstring>

#include "client_loop.hpp"

namespace tern::bridge_bench {

namespace {

constexpr std::size_t kMaxHead = 16 * 1024;

struct WriteRequest {
    uv_write_t request{};
    std::string bytes;
};

// The first line of the head: "HTTP/1.1 200 OK" -> 200, or 0.
int parse_status(std::string_view head) {
    const std::size_t space = head.find(' ');
    uint64_t status = 0;
    if (!head.starts_with("HTTP/1.") || space == std::string_view::npos ||
        !parse_decimal(head.substr(space + 1, 3), status)) {
        return 0;
    }
    return static_cast<int>(status);
}

}  // namespace

bool parse_decimal(std::string_view text, uint64_t& value) noexcept {
    std::size_t i = 0;
    value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value = value * 10 + static_cast<uint64_t>(text[i] - '0');
        ++i;
    }
    return i > 0;
}

WebClient::WebClient(ClientLoop& loop, ClientKind kind, uint32_t group, std::string filter)
    : _loop(loop), _kind(kind), _group(group), _filter(std::move(filter)) {}

KindStats& WebClient::stats() noexcept {
    return _loop.stats(_kind);
}

uint64_t WebClient::read_ns() const noexcept {
    return _loop.read_ns();
}

void WebClient::start(const sockaddr_in& target, const sockaddr_in* source) {
    uv_tcp_init(_loop.uv(), &_tcp);
    _tcp.data = this;
    _connect.data = this;
    _state = State::Connecting;
    ++stats().started;
    int rc = 0;
    if (source != nullptr) {
        rc = uv_tcp_bind(&_tcp, reinterpret_cast<const sockaddr*>(source), 0);
    }
    if (rc == 0) {
        rc = uv_tcp_connect(&_connect, &_tcp, reinterpret_cast<const sockaddr*>(&target),
                            &WebClient::on_connect);
    }
    if (rc != 0) {
        fail(std::string("connect: ") + uv_err_name(rc));
    }
}

void WebClient::on_connect(uv_connect_t* request, int status) noexcept {
    auto* self = static_cast<WebClient*>(request->data);
    if (self->_state != State::Connecting) {
        return;
    }
    if (status != 0) {
        self->fail(std::string("connect: ") + uv_err_name(status));
        return;
    }
    uv_tcp_nodelay(&self->_tcp, 1);
    self->_state = State::Head;
    const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&self->_tcp), &WebClient::on_alloc,
                                 &WebClient::on_read);
    if (rc != 0) {
        self->fail(std::string("read: ") + uv_err_name(rc));
        return;
    }
    self->send(self->request());
}

void WebClient::send(std::string bytes) {
    if (_state == State::Closed || _state == State::Idle) {
        return;
    }
    auto* write = new WriteRequest;
    write->bytes = std::move(bytes);
    write->request.data = this;
    uv_buf_t buffer = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    const int rc =
        uv_write(&write->request, reinterpret_cast<uv_stream_t*>(&_tcp), &buffer, 1,
                 [](uv_write_t* request, int) { delete reinterpret_cast<WriteRequest*>(request); });
    if (rc != 0) {
        delete write;
        on_end(std::string("write: ") + uv_err_name(rc));
    }
}

void WebClient::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
    auto* self = static_cast<WebClient*>(handle->data);
    std::vector<char>& buffer = self->_loop.read_buffer();
    *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void WebClient::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = static_cast<WebClient*>(stream->data);
    if (self->_state == State::Closed) {
        return;
    }
    if (nread < 0) {
        self->on_end(nread == UV_EOF
                         ? std::string("closed by the server")
                         : std::string("read: ") + uv_err_name(static_cast<int>(nread)));
        return;
    }
    if (nread == 0) {
        return;
    }
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    self->_loop.set_read_ns(static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u +
                            static_cast<uint64_t>(now.tv_nsec));
    self->on_bytes(buf->base, static_cast<std::size_t>(nread));
}

void WebClient::on_bytes(char* data, std::size_t size) {
    if (_state == State::Streaming) {
        stats().bytes += size;
        on_body(data, size);
        return;
    }
    // The head may arrive in pieces; the body's first bytes may share its read.
    const std::size_t before = _head.size();
    _head.append(data, size);
    const std::size_t end = _head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
    if (end == std::string::npos) {
        if (_head.size() > kMaxHead) {
            fail("response head over 16 KiB");
        }
        return;
    }
    const int status = parse_status(_head);
    if (status == 0) {
        fail("not an HTTP/1.x response");
        return;
    }
    std::string head = _head.substr(0, end);
    const std::size_t body_start = end + 4 - before;
    _head.clear();
    _head.shrink_to_fit();
    _state = State::Streaming;
    if (!on_head(status, head)) {
        return;
    }
    if (body_start < size && _state == State::Streaming) {
        stats().bytes += size - body_start;
        on_body(data + body_start, size - body_start);
    }
}

void WebClient::mark_ready() {
    if (_ready || _state == State::Closed) {
        return;
    }
    _ready = true;
    ++stats().ready;
    _loop.on_ready(_kind, _group);
}

void WebClient::fail(const std::string& reason) {
    if (_state == State::Closed) {
        return;
    }
    if (_ready) {
        cut(reason);
        return;
    }
    ++stats().failed;
    ++stats().failures[reason];
    _loop.on_failed(_kind);
    close_handle();
}

void WebClient::cut(const std::string& reason) {
    if (_state == State::Closed) {
        return;
    }
    if (!_ready) {
        fail(reason);
        return;
    }
    ++stats().cut;
    ++stats().cuts[reason];
    _loop.on_cut(_kind, _group);
    close_handle();
}

void WebClient::on_end(const std::string& reason) {
    // The server's own explanation (SSE error event, close frame) wins over "EOF".
    const std::string why = end_reason.empty() ? reason : end_reason;
    if (_ready) {
        cut(why);
    } else {
        fail(why);
    }
}

void WebClient::stop() {
    if (_state == State::Idle) {
        _state = State::Closed;
        _handle_closed = true;
        return;
    }
    if (_state == State::Closed) {
        return;
    }
    if (!_ready) {
        ++stats().failed;
        ++stats().failures["not ready when the run ended"];
        _loop.on_failed(_kind);
    }
    close_handle();
}

void WebClient::close_handle() {
    const State previous = _state;
    _state = State::Closed;
    if (previous == State::Idle) {
        _handle_closed = true;
        return;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&_tcp), &WebClient::on_close);
}

void WebClient::on_close(uv_handle_t* handle) noexcept {
    static_cast<WebClient*>(handle->data)->_handle_closed = true;
}

void WebClient::record_message(std::string_view text) {
    KindStats& kind_stats = stats();
    if (text.find("\"retain\":true") != std::string_view::npos) {
        ++kind_stats.other;  // a retained value of the snapshot, not a live message
        return;
    }
    ++kind_stats.delivered;
    kind_stats.last_receive_ns = read_ns();
    // The envelope's "json" member holds the parsed payload; inside the "payload" string the
    // quotes are escaped (\"t\":), so the first "t": is the stamp.
    const std::size_t at = text.find("\"t\":");
    uint64_t sent = 0;
    if (at == std::string_view::npos || !parse_decimal(text.substr(at + 4), sent)) {
        ++kind_stats.no_stamp;
        return;
    }
    const uint64_t now = read_ns();
    kind_stats.latency.record(now > sent ? now - sent : 0);
}

}  // namespace tern::bridge_bench
