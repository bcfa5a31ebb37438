// StreamConnection: batched writes and bulk packet framing on a libuv TCP handle.
#include "stream_connection.hpp"

#include <algorithm>

namespace tern::bench {

void IoContext::flush_dirty() {
    // flush() never adds to the list, so indexes stay valid.
    for (std::size_t i = 0; i < dirty.size(); ++i) {
        dirty[i]->flush();
    }
    dirty.clear();
}

StreamConnection::StreamConnection(IoContext& io) : _io(io) {
    uv_tcp_init(io.loop, &_handle);
    _handle.data = this;
    _write_request.data = this;
}

bool StreamConnection::start_reading(std::string& error) {
    const int rc = uv_read_start(stream(), &StreamConnection::on_alloc, &StreamConnection::on_read);
    if (rc != 0) {
        error = uv_strerror(rc);
        return false;
    }
    return true;
}

void StreamConnection::mark_dirty() {
    if (!_dirty && !_closing) {
        _dirty = true;
        _io.dirty.push_back(this);
    }
}

void StreamConnection::flush() {
    _dirty = false;
    if (_closing || _write_active || _out.empty()) {
        return;
    }
    uv_buf_t buffer = uv_buf_init(_out.data(), static_cast<unsigned>(_out.size()));
    int written = uv_try_write(stream(), &buffer, 1);
    if (written == UV_EAGAIN) {
        written = 0;
    } else if (written < 0) {
        fail(std::string("write failed: ") + uv_strerror(written));
        return;
    }
    if (static_cast<std::size_t>(written) == _out.size()) {
        _out.clear();
        return;
    }
    // Hand the rest to uv_write without copying: the buffers swap, _out keeps queueing.
    _writing.swap(_out);
    _out.clear();
    uv_buf_t rest =
        uv_buf_init(_writing.data() + written, static_cast<unsigned>(_writing.size() - written));
    const int rc = uv_write(&_write_request, stream(), &rest, 1, &StreamConnection::on_write);
    if (rc != 0) {
        fail(std::string("write failed: ") + uv_strerror(rc));
        return;
    }
    _write_active = true;
}

void StreamConnection::close() {
    if (_closing) {
        return;
    }
    _closing = true;
    if (_dirty) {
        std::erase(_io.dirty, this);
        _dirty = false;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&_handle), &StreamConnection::on_close);
}

void StreamConnection::fail(const std::string& reason) {
    if (_closing) {
        return;
    }
    close();
    on_stream_error(reason);
}

void StreamConnection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
    auto* self = static_cast<StreamConnection*>(handle->data);
    auto& buffer = self->_io.read_buffer;
    *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void StreamConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = static_cast<StreamConnection*>(stream->data);
    if (nread < 0) {
        self->fail(nread == UV_EOF
                       ? std::string("connection closed by the peer")
                       : std::string("read failed: ") + uv_strerror(static_cast<int>(nread)));
        return;
    }
    if (nread == 0 || self->_closing) {
        return;
    }
    self->on_data_arrived();
    const auto* bytes = reinterpret_cast<const uint8_t*>(buf->base);
    const auto count = static_cast<std::size_t>(nread);
    if (self->_partial.empty()) {
        const std::size_t used = self->scan({bytes, count});
        if (!self->_closing && used < count) {
            self->_partial.assign(buf->base + used, count - used);
        }
        return;
    }
    // Packet handlers never touch _partial, so it can be scanned in place.
    auto& partial = self->_partial;
    partial.append(buf->base, count);
    const std::size_t used =
        self->scan({reinterpret_cast<const uint8_t*>(partial.data()), partial.size()});
    partial.erase(0, used);
}

std::size_t StreamConnection::scan(std::span<const uint8_t> data) {
    std::size_t offset = 0;
    while (!_closing && offset < data.size()) {
        codec::FrameHeader header;
        codec::DecodeError error;
        const auto status = codec::parse_fixed_header(data.subspan(offset), 0, header, error);
        if (status == codec::FrameStatus::Error) {
            fail("malformed stream: " + error.reason);
            break;
        }
        if (status == codec::FrameStatus::NeedMore || data.size() - offset < header.total_size()) {
            break;
        }
        on_packet(header, data.subspan(offset + header.header_size, header.remaining_length));
        offset += header.total_size();
    }
    return offset;
}

void StreamConnection::on_write(uv_write_t* request, int status) noexcept {
    auto* self = static_cast<StreamConnection*>(request->data);
    self->_write_active = false;
    self->_writing.clear();
    if (status != 0) {
        if (status != UV_ECANCELED) {
            self->fail(std::string("write failed: ") + uv_strerror(status));
        }
        return;
    }
    if (self->_closing) {
        return;
    }
    if (!self->_out.empty()) {
        self->mark_dirty();
    }
    self->on_write_done();
}

void StreamConnection::on_close(uv_handle_t* handle) noexcept {
    auto* self = static_cast<StreamConnection*>(handle->data);
    self->on_handle_closed();
}

}  // namespace tern::bench
