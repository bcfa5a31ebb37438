// HTTP connection I/O: reads parsed one request at a time, coalesced writes, timeouts, closing;
// with TLS the same path goes through a net::TlsTransport (as broker/net/connection_transport.cpp).
#include "http_connection.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "bridge.hpp"
#include "loop_context.hpp"
#include "net/socket_writer.hpp"
#include "net/tls_context.hpp"
#include "net/tls_transport.hpp"
#include "net/worker_loop.hpp"

namespace tern::bridge {

namespace {

constexpr core::MonoMillis kCloseFlushTimeoutMs = 5000;
constexpr std::size_t kShrinkAbove = 64 * 1024;

RequestParser::Limits limits_of(const core::BridgeSettings& settings) {
    return {settings.max_header_bytes, settings.max_body_bytes};
}

}  // namespace

HttpConnection::HttpConnection(LoopContext& context, std::string peer)
    : _context(context),
      _id(context.next_connection_id()),
      _peer(std::move(peer)),
      _parser(limits_of(context.bridge().settings())) {
    uv_tcp_init(context.loop().uv(), &_handle);
    _handle.data = this;
    _idle_since = context.loop().now();
    context.add(this);
    context.bridge().stats().client_opened(ClientKind::Http);
}

HttpConnection::~HttpConnection() {
    _context.bridge().stats().client_closed(_kind);
    _context.bridge().connection_closed();
}

net::WorkerLoop& HttpConnection::loop() noexcept {
    return _context.loop();
}

Bridge& HttpConnection::bridge() noexcept {
    return _context.bridge();
}

HttpConnection* HttpConnection::adopt(LoopContext& context, int fd, std::string peer) {
    auto* connection = new HttpConnection(context, std::move(peer));
    bool ok = uv_tcp_open(&connection->_handle, fd) == 0;
    if (!ok) {
        ::close(fd);
    } else if (const auto tls = context.bridge().tls_context()) {
        try {
            // The context current now: a SIGHUP reload applies to connections accepted later.
            connection->_transport = std::make_unique<net::TlsTransport>(*tls);
        } catch (const std::exception& error) {
            spdlog::error("bridge: client {}: {}", connection->_peer, error.what());
            ok = false;
        }
    }
    if (!ok) {
        connection->_closing = true;
        connection->finish_close();
        return nullptr;
    }
    return connection;
}

void HttpConnection::start(bool over_limit) {
    uv_tcp_nodelay(&_handle, 1);
    if (over_limit) {
        if (_transport) {
            abort("too many connections");  // a 503 would need a handshake first
            return;
        }
        _keep_alive = false;
        write(serialize_response(
            json_error(503, "unavailable", "too many HTTP connections, try again later"), false));
        close("too many connections");
        return;
    }
    set_reading(true);
}

void HttpConnection::set_reading(bool on) {
    if (on == _reading || _handle_closed) {
        return;
    }
    auto* stream = reinterpret_cast<uv_stream_t*>(&_handle);
    if (on) {
        const int rc = uv_read_start(stream, &HttpConnection::on_alloc, &HttpConnection::on_read);
        if (rc != 0) {
            abort(uv_strerror(rc));
            return;
        }
    } else {
        uv_read_stop(stream);
    }
    _reading = on;
}

void HttpConnection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    // The loop's shared read buffer: idle connections hold no read memory.
    *buf = static_cast<HttpConnection*>(handle->data)->loop().read_buffer();
}

void HttpConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = static_cast<HttpConnection*>(stream->data);
    if (nread < 0) {
        self->abort(nread == UV_EOF ? "closed by client" : uv_strerror(static_cast<int>(nread)));
        return;
    }
    if (nread == 0 || self->_closing) {
        return;
    }
    try {
        const std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
        if (self->_transport) {
            self->receive_wire(bytes);
            return;
        }
        self->deliver(bytes);
    } catch (const std::exception& error) {
        spdlog::error("bridge: client {}: {}", self->_peer, error.what());
        self->abort("internal error");
    }
}

void HttpConnection::deliver(std::string_view bytes) {
    if (_stream) {
        _stream->on_data(bytes);
        return;
    }
    _in.append(bytes);
    process_input();
}

void HttpConnection::receive_wire(std::string_view bytes) {
    const bool was_ready = _transport->ready();
    const auto status = _transport->receive({bytes.data(), bytes.size()}, _wire);
    if (!_wire.empty()) {
        _context.mark_dirty(this);  // handshake records, or the alert explaining a failure
    }
    if (status != net::Transport::Status::Ok) {
        transport_ended(static_cast<int>(status));
        return;
    }
    if (!was_ready && _transport->ready() && spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("bridge: client {}: {} handshake done: {}", _peer, _transport->name(),
                      _transport->describe());
    }
    // `bytes` was copied by receive(): the loop's read buffer is free for the plaintext.
    pull_transport();
}

void HttpConnection::pull_transport() {
    const uv_buf_t buffer = loop().read_buffer();
    // A paused connection (output full) leaves the rest in the transport, as unread bytes stay
    // in the socket on plain HTTP; resume_reading() comes back for them.
    while (!_closing && _transport && (_reading || _stream)) {
        std::size_t got = 0;
        const auto status = _transport->read({buffer.base, buffer.len}, got, _wire);
        if (!_wire.empty()) {
            _context.mark_dirty(this);
        }
        if (got > 0) {
            deliver(std::string_view(buffer.base, got));
            continue;
        }
        if (status != net::Transport::Status::Ok) {
            transport_ended(static_cast<int>(status));
        }
        return;
    }
}

void HttpConnection::transport_ended(int status) {
    if (status == static_cast<int>(net::Transport::Status::Closed)) {
        close("closed by client (TLS close_notify)");
        return;
    }
    // Before the handshake: scanners, plain HTTP on the https port, wrong client certificates.
    // _wire may hold the alert that says why: close() sends it.
    const bool handshake = !_transport->ready();
    spdlog::info("bridge: client {}: TLS {}: {}", _peer, handshake ? "handshake failed" : "error",
                 _transport->error());
    close(handshake ? "TLS handshake failed" : "TLS error");
}

bool HttpConnection::encrypt_output() {
    if (_out.empty()) {
        return true;
    }
    if (_closing) {
        _out.clear();  // close() encrypted what came before close_notify; nothing may follow
        return true;
    }
    if (!_transport->ready()) {
        return true;  // sent once the handshake completes
    }
    // One record batch per loop iteration: everything written since the last flush.
    const auto status = _transport->write(_out, _wire);
    _out.clear();
    if (_out.capacity() > kShrinkAbove) {
        _out.shrink_to_fit();
    }
    if (status != net::Transport::Status::Ok) {
        _wire.clear();
        abort(_transport->error());
        return false;
    }
    return true;
}

void HttpConnection::resume_reading() {
    set_reading(true);
    if (_transport) {
        pull_transport();
    }
    process_input();
}

HttpConnection::ReleasedSocket HttpConnection::release_socket() {
    ReleasedSocket released;
    uv_os_fd_t fd = -1;
    if (!_closing && _writing.empty() && pending_output() != 0) {
        // TLS 1.3 session tickets, sent when the client's Finished arrived (often together with
        // this request), still wait for the end-of-iteration flush: write them now.
        flush();
    }
    if (_closing || _handle_closed || pending_output() != 0 ||
        uv_fileno(reinterpret_cast<uv_handle_t*>(&_handle), &fd) != 0) {
        return released;
    }
    released.fd = ::dup(fd);
    if (released.fd < 0) {
        return released;
    }
    // Only dispatch() runs handlers, so _in_parsed is where the current request ended.
    released.early_bytes = _in.substr(std::min(_in_parsed, _in.size()));
    _in.clear();
    released.transport = std::move(_transport);
    _busy = false;
    _closing = true;
    _closing_since = loop().now();
    spdlog::debug("bridge: client {}: socket handed over", _peer);
    set_reading(false);
    finish_close();  // closes this descriptor; the dup() lives on
    return released;
}

void HttpConnection::process_input() {
    if (_processing) {
        return;  // respond() inside a handler: the loop below goes on
    }
    _processing = true;
    std::size_t position = 0;
    while (!_closing && !_busy && !_stream && position < _in.size()) {
        if (output_full()) {
            // Pipelined requests from a client that does not read its responses: stop reading
            // until the output drains (on_write).
            set_reading(false);
            break;
        }
        const bool was_started = _parser.started();
        std::size_t consumed = 0;
        const auto status = _parser.feed(std::string_view(_in).substr(position), consumed);
        position += consumed;
        const core::MonoMillis now = loop().now();
        if (!was_started && _parser.started()) {
            _request_started_at = now;
        }
        if (_headers_done_at == 0 && _parser.headers_complete()) {
            _headers_done_at = now;
        }
        if (_parser.take_continue()) {
            write("HTTP/1.1 100 Continue\r\n\r\n");
        }
        if (status == RequestParser::Status::NeedMore) {
            break;
        }
        if (status == RequestParser::Status::Error) {
            fail(_parser.error_status(), _parser.error_message());
            break;
        }
        _in_parsed = position;  // for release_socket(): what follows belongs to the new protocol
        dispatch();
    }
    _in.erase(0, position);
    if (_stream && !_in.empty() && !_closing) {
        // Bytes that came with the request that started the stream belong to it.
        std::string rest = std::move(_in);
        _in.clear();
        _stream->on_data(rest);
    }
    if (_in.capacity() > kShrinkAbove && _in.size() < kShrinkAbove) {
        _in.shrink_to_fit();
    }
    _processing = false;
}

void HttpConnection::dispatch() {
    HttpRequest request = std::move(_parser.request());
    _parser.reset();
    _busy = true;
    ++_requests;
    _request_started_at = 0;
    _headers_done_at = 0;
    _keep_alive = request.keep_alive;
    _http10_keep_alive = request.keep_alive && request.http_major == 1 && request.http_minor == 0;
    _head_request = request.method == "HEAD";
    _response_headers.clear();
    bridge().stats().requests.fetch_add(1, std::memory_order_relaxed);
    bridge().dispatch(*this, request);
}

void HttpConnection::fail(int status, std::string_view message) {
    // The request could not be read to its end: answer and close, since the rest of the input
    // cannot be framed.
    _keep_alive = false;
    write(serialize_response(json_error(status, error_code_for(status), message), false));
    close(message);
}

bool HttpConnection::output_full() const noexcept {
    return pending_output() > _context.bridge().settings().max_client_buffer;
}

void HttpConnection::respond(HttpResponse response) {
    if (!_busy || _closing) {
        return;
    }
    _busy = false;
    for (auto& header : _response_headers) {
        response.headers.push_back(std::move(header));
    }
    _response_headers.clear();
    // HEAD: the same head as GET, without the body (RFC 9110 §9.3.2).
    write(serialize_response(response, _keep_alive, _http10_keep_alive, _head_request));
    if (!_keep_alive) {
        close("request asked to close");
        return;
    }
    _idle_since = loop().now();
    process_input();
}

void HttpConnection::respond_and_close(HttpResponse response) {
    _keep_alive = false;
    respond(std::move(response));
}

void HttpConnection::respond_later(HttpResponse response, core::MonoMillis delay_ms) {
    _delayed = std::move(response);
    _delayed_at = loop().now() + std::max<core::MonoMillis>(delay_ms, 1);
}

void HttpConnection::start_stream(std::unique_ptr<StreamHandler> handler, std::string_view head) {
    std::string bytes(head);
    for (const auto& [name, value] : _response_headers) {
        // Insert the extra headers before the blank line that ends the head.
        bytes.insert(bytes.size() - 2, name + ": " + value + "\r\n");
    }
    _response_headers.clear();
    write(bytes);
    _busy = false;
    bridge().stats().client_changed(_kind, handler->kind());
    _kind = handler->kind();
    _stream = std::move(handler);
}

void HttpConnection::write(std::string_view bytes) {
    if (_handle_closed || (_closing && !_close_after_write && _out.empty() && _writing.empty())) {
        return;
    }
    _out.append(bytes);
    _context.mark_dirty(this);
}

void HttpConnection::flush() {
    if (_handle_closed || (_transport && !encrypt_output())) {
        return;
    }
    // With TLS the socket gets the records; _out then only collects plaintext between flushes.
    std::string& out = _transport ? _wire : _out;
    if (out.empty() || !_writing.empty()) {
        if (out.empty() && _writing.empty() && _close_after_write) {
            finish_close();  // TLS: what was written after close_notify was dropped
        }
        return;
    }
    const net::WriteOutcome outcome = net::write_or_queue(
        reinterpret_cast<uv_stream_t*>(&_handle), out, _writing, this, &HttpConnection::on_write);
    bridge().stats().bytes_sent.fetch_add(outcome.written, std::memory_order_relaxed);
    if (outcome.error != 0) {
        abort(uv_strerror(outcome.error));
        return;
    }
    if (outcome.queued) {
        return;
    }
    if (_close_after_write) {
        finish_close();
    } else if (!_reading && !_closing && !_stream) {
        resume_reading();
    }
}

void HttpConnection::on_write(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<HttpConnection*>(req->data);
    delete req;
    if (status == 0) {
        self->bridge().stats().bytes_sent.fetch_add(self->_writing.size(),
                                                    std::memory_order_relaxed);
    }
    net::written_out(self->_writing);
    if (status != 0) {
        if (status != UV_ECANCELED) {
            self->_out.clear();
            self->_wire.clear();
            self->abort(uv_strerror(status));
        }
        return;
    }
    if (!self->_out.empty() || !self->_wire.empty()) {
        self->flush();
    } else if (self->_close_after_write) {
        self->finish_close();
    } else if (!self->_reading && !self->_closing && !self->_stream) {
        self->resume_reading();
    }
}

void HttpConnection::end_stream() {
    if (_stream) {
        _stream->on_close();
    }
}

void HttpConnection::close(std::string_view why) {
    if (_closing) {
        return;
    }
    _closing = true;
    _closing_since = loop().now();
    spdlog::debug("bridge: client {}: closing: {}", _peer, why);
    end_stream();
    set_reading(false);
    if (_transport) {
        // The last response travels before close_notify (RFC 8446 §6.1).
        if (_transport->ready() && !_out.empty()) {
            _transport->write(_out, _wire);
        }
        _out.clear();
        _transport->shutdown(_wire);
    }
    if (!_out.empty() || !_wire.empty() || !_writing.empty()) {
        _close_after_write = true;
        _context.mark_dirty(this);
        return;
    }
    finish_close();
}

void HttpConnection::abort(std::string_view why) {
    if (!_closing) {
        _closing = true;
        _closing_since = loop().now();
        spdlog::debug("bridge: client {}: closing: {}", _peer, why);
        end_stream();
    }
    _out.clear();
    _wire.clear();
    finish_close();
}

void HttpConnection::finish_close() {
    if (_handle_closed) {
        return;
    }
    _handle_closed = true;
    _reading = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&_handle), &HttpConnection::on_close);
}

void HttpConnection::on_close(uv_handle_t* handle) noexcept {
    auto* self = static_cast<HttpConnection*>(handle->data);
    self->_context.remove(self);
    delete self;
}

void HttpConnection::check_timeouts(core::MonoMillis now) {
    if (_closing) {
        if (!_handle_closed && now - _closing_since > kCloseFlushTimeoutMs) {
            finish_close();
        }
        return;
    }
    if (_stream) {
        _stream->on_tick(now);
        return;
    }
    if (_delayed_at != 0) {
        if (now >= _delayed_at) {
            _delayed_at = 0;
            respond(std::move(_delayed));
        }
        return;
    }
    if (_busy) {
        return;  // a handler answers later (e.g. once a publish is durable)
    }
    const core::BridgeSettings& settings = bridge().settings();
    if (_headers_done_at != 0 && now - _headers_done_at > settings.header_timeout_ms) {
        bridge().stats().timeouts.fetch_add(1, std::memory_order_relaxed);
        fail(408, "request body not received in time");
    } else if (_request_started_at != 0 && _headers_done_at == 0 &&
               now - _request_started_at > settings.header_timeout_ms) {
        bridge().stats().timeouts.fetch_add(1, std::memory_order_relaxed);
        fail(408, "request headers not received in time");
    } else if (_request_started_at == 0) {
        // Waiting for a request: a fresh connection gets the header timeout, a kept-alive one
        // the idle timeout. Nothing was asked, so it just closes.
        const core::MonoMillis limit =
            _requests == 0 ? settings.header_timeout_ms : settings.idle_timeout_ms;
        if (now - _idle_since > limit) {
            close(_requests == 0 ? "no request in time" : "idle keep-alive connection");
        }
    }
}

}  // namespace tern::bridge
