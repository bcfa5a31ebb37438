// Socket writes: uv_try_write first, uv_write for the rest.
#include "socket_writer.hpp"

namespace tern::net {

void written_out(std::string& buffer) {
    buffer.clear();
    if (buffer.capacity() > kShrinkWrittenAbove) {
        buffer.shrink_to_fit();
    }
}

WriteOutcome write_or_queue(uv_stream_t* stream, std::string& buffer, std::string& pending,
                            void* owner, uv_write_cb on_write) {
    WriteOutcome outcome;
    uv_buf_t buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
    const int written = uv_try_write(stream, &buf, 1);
    if (written < 0 && written != UV_EAGAIN) {
        buffer.clear();
        outcome.error = written;
        return outcome;
    }
    outcome.written = written > 0 ? static_cast<std::size_t>(written) : 0;
    if (outcome.written == buffer.size()) {
        written_out(buffer);
        return outcome;
    }
    // The socket is full: hand the rest to libuv and keep appending to a fresh buffer. The
    // request lives only while a write is pending: idle connections do not carry one.
    buffer.erase(0, outcome.written);
    pending.swap(buffer);
    auto* request = new uv_write_t{};
    request->data = owner;
    uv_buf_t rest = uv_buf_init(pending.data(), static_cast<unsigned>(pending.size()));
    const int rc = uv_write(request, stream, &rest, 1, on_write);
    if (rc != 0) {
        delete request;
        pending.clear();
        outcome.error = rc;
        return outcome;
    }
    outcome.queued = true;
    return outcome;
}

}  // namespace tern::net
