// One client's MQTT connection on a worker loop: socket I/O, framing, and the packet handlers.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ack_barrier.hpp"
#include "codec/decoder.hpp"
#include "codec/packets.hpp"
#include "core/session.hpp"
#include "publish_quota.hpp"
#include "transport.hpp"

namespace tern::net {

class WorkerLoop;
struct SessionSlot;

// Lifetime: created by the listener (or by a migration) and owned by its loop. close() starts
// closing; the object is deleted in the libuv close callback, never inside one of its own
// callbacks. All methods run on the owning loop's thread.
class Connection {
  public:
    // Accepts a pending connection of `server`; null when the accept failed. A `transport`
    // (TLS) sits between the socket and the codec; null = plain TCP.
    static Connection* accept(WorkerLoop& loop, uv_stream_t* server,
                              std::unique_ptr<Transport> transport = nullptr);
    // Adopts a socket moved from another loop. `pending` holds application bytes already read
    // there; `transport` (with what it has buffered) and `wire` (its output not yet written)
    // move along for a TLS connection.
    static Connection* adopt(WorkerLoop& loop, uv_os_sock_t fd, std::string pending,
                             std::string peer, core::MonoMillis accepted_at,
                             std::unique_ptr<Transport> transport = nullptr, std::string wire = {});

    // Begins reading. Returns false (and closes) on failure.
    bool start();

    // Closes without a DISCONNECT. The will is published unless the session discarded it.
    void close(std::string_view why);
    // MQTT 5: sends DISCONNECT with `reason` first; MQTT 3: just closes. [MQTT-4.13.1-1]
    void disconnect(codec::ReasonCode reason, std::string_view why);

    // Appends an encoded packet to the output; flushed at the end of the loop iteration.
    void send_packet(const codec::Packet& packet);
    // An acknowledgement without properties, written straight to the output (the hot path).
    void send_ack(const codec::AckHead& ack);
    // Appends a PUBLISH to the client. Returns false when it was not sent (too large for the
    // client's Maximum Packet Size [MQTT-3.1.2-25]).
    bool send_publish(const core::OutgoingMessage& outgoing, uint16_t packet_id, bool dup);
    // Writes what is buffered (called by the loop at the end of each iteration).
    void flush();

    // Bytes waiting to be written.
    std::size_t pending_output() const noexcept {
        return _out.size() + (_rare ? _rare->wire.size() + _rare->writing.size() : 0);
    }
    // Bytes waiting because the socket refused some (a write is pending): what a slow reader
    // leaves behind. Output appended in this loop iteration, which the end-of-iteration flush may
    // still hand over entirely, does not count until then.
    std::size_t output_backlog() const noexcept { return writing() ? pending_output() : 0; }
    bool closing() const noexcept { return _closing; }
    bool connected() const noexcept { return _slot != nullptr; }
    const std::string& client_id() const noexcept;
    const std::string& peer() const noexcept { return _peer; }
    codec::ProtocolVersion version() const noexcept { return _version; }

    // Called by the loop's tick: enforces the CONNECT timeout and keep alive [MQTT-3.1.2-24].
    void check_timeouts(core::MonoMillis now);
    // Detaches from the session: the will is published now, scheduled after its delay, or
    // discarded; a session with expiry 0 ends [MQTT-3.1.2-23].
    void detach_session(bool publish_will);
    // Forgets the session without touching its will or expiry (takeover).
    void release_session();

    // Sends queued messages while the window allows (after an ack, on connect).
    void pump_queue();
    // The store's side of a PUBLISH just sent (or about to be) from a persistent session's queue.
    void record_sent(const core::OutgoingMessage& outgoing, uint16_t packet_id);
    // Writes the packet ids of the QoS 1 messages in flight, which stay stored as queued while
    // the session is online, so that they are resent under the same ids after a restart.
    void write_inflight_ids(const core::Session& session);

    uint64_t id() const noexcept { return _id; }
    // Sends, in order, the acknowledgements at the front of the queue whose writes are durable.
    void send_ready_acks();

    // --- abuse limits (connection_limits.cpp) ---
    // Applies limits.max_connections_per_ip and connection_rate_per_ip to a just-accepted
    // socket. False when refused: the socket is being reset and must not be started.
    bool admit();
    // Reports the change in size of this connection's buffers to the memory cap. Own loop.
    void track_memory() noexcept;
    // Gives back what admit() and track_memory() counted. Called once, from the close callback.
    void release_limits() noexcept;
    // Fairness: how much of a `size`-byte read buffer this connection may fill now. Each gets
    // a budget of bytes per loop iteration, so that a client sending as fast as it can does not
    // hold the loop while others wait; 0 = over budget, read again in the next iteration.
    std::size_t read_allowance(std::size_t size) noexcept;
    // Whether reading must wait (read_hold.cpp): the storage writer is far behind, a loop's inbox
    // is, or this client published to a subscriber that is behind.
    bool reads_held() const noexcept;
    // Stops reading the socket while reads_held(), registered with the loop to be resumed.
    void park_if_held();
    // Called by WorkerLoop::release_held_reads() for a parked connection: forgets a pause for a
    // slow subscriber (the next PUBLISH to one pauses again) and resumes if nothing else holds
    // it, parsing first what was read before the pause.
    void resume_reading();

    bool dirty = false;  // already queued for flush

  private:
    // An acknowledgement waiting for durable writes: for a barrier, or (no barrier) for this
    // loop's storage batch number `batch` (Persistence::current_batch()).
    struct PendingAck {
        AckBarrierPtr barrier;
        Acknowledgement ack;  // without a barrier (a barrier carries its own)
        uint64_t batch = 0;
    };
    // What most connections never need, allocated on first use and kept until the connection
    // ends: an idle connection saves its ~170 bytes.
    struct Rare {
        std::string writing;  // bytes owned by the uv_write in progress (the socket was full)
        std::string wire;     // transport output (records) not yet handed to the socket
        // Acknowledgements waiting for durable writes, oldest first.
        std::vector<PendingAck> pending_acks;
        std::vector<std::string> topic_aliases;  // client → server aliases [MQTT-3.3.2-12]
        core::MonoMillis refuse_at = 0;  // when to send a delayed failure CONNACK (0 = none)
        codec::ReasonCode refuse_reason = codec::ReasonCode::Success;
        std::string refuse_why;
    };
    Rare& rare() {
        if (!_rare) {
            _rare = std::make_unique<Rare>();
        }
        return *_rare;
    }
    // A uv_write is in progress (the socket did not take everything).
    bool writing() const noexcept { return _rare && !_rare->writing.empty(); }
    bool has_wire() const noexcept { return _rare && !_rare->wire.empty(); }
    bool acks_waiting() const noexcept { return _rare && !_rare->pending_acks.empty(); }
    // A failure CONNACK is waiting for its delay (refuse_later).
    bool refusing() const noexcept { return _rare && _rare->refuse_at != 0; }

    Connection(WorkerLoop& loop, std::string peer);
    ~Connection();

    static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_write(uv_write_t* req, int status) noexcept;
    static void on_close(uv_handle_t* handle) noexcept;

    void consume(const char* data, std::size_t size, bool count_bytes);
    // Transport path (connection_transport.cpp): wire bytes in, application bytes to consume().
    void receive_wire(const char* data, std::size_t size);
    void pull_transport();
    // Closes after the transport ended (close_notify) or failed (`reason` is logged; a failed
    // handshake is counted).
    void transport_ended(Transport::Status status, std::string_view reason);
    // Encodes _out through the transport, then writes _wire.
    void flush_transport();
    // Appends the transport's end of stream (TLS close_notify) after what is still buffered.
    void shutdown_transport();
    // Writes `buffer` (_out for plain TCP, _wire with a transport): uv_try_write, then uv_write
    // for what the socket did not take.
    void write_buffer(std::string& buffer);
    // TLS use_identity_as_username: the certificate's name replaces the CONNECT's user name.
    // False when the connection was refused.
    bool apply_transport_identity(codec::Connect& connect);
    void parse_frames(const char* data, std::size_t size, std::size_t& consumed);
    // Returns false when the connection must stop processing (closing or migrated). `after`: the
    // bytes read after the frame (a CONNECT moving to another loop takes them along).
    bool handle_frame(const codec::FrameHeader& header, std::span<const uint8_t> frame,
                      std::span<const uint8_t> after);
    void finish_close();
    bool protocol_error(codec::ReasonCode reason, std::string_view why);

    // --- packet handlers (handle_*.cpp) ---
    bool handle_connect(codec::Connect& connect, std::span<const uint8_t> raw_frame,
                        std::span<const uint8_t> after);
    bool handle_publish(codec::Publish& publish);
    bool handle_ack(const codec::AckHead& ack);
    bool handle_subscribe(codec::Subscribe& subscribe);
    bool handle_unsubscribe(const codec::Unsubscribe& unsubscribe);
    bool handle_disconnect(const codec::Disconnect& disconnect);
    bool handle_auth(const codec::Auth& auth);

    // handle_connect.cpp helpers
    bool reject_connect(codec::ReasonCode reason, std::string_view why);
    bool migrate_to(uint32_t loop, std::span<const uint8_t> raw_frame,
                    std::span<const uint8_t> after);
    bool validate_will(const codec::Connect& connect);
    // Checks the credentials against the password file and the will topic against the ACL.
    // False when the connection is refused: the CONNACK is sent about a second later (see
    // refuse_later), so guessing passwords is slow.
    bool authenticate(const codec::Connect& connect);
    void refuse_later(codec::ReasonCode reason, std::string why);
    void take_over(SessionSlot& slot, bool clean_start);
    void attach_session(codec::Connect& connect, const std::string& assigned_id);
    void configure_session(core::Session& session, codec::Connect& connect);
    void send_connack(bool session_present, const codec::Connect& connect,
                      const std::string& assigned_id);
    void resend_inflight();
    // handle_subscribe.cpp helper
    void send_retained(const std::string& filter, const core::SubscriptionOptions& options);
    // handle_publish.cpp helper
    bool resolve_topic_alias(codec::Publish& publish);
    codec::Ack make_publish_ack(codec::PacketType type, uint16_t packet_id,
                                codec::ReasonCode reason) const;
    void ack_publish(codec::PacketType type, uint16_t packet_id, codec::ReasonCode reason);
    // Sends `ack` after every earlier acknowledgement, once `barrier` (if any) is released by
    // the writes it waits for. Takes over the creator's hold on the barrier.
    void send_ordered_ack(Acknowledgement ack, const AckBarrierPtr& barrier);
    // Sends `ack` in order once this iteration's storage batch of this loop is durable.
    void send_ack_when_committed(codec::AckHead ack);
    void send_acknowledgement(const Acknowledgement& ack);
    // A barrier for an acknowledgement when storage is on (else null).
    AckBarrierPtr make_barrier(Acknowledgement ack);
    bool problem_information_allowed() const noexcept;
    // connection_limits.cpp: the publish rate and the memory cap on a PUBLISH. True when it was
    // refused (and answered as its version allows); false when it may go on.
    bool refuse_over_limits(const codec::Publish& publish, codec::PacketType ack_type);
    // While the broker sheds load, only a CONNECT resuming a stored session is accepted.
    bool memory_allows(const codec::Connect& connect);

    // Laid out without padding, the small fields first (after the public `dirty`).
    codec::ProtocolVersion _version = codec::ProtocolVersion::V311;
    bool _closing = false;
    bool _connect_received = false;
    bool _migrating = false;
    bool _close_after_write = false;
    bool _will_on_close = true;
    bool _handle_closed = false;
    bool _connack_sent = false;
    bool _connect_expiry_zero = false;  // for [MQTT-3.14.2-2]
    bool _user_from_transport = false;  // the user name is the client certificate's CN
    bool _ip_counted = false;           // admitted by the per-address limits (released on close)
    bool _reads_parked = false;         // reading stopped by backpressure (WorkerLoop::park_reader)
    // Parsing stopped for a pause (see _paused_epoch) with frames left in _pending: the connection
    // parks even if the pause already ended (a drain raced it), as only resume_reading() parses
    // them.
    bool _parsing_stopped = false;
    uint16_t _server_keep_alive = 0;  // announced when we override the client's keep alive
    uint32_t _keep_alive_ms = 0;
    uint32_t _read_epoch = 0;  // the loop iteration _read_used counts for
    uint32_t _read_used = 0;   // bytes read in that iteration
    // Published to a congested subscriber: parsing stops after that PUBLISH (the rest waits in
    // _pending) and the socket is not read until a subscriber drains [limits.pause_publishers].
    // The drain epoch (Broker::drain_epoch) it was paused in; 0 = not paused. Any later drain
    // ends the pause, whether or not the connection had parked yet.
    uint32_t _paused_epoch = 0;
    WorkerLoop& _loop;
    uint64_t _id;
    SessionSlot* _slot = nullptr;
    // Null for plain TCP (bytes go straight between the socket and the codec); else TLS.
    std::unique_ptr<Transport> _transport;
    std::unique_ptr<Rare> _rare;
    std::string _peer;
    std::string _pending;  // a partial packet carried over between reads
    std::string _out;      // encoded packets not yet handed to the socket
    core::MonoMillis _last_activity = 0;
    // When the current phase began: the accept (the CONNECT timeout counts from it) until the
    // connection closes, then the close (the final flush's timeout counts from it). One field
    // for both keeps the Connection within a 448-byte allocation class.
    core::MonoMillis _phase_since = 0;
    uint64_t _tracked_bytes = 0;                   // buffer bytes reported to the memory cap
    std::unique_ptr<PublishQuota> _publish_quota;  // only with a publish rate limit
    uv_tcp_t _handle{};
    bool paused_for_subscriber() const noexcept;
};

}  // namespace tern::net
