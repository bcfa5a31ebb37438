// One web client of the bridge on a libuv TCP handle: connects, sends its HTTP request, parses
// the response head, then hands the streamed body to its kind (SSE or WebSocket).
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "client_stats.hpp"

namespace tern::bridge_bench {

class ClientLoop;

class WebClient {
  public:
    WebClient(ClientLoop& loop, ClientKind kind, uint32_t group, std::string filter);
    virtual ~WebClient() = default;
    WebClient(const WebClient&) = delete;
    WebClient& operator=(const WebClient&) = delete;

    // Binds to `source` (when not null) and connects to `target`.
    void start(const sockaddr_in& target, const sockaddr_in* source);
    // The bench ends the run: closes without counting a cut-off.
    void stop();

    bool started() const noexcept { return _state != State::Idle; }
    bool ready() const noexcept { return _ready; }
    // Closed or closing: its handle may still be waiting for uv_close's callback.
    bool finished() const noexcept { return _state == State::Closed; }
    bool handle_closed() const noexcept { return _handle_closed; }
    ClientKind kind() const noexcept { return _kind; }

  protected:
    // The HTTP request to send once connected.
    virtual std::string request() const = 0;
    // The response head (status line and headers, without the blank line). Returns false after
    // calling fail() when the response refuses the client.
    virtual bool on_head(int status, std::string_view head) = 0;
    // Bytes of the body, in order; the buffer may be modified. Called only while open.
    virtual void on_body(char* data, std::size_t size) = 0;

    // The subscription is in place: counted ready and live.
    void mark_ready();
    // Never ready: counted failed under `reason`, then closed.
    void fail(const std::string& reason);
    // Ready, then ended by the server: counted cut under `reason`, then closed.
    void cut(const std::string& reason);
    // Sends `bytes` (small writes: requests, commands, pongs).
    void send(std::string bytes);
    // A message arrived: counts it and records the latency of its "t" stamp.
    void record_message(std::string_view text);

    KindStats& stats() noexcept;
    const std::string& filter() const noexcept { return _filter; }
    ClientLoop& loop() noexcept { return _loop; }
    // CLOCK_REALTIME when the current read arrived.
    uint64_t read_ns() const noexcept;
    // Set by a kind when the server said why it ends the stream (SSE error event, close frame).
    std::string end_reason;

  private:
    enum class State : uint8_t { Idle, Connecting, Head, Streaming, Closed };

    static void on_connect(uv_connect_t* request, int status) noexcept;
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_close(uv_handle_t* handle) noexcept;
    void on_bytes(char* data, std::size_t size);
    void on_end(const std::string& reason);
    void close_handle();

    ClientLoop& _loop;
    ClientKind _kind;
    uint32_t _group;
    std::string _filter;
    uv_tcp_t _tcp{};
    uv_connect_t _connect{};
    State _state = State::Idle;
    bool _ready = false;
    bool _handle_closed = false;
    std::string _head;  // the response head while it is incomplete
};

// Parses a non-negative decimal integer at the start of `text` (digits only); false if none.
bool parse_decimal(std::string_view text, uint64_t& value) noexcept;

}  // namespace tern::bridge_bench
