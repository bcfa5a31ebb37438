// Connection I/O: reading and framing, buffered writes flushed once per loop iteration, closing.
#include "connection.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "broker.hpp"
#include "codec/encoder.hpp"
#include "socket_writer.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

constexpr core::MonoMillis kCloseFlushTimeoutMs = 5000;

std::string peer_name(const uv_tcp_t* handle) {
    sockaddr_storage address{};
    int length = sizeof(address);
    if (uv_tcp_getpeername(handle, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return "?";
    }
    char host[64] = {};
    if (address.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
        uv_ip6_name(in6, host, sizeof(host));
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
    uv_ip4_name(in4, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in4->sin_port));
}

}  // namespace

Connection::Connection(WorkerLoop& loop, std::string peer)
    : _loop(loop), _id(loop.add_connection(this)), _peer(std::move(peer)) {
    uv_tcp_init(loop.uv(), &_handle);
    _handle.data = this;
    _phase_since = loop.now();
    _last_activity = _phase_since;
}

Connection::~Connection() = default;

Connection* Connection::accept(WorkerLoop& loop, uv_stream_t* server,
                               std::unique_ptr<Transport> transport) {
    auto* connection = new Connection(loop, "");
    connection->_transport = std::move(transport);
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&connection->_handle)) != 0) {
        connection->_closing = true;
        connection->finish_close();
        return nullptr;
    }
    connection->_peer = peer_name(&connection->_handle);
    return connection;
}

Connection* Connection::adopt(WorkerLoop& loop, uv_os_sock_t fd, std::string pending,
                              std::string peer, core::MonoMillis accepted_at,
                              std::unique_ptr<Transport> transport, std::string wire) {
    auto* connection = new Connection(loop, std::move(peer));
    connection->_phase_since = accepted_at;
    connection->_transport = std::move(transport);
    if (!wire.empty()) {
        connection->rare().wire = std::move(wire);
    }
    if (uv_tcp_open(&connection->_handle, fd) != 0) {
        ::close(fd);
        connection->_closing = true;
        connection->finish_close();
        return nullptr;
    }
    connection->_pending = std::move(pending);
    return connection;
}

const std::string& Connection::client_id() const noexcept {
    static const std::string kNone = "-";
    return _slot != nullptr ? _slot->session.client_id() : kNone;
}

bool Connection::start() {
    if (_loop.stopping()) {
        close("server shutting down");
        return false;
    }
    uv_tcp_nodelay(&_handle, 1);
    const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&_handle), &Connection::on_alloc,
                                 &Connection::on_read);
    if (rc != 0) {
        close(uv_strerror(rc));
        return false;
    }
    if (!_pending.empty()) {
        // Bytes carried over from the loop that accepted us (the CONNECT and what followed).
        std::string carried = std::move(_pending);
        _pending.clear();
        consume(carried.data(), carried.size(), false);
    }
    if (_transport) {
        // A moved TLS connection: its records not yet written go first, and what the transport
        // still holds (read there, not yet decrypted) will not come from the socket again.
        if (has_wire()) {
            _loop.mark_dirty(this);
        }
        pull_transport();
    }
    park_if_held();  // a PUBLISH carried over may have paused it
    return true;
}

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
    // All connections of a loop share one read buffer: an idle connection holds no read memory.
    auto* self = static_cast<Connection*>(handle->data);
    *buf = self->_loop.read_buffer();
    // An empty buffer makes libuv skip the read (UV_ENOBUFS); the socket stays readable.
    buf->len = static_cast<decltype(buf->len)>(self->read_allowance(buf->len));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = static_cast<Connection*>(stream->data);
    if (nread == UV_ENOBUFS) {
        // Over its read budget for this loop iteration (read_allowance), or held back.
        self->park_if_held();
        return;
    }
    if (nread < 0) {
        self->close(nread == UV_EOF ? "connection closed by client" : uv_strerror(nread));
        return;
    }
    if (nread == 0 || self->_closing) {
        return;
    }
    self->_read_used += static_cast<uint32_t>(nread);
    try {
        if (self->_transport) {
            self->receive_wire(buf->base, static_cast<std::size_t>(nread));
        } else {
            self->consume(buf->base, static_cast<std::size_t>(nread), true);
        }
        // A PUBLISH to a slow subscriber paused parsing: stop reading too.
        self->park_if_held();
    } catch (const std::exception& error) {
        spdlog::error("client {} ({}): {}", self->client_id(), self->_peer, error.what());
        self->disconnect(codec::ReasonCode::ImplementationSpecificError, "internal error");
    }
}

void Connection::consume(const char* data, std::size_t size, bool count_bytes) {
    if (count_bytes) {
        LoopStats::add(_loop.stats().bytes_received, size);
    }
    _last_activity = _loop.now();
    std::size_t consumed = 0;
    if (_pending.empty()) {
        // Common case: parse straight out of the loop's read buffer, keep only a partial tail.
        parse_frames(data, size, consumed);
        if (!_closing && consumed < size) {
            _pending.assign(data + consumed, size - consumed);
        }
        return;
    }
    _pending.append(data, size);
    std::string buffer = std::move(_pending);
    _pending.clear();
    parse_frames(buffer.data(), buffer.size(), consumed);
    if (!_closing && consumed < buffer.size()) {
        // Keep the buffer (and its capacity): a large packet arriving over several reads is
        // appended to in place instead of copied again at every read.
        buffer.erase(0, consumed);
        _pending = std::move(buffer);
    }
}

void Connection::parse_frames(const char* data, std::size_t size, std::size_t& consumed) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(data);
    const uint32_t max_size = _loop.broker().settings().limits.max_packet_size;
    while (!_closing && consumed < size) {
        if (!_connect_received && bytes[consumed] != 0x10) {
            // The first packet must be CONNECT [MQTT-3.1.0-1]: close at its first byte instead of
            // waiting for a body that garbage (an HTTP request, say) may never complete.
            close("first packet is not CONNECT");
            return;
        }
        codec::FrameHeader header;
        codec::DecodeError error;
        const auto status =
            codec::parse_fixed_header({bytes + consumed, size - consumed}, max_size, header, error);
        if (status == codec::FrameStatus::NeedMore) {
            return;
        }
        if (status == codec::FrameStatus::Error) {
            protocol_error(error.code, error.reason);
            return;
        }
        if (auto invalid = codec::validate_first_byte(header.first_byte, _version)) {
            // Reserved packet types and flag bits are refused before waiting for the body.
            protocol_error(invalid->code, invalid->reason);
            return;
        }
        if (size - consumed < header.total_size()) {
            return;
        }
        std::span<const uint8_t> frame(bytes + consumed, header.total_size());
        consumed += header.total_size();
        if (!handle_frame(header, frame, {bytes + consumed, size - consumed})) {
            return;
        }
        if (paused_for_subscriber() && reads_held()) {
            // The rest stays in _pending until a subscriber drains (resume_reading).
            _parsing_stopped = true;
            return;
        }
    }
}

void Connection::send_packet(const codec::Packet& packet) {
    if (_handle_closed) {
        return;
    }
    codec::encode(packet, _version, _out);
    _loop.mark_dirty(this);
}

void Connection::send_ack(const codec::AckHead& ack) {
    if (_handle_closed) {
        return;
    }
    codec::append_ack(_out, ack, _version);
    _loop.mark_dirty(this);
}

void Connection::send_acknowledgement(const Acknowledgement& ack) {
    if (const codec::Packet* packet = ack.packet()) {
        send_packet(*packet);
    } else {
        send_ack(ack.head());
    }
}

AckBarrierPtr Connection::make_barrier(Acknowledgement ack) {
    if (!_loop.persistence().enabled()) {
        return nullptr;
    }
    return std::make_shared<AckBarrier>(_loop, _id, std::move(ack));
}

void Connection::send_ordered_ack(Acknowledgement ack, const AckBarrierPtr& barrier) {
    if (!barrier) {
        if (!acks_waiting()) {
            send_acknowledgement(ack);
            return;
        }
        // Behind acknowledgements still waiting: queued as one that waits for nothing.
        _rare->pending_acks.push_back(PendingAck{nullptr, std::move(ack), 0});
        return;
    }
    rare().pending_acks.push_back(PendingAck{barrier, {}, 0});
    if (barrier->release(true)) {
        send_ready_acks();
    }
}

void Connection::send_ack_when_committed(codec::AckHead ack) {
    Persistence& persistence = _loop.persistence();
    rare().pending_acks.push_back(PendingAck{nullptr, ack, persistence.current_batch()});
    persistence.notify_when_committed(_id);
}

void Connection::send_ready_acks() {
    if (!_rare) {
        return;
    }
    // after_send may append to it; the reference stays valid (_rare lives as long as we do).
    std::vector<PendingAck>& pending = _rare->pending_acks;
    const uint64_t committed = _loop.persistence().committed_batches();
    std::size_t sent = 0;
    while (sent < pending.size()) {
        if (const PendingAck& next = pending[sent];
            next.barrier ? !next.barrier->ready() : next.batch > committed) {
            break;
        }
        PendingAck done = std::move(pending[sent]);
        ++sent;
        if (!done.barrier) {
            send_acknowledgement(done.ack);
            continue;
        }
        send_acknowledgement(done.barrier->ack());
        if (done.barrier->after_send && _slot != nullptr && !_closing) {
            // May queue further acknowledgements behind the ones still waiting.
            done.barrier->after_send();
        }
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(sent));
}

void Connection::flush() {
    if (_transport) {
        flush_transport();
        return;
    }
    write_buffer(_out);
}

void Connection::write_buffer(std::string& buffer) {
    if (_handle_closed || buffer.empty() || writing()) {
        return;
    }
    const WriteOutcome outcome = write_or_queue(reinterpret_cast<uv_stream_t*>(&_handle), buffer,
                                                rare().writing, this, &Connection::on_write);
    LoopStats::add(_loop.stats().bytes_sent, outcome.written);
    if (outcome.error != 0) {
        // The socket is broken: nothing more can leave, so the close does not wait for output.
        close(uv_strerror(outcome.error));
        finish_close();
        return;
    }
    if (!outcome.queued && _close_after_write) {
        finish_close();
    }
}

void Connection::on_write(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<Connection*>(req->data);
    delete req;
    std::string& written = self->_rare->writing;  // write_buffer() made it
    LoopStats::add(self->_loop.stats().bytes_sent, status == 0 ? written.size() : 0);
    written_out(written);
    if (status != 0) {
        if (status != UV_ECANCELED) {
            self->_out.clear();
            self->close(uv_strerror(status));
            self->finish_close();
        }
        return;
    }
    if (!self->_out.empty() || self->has_wire()) {
        self->flush();
    } else if (self->_close_after_write) {
        self->finish_close();
    }
}

bool Connection::protocol_error(codec::ReasonCode reason, std::string_view why) {
    spdlog::info("client {} ({}): protocol error: {} ({})", client_id(), _peer, why,
                 codec::reason_code_name(reason));
    disconnect(reason, why);
    return false;
}

void Connection::disconnect(codec::ReasonCode reason, std::string_view why) {
    if (_closing) {
        return;
    }
    // A server DISCONNECT exists only in MQTT 5, and only after CONNACK [MQTT-3.14.0-1].
    if (_version == codec::ProtocolVersion::V5 && _connack_sent) {
        codec::Disconnect packet;
        packet.reason_code = static_cast<uint8_t>(reason);
        if (!why.empty()) {
            packet.properties.reason_string = std::string(why);
        }
        send_packet(packet);
    } else if (_version == codec::ProtocolVersion::V5 && _connect_received && !_migrating) {
        // Before CONNACK the refusal is a CONNACK with the reason [MQTT-3.2.2-6].
        codec::Connack packet;
        packet.reason_code = static_cast<uint8_t>(reason);
        send_packet(packet);
    }
    close(why);
}

void Connection::close(std::string_view why) {
    if (_closing) {
        return;
    }
    _closing = true;
    _phase_since = _loop.now();
    spdlog::debug("client {} ({}): closing: {}", client_id(), _peer, why);
    if (_slot != nullptr) {
        // Not reached by the old connection of a takeover: it released its session first.
        _loop.broker().presence().disconnected(client_id(), why);
    }
    detach_session(_will_on_close);
    if (!_handle_closed) {
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&_handle));
    }
    if (_transport) {
        shutdown_transport();
    }
    if (!_out.empty() || has_wire() || writing()) {
        // Let the last packets (CONNACK, DISCONNECT) reach the client before the socket closes.
        _close_after_write = true;
        _loop.mark_dirty(this);
        return;
    }
    finish_close();
}

void Connection::finish_close() {
    if (_handle_closed) {
        return;
    }
    _handle_closed = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&_handle), &Connection::on_close);
}

void Connection::on_close(uv_handle_t* handle) noexcept {
    auto* self = static_cast<Connection*>(handle->data);
    self->_loop.remove_connection(self);
    delete self;
}

void Connection::check_timeouts(core::MonoMillis now) {
    if (_closing) {
        if (_close_after_write && now - _phase_since > kCloseFlushTimeoutMs) {
            finish_close();
        }
        return;
    }
    if (refusing()) {
        if (now >= _rare->refuse_at) {
            _rare->refuse_at = 0;
            reject_connect(_rare->refuse_reason, _rare->refuse_why);
        }
        return;
    }
    if (!_connect_received) {
        // A socket that never sends CONNECT is closed [MQTT-3.1.4-?]: protects against idle
        // sockets holding resources.
        if (now - _phase_since > _loop.broker().settings().limits.connect_timeout_ms) {
            if (_transport && !_transport->ready()) {
                // The TLS handshake has the CONNECT timeout too (slow handshakes hold memory).
                transport_ended(Transport::Status::Error,
                                "not completed within the CONNECT timeout");
                return;
            }
            close("no CONNECT in time");
        }
        return;
    }
    // One and a half times the keep alive without a packet ends the connection [MQTT-3.1.2-24].
    if (_reads_parked) {
        // Not reading by our own choice (backpressure): the client's silence is ours.
        _last_activity = now;
    } else if (_keep_alive_ms != 0 && now - _last_activity > _keep_alive_ms) {
        disconnect(codec::ReasonCode::KeepAliveTimeout, "keep alive timeout");
    }
}

}  // namespace tern::net
