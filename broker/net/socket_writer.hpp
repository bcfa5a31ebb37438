// Writing a connection's output buffer to its socket: what the socket takes now, and the rest
// handed to libuv while the connection keeps appending to a fresh buffer. Shared by the MQTT
// connections and the bridge's HTTP connections.
#pragma once

#include <uv.h>

#include <cstddef>
#include <string>

namespace tern::net {

// Buffers grown past this by a burst are released once written, so that one large message does
// not pin its size on an idle connection.
inline constexpr std::size_t kShrinkWrittenAbove = 64 * 1024;

struct WriteOutcome {
    int error = 0;            // a libuv error (the buffers are then cleared), else 0
    std::size_t written = 0;  // bytes the socket took at once
    bool queued = false;      // the rest is in `pending`, with a uv_write on its way
};

// Writes `buffer` (not empty; no write pending). Whatever the socket does not take at once moves
// to `pending` and is written by uv_write, which calls `on_write` with req->data = `owner`; the
// callback deletes the request and calls written_out(pending). `buffer` is empty afterwards.
WriteOutcome write_or_queue(uv_stream_t* stream, std::string& buffer, std::string& pending,
                            void* owner, uv_write_cb on_write);

// Clears a buffer that was written, giving back memory a burst made it take.
void written_out(std::string& buffer);

}  // namespace tern::net
