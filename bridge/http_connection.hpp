// One HTTP/1.1 client connection on a worker loop: reading, one request at a time (keep-alive and
// pipelining), buffered writes flushed once per loop iteration, timeouts, the switch to a
// long-lived stream (SSE, later WebSocket), and TLS (https, wss) through a net::Transport.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/message.hpp"
#include "http_response.hpp"
#include "request_parser.hpp"
#include "stream_handler.hpp"

namespace tern::net {
class Transport;
class WorkerLoop;
}  // namespace tern::net

namespace tern::bridge {

class Bridge;
class LoopContext;

// Lifetime: made by adopt() and owned by its loop; close()/abort() start closing and the object
// is deleted in the libuv close callback. Everything runs on the owning loop's thread.
class HttpConnection {
  public:
    // Takes over `fd` (an accepted, connected socket) on the context's loop. Null (and the fd
    // closed) on failure.
    static HttpConnection* adopt(LoopContext& context, int fd, std::string peer);

    // Begins reading. With `over_limit`, answers 503 at once and closes instead.
    void start(bool over_limit);

    // --- answering the current request (the router's handlers) -------------------------------
    // Headers added to every response of the current request (CORS).
    void set_response_headers(HeaderList headers) { _response_headers = std::move(headers); }
    // Sends the response to the current request and goes on with the next one (or closes, when
    // the request did not keep the connection alive).
    void respond(HttpResponse response);
    // Sends the response and closes the connection after it.
    void respond_and_close(HttpResponse response);
    // The same as respond() after `delay_ms` (refused credentials: slows password guessing).
    void respond_later(HttpResponse response, core::MonoMillis delay_ms);
    // Sends `head` (the stream's response headers) and hands the connection to `handler`:
    // no more requests are parsed; later bytes from the client go to handler->on_data().
    void start_stream(std::unique_ptr<StreamHandler> handler, std::string_view head);

    // --- streams -----------------------------------------------------------------------------
    // Appends bytes to the output (written at the end of the loop iteration).
    void write(std::string_view bytes);
    // Bytes waiting to be written to the socket.
    std::size_t pending_output() const noexcept {
        return _out.size() + _wire.size() + _writing.size();
    }
    // Stops reading and closes once what was written is flushed (at most a few seconds).
    void close(std::string_view why);
    // Closes now, dropping unwritten output.
    void abort(std::string_view why);

    // What release_socket() gives away.
    struct ReleasedSocket {
        int fd = -1;              // a dup() of the socket, owned by the caller; -1 = not released
        std::string early_bytes;  // application bytes read behind the current request
        std::unique_ptr<net::Transport> transport;  // TLS, with what it still buffers; or null
    };
    // Gives the socket away after a protocol switch (/mqtt hands it to a broker net::Connection):
    // call from the handler of the current request, with nothing left to write
    // (pending_output() == 0, else fd is -1 and nothing changes). This connection stops reading
    // and closes its handle without writing anything more; the caller writes the switch's
    // response itself (through `transport` when there is one).
    ReleasedSocket release_socket();

    bool closing() const noexcept { return _closing; }
    uint64_t id() const noexcept { return _id; }
    const std::string& peer() const noexcept { return _peer; }
    LoopContext& context() noexcept { return _context; }
    net::WorkerLoop& loop() noexcept;
    Bridge& bridge() noexcept;

    // Called by the loop context: each tick, and at the end of the iteration when dirty.
    void check_timeouts(core::MonoMillis now);
    void flush();

    uint32_t slot = 0;   // index in the context's connection list
    bool dirty = false;  // queued for the end-of-iteration flush

  private:
    HttpConnection(LoopContext& context, std::string peer);
    ~HttpConnection();

    static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_write(uv_write_t* req, int status) noexcept;
    static void on_close(uv_handle_t* handle) noexcept;

    void process_input();
    // Application bytes from the client (plaintext): to the stream, or parsed as requests.
    void deliver(std::string_view bytes);
    // TLS: wire bytes in, then the plaintext they complete (while reading is wanted).
    void receive_wire(std::string_view bytes);
    void pull_transport();
    void transport_ended(int status);
    // TLS: encrypts _out into _wire; false when the transport failed (the connection aborts).
    bool encrypt_output();
    // After a write drained: reading starts again, plaintext held by the transport included.
    void resume_reading();
    void dispatch();
    void fail(int status, std::string_view message);
    void finish_close();
    void end_stream();
    bool output_full() const noexcept;
    void set_reading(bool on);

    LoopContext& _context;
    uint64_t _id;
    uv_tcp_t _handle{};
    std::string _peer;
    RequestParser _parser;
    std::string _in;             // bytes read but not yet parsed
    std::size_t _in_parsed = 0;  // bytes of _in parsed up to the request being dispatched
    std::string _out;
    std::string _writing;
    // TLS (bridge.tls), made by adopt(); null for plain HTTP. Bytes written above go through it
    // and its handshake runs in the ordinary read and write path. release_socket() gives it away
    // with the socket (wss:///mqtt: the broker's net::Connection chains it under WebSocket).
    std::unique_ptr<net::Transport> _transport;
    std::string _wire;  // TLS records not yet handed to the socket
    std::unique_ptr<StreamHandler> _stream;
    ClientKind _kind = ClientKind::Http;
    HeaderList _response_headers;

    // The request being answered.
    bool _busy = false;
    bool _keep_alive = true;
    bool _http10_keep_alive = false;
    bool _head_request = false;  // the body is left out of the response
    HttpResponse _delayed;
    core::MonoMillis _delayed_at = 0;  // 0 = no delayed response

    bool _processing = false;
    bool _reading = false;
    bool _closing = false;
    bool _close_after_write = false;
    bool _handle_closed = false;
    uint64_t _requests = 0;
    core::MonoMillis _idle_since = 0;
    core::MonoMillis _request_started_at = 0;  // 0 = no request in progress
    core::MonoMillis _headers_done_at = 0;
    core::MonoMillis _closing_since = 0;
};

}  // namespace tern::bridge
