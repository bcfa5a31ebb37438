// A libuv TCP connection that batches its writes (one write per loop iteration) and cuts whole
// MQTT packets out of what it reads. Base of the load clients and of the sink's sessions.
#pragma once

#include <uv.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/decoder.hpp"

namespace tern::bench {

class StreamConnection;

// Per-loop I/O state shared by the loop's connections. Not thread-safe: one per uv loop.
struct IoContext {
    explicit IoContext(uv_loop_t* uv_loop) : loop(uv_loop), read_buffer(256 * 1024) {}

    // Writes every connection that queued output since the last call. Call once per iteration
    // (from a uv_check handle) so all packets encoded in one iteration leave in one write.
    void flush_dirty();

    uv_loop_t* loop;
    std::vector<char> read_buffer;  // every read lands here first; only partial packets are kept
    std::vector<StreamConnection*> dirty;
};

class StreamConnection {
  public:
    explicit StreamConnection(IoContext& io);
    virtual ~StreamConnection() = default;
    StreamConnection(const StreamConnection&) = delete;
    StreamConnection& operator=(const StreamConnection&) = delete;

    uv_tcp_t* tcp() noexcept { return &_handle; }
    uv_stream_t* stream() noexcept { return reinterpret_cast<uv_stream_t*>(&_handle); }

    // Starts reading; false (and the error in `error`) when libuv refuses.
    bool start_reading(std::string& error);

    // Packets are appended here, then mark_dirty() schedules the write for this iteration.
    std::string& output() noexcept { return _out; }
    void mark_dirty();

    // Sends what is queued: uv_try_write first, uv_write for what the socket did not take.
    // On failure the connection is closed and on_stream_error is called.
    void flush();

    // True while a uv_write is in progress; output still queues behind it.
    bool write_blocked() const noexcept { return _write_active; }
    std::size_t queued_bytes() const noexcept { return _out.size() + _writing.size(); }

    bool closing() const noexcept { return _closing; }

    // Closes the handle (idempotent). on_handle_closed runs from the loop later; only then may
    // the object be freed. Never frees `this` itself.
    void close();

  protected:
    // One whole packet. May queue output or close the connection.
    virtual void on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) = 0;
    // Bytes arrived; called once per read, before their packets (e.g. to take one timestamp).
    virtual void on_data_arrived() {}
    // End of stream, a socket error or a malformed stream; the connection is closing.
    virtual void on_stream_error(const std::string& reason) = 0;
    // A uv_write finished: the connection takes output again without blocking.
    virtual void on_write_done() {}
    virtual void on_handle_closed() {}

    IoContext& io() noexcept { return _io; }
    void fail(const std::string& reason);

  private:
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_write(uv_write_t* request, int status) noexcept;
    static void on_close(uv_handle_t* handle) noexcept;

    // Dispatches the whole packets at the start of `data`; returns how many bytes were used.
    std::size_t scan(std::span<const uint8_t> data);

    IoContext& _io;
    uv_tcp_t _handle{};
    uv_write_t _write_request{};
    std::string _out;      // encoded, not yet handed to the socket
    std::string _writing;  // owned by the uv_write in progress
    std::string _partial;  // the start of a packet whose end has not arrived
    bool _write_active = false;
    bool _dirty = false;
    bool _closing = false;
};

}  // namespace tern::bench
