// One worker thread with its libuv loop: owns its connections and sessions, drains its inbox.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ack_barrier.hpp"
#include "core/session.hpp"
#include "packet_scratch.hpp"
#include "persistence.hpp"
#include "pointer_index.hpp"
#include "stats.hpp"

namespace tern::net {

class Broker;
class Connection;
class MessageSink;

// A session and the connection currently attached to it (null while offline). One allocation
// holds both; it does not move while the session lives (the subscription tree points into it).
struct SessionSlot {
    SessionSlot(std::string client_id, uint64_t uid, uint32_t loop)
        : session(std::move(client_id), uid, loop) {}
    SessionSlot(const SessionSlot&) = delete;
    SessionSlot& operator=(const SessionSlot&) = delete;

    core::Session session;
    Connection* connection = nullptr;
    core::MonoMillis expires_at = 0;  // set while offline with a finite expiry; 0 = never
    bool stored = false;              // a record of it was written to storage
    // Sends waiting for a commit (send_when_durable): while any wait, later sends wait too, so
    // that the client sees its messages in order.
    uint32_t deferred_sends = 0;
    uint64_t tracked_queue_bytes = 0;  // queue bytes reported to the memory cap
};

// A message for a session owned by another loop, carried through that loop's inbox.
struct RemoteDelivery {
    uint64_t session_uid = 0;
    core::OutgoingMessage outgoing;
    AckBarrierPtr barrier;  // the publisher's acknowledgement waits for this delivery's write
    // Set when the publishing loop already wrote the session's queue entry (key
    // outgoing.store_seq): the session's client id, to erase the entry if it is not kept.
    std::string prewritten_for;
    // Counted in the session's SubscriberState::in_transit by the publishing loop.
    uint32_t transit_weight = 0;
};

// Threading: every method is for the loop's own thread unless it says "thread-safe".
class WorkerLoop {
  public:
    using Task = std::function<void(WorkerLoop&)>;

    WorkerLoop(Broker& broker, uint32_t index);
    ~WorkerLoop();  // frees the sessions
    WorkerLoop(const WorkerLoop&) = delete;
    WorkerLoop& operator=(const WorkerLoop&) = delete;

    // Starts the thread. `on_start` runs first on the loop thread (listeners are opened there).
    void start(Task on_start);
    // Thread-safe. Asks the loop to close everything and end; join() waits for it.
    void stop();
    void join();
    // For a loop whose thread never started: closes its handles (listeners included) and the
    // libuv loop. Idempotent; a no-op for a loop that ran.
    void close_unstarted();

    // Thread-safe: runs `task` on this loop soon.
    void post(Task task);
    // Thread-safe: hands a batch of deliveries to this loop.
    void post_deliveries(std::vector<RemoteDelivery>&& batch);

    uv_loop_t* uv() noexcept { return &_loop; }
    uint32_t index() const noexcept { return _index; }
    Broker& broker() noexcept { return _broker; }
    LoopStats& stats() noexcept { return _stats; }
    const LoopStats& stats() const noexcept { return _stats; }
    bool stopping() const noexcept { return _stopping; }

    // A per-loop scratch buffer for socket reads; valid until the next read callback returns.
    uv_buf_t read_buffer() noexcept;
    // Counts loop iterations, so that a connection can tell when its per-iteration read budget
    // starts afresh (Connection::read_allowance).
    uint32_t read_epoch() const noexcept { return _read_epoch; }

    // Backpressure (read_hold.cpp). While the storage writer is far behind, no connection of
    // any loop reads: publishers wait in their sockets instead of in the broker's memory.
    bool storage_hold() const noexcept { return _storage_hold.load(std::memory_order_relaxed); }
    // A connection that may not read now (Connection::reads_held) stops reading its socket and
    // waits here until release_held_reads() finds it may read again.
    void park_reader(Connection* connection);
    // Restarts every parked connection that may read again. Own loop.
    void release_held_reads();
    // Thread-safe: the storage backlog fell to its low-water mark; lifts the storage hold.
    void storage_drained();
    // After a delivery to `slot`: marks its session congested when it is online and past its
    // high-water marks (limits.slow_subscriber_*), which pauses the clients publishing to it.
    void check_congestion(SessionSlot& slot);
    // Deliveries posted to this loop and not yet handled (thread-safe). Past kInboxHigh other
    // loops shed QoS 0 deliveries to it and every loop stops reading until it is back under
    // kInboxLow: a loop that cannot keep up (a CPU-bound bridge) must not queue without bound.
    uint64_t inbox_depth() const noexcept { return _inbox_depth.load(std::memory_order_relaxed); }
    static constexpr uint64_t kInboxHigh = 256 * 1024;
    static constexpr uint64_t kInboxLow = 32 * 1024;
    // Storage backlog (operations) past which loops stop reading, and where they read again.
    static constexpr uint64_t kStorageBacklogHigh = 64 * 1024;
    static constexpr uint64_t kStorageBacklogLow = 16 * 1024;

    // Connections: registered on creation, removed by their close callback. add_connection()
    // returns the connection's id, which names its place in the connection table (see
    // find_connection).
    uint64_t add_connection(Connection* connection);
    void remove_connection(Connection* connection);
    // Queues a connection for the end-of-iteration flush of its output.
    void mark_dirty(Connection* connection);

    // Sessions owned by this loop.
    SessionSlot* find_session(std::string_view client_id);
    SessionSlot* find_session(uint64_t uid);
    SessionSlot& create_session(const std::string& client_id);
    // Removes the session's subscriptions from the tree and forgets it. Its connection, if any,
    // must already be detached.
    void destroy_session(SessionSlot& slot);
    // Reports the change in size of the session's queue to the memory cap (connection_limits.cpp).
    void track_queue_memory(SessionSlot& slot) noexcept;

    // Hands `outgoing` to the session `uid` on this loop (drops it if the session is gone). A
    // durable queue entry written for it holds `barrier`. With `prewritten_kept`, the entry
    // (key outgoing.store_seq) was written by the publishing loop: it is not written again, and
    // *prewritten_kept says whether the session kept the message (else the caller erases it).
    void deliver_local(uint64_t uid, core::OutgoingMessage&& outgoing,
                       const AckBarrierPtr& barrier = nullptr, bool* prewritten_kept = nullptr);
    // In-process receivers (bridge clients) addressed like sessions by a uid from
    // Broker::next_session_uid(): deliver_local hands them what no session of that uid takes.
    void add_sink(uint64_t uid, MessageSink* sink);
    void remove_sink(uint64_t uid);
    // Runs `hook` at the start of shutdown, before this loop closes its connections, so that
    // other users of the loop (the bridge) close their handles. Call on the loop's thread, or
    // before the loop starts.
    void add_stop_hook(Task hook);

    // Buffers a delivery for another loop; sent in one batch at the end of this iteration, after
    // this iteration's storage batch was submitted (so that a queue entry written here for the
    // target, `prewritten_for` non-empty, commits before anything the target writes about it).
    void deliver_remote(uint32_t loop, uint64_t uid, core::OutgoingMessage&& outgoing,
                        const AckBarrierPtr& barrier = nullptr, std::string prewritten_for = {},
                        uint32_t transit_weight = 0);

    // QoS 2 towards a persistent session: the PUBLISH (or PUBREL) leaves only once its in-flight
    // record is durable, so that after a crash the broker never resends a PUBLISH the client
    // already completed, nor reuses a packet id the client still holds.
    void send_when_durable(uint64_t session_uid, uint64_t connection_id, uint16_t packet_id,
                           core::InflightMessage::State expected);
    // The same for a QoS 0 message queued behind such sends.
    void send_qos0_when_durable(uint64_t session_uid, uint64_t connection_id,
                                core::OutgoingMessage message);

    // What the acknowledgement of the PUBLISH being routed right now waits for (null when
    // nothing). A client's PUBLISH (begin_local_publish) is a token here: a write into this
    // loop's batch made for it only notes that its acknowledgement waits for that batch
    // (Persistence::add), with no shared object, atomic or release by the writer thread. A
    // delivery that leaves the loop takes shared_publishing_barrier(), a real barrier.
    const AckBarrierPtr& publishing_barrier() const noexcept {
        return _local_publish ? _publish_token : _publishing_barrier;
    }
    const AckBarrierPtr& shared_publishing_barrier();
    // A bridge publish: a barrier of its own, for every write and delivery.
    void set_publishing_barrier(AckBarrierPtr barrier) { _publishing_barrier = std::move(barrier); }
    bool is_publish_token(const AckBarrier* barrier) const noexcept {
        return _local_publish && barrier == _publish_token.get();
    }
    void note_publish_write() noexcept { _publish_in_batch = true; }
    // Routing a client's PUBLISH on this loop, for connection `connection_id`.
    void begin_local_publish(uint64_t connection_id);
    struct PublishWrites {
        bool in_batch = false;  // writes in this loop's batch (this iteration's)
        AckBarrierPtr shared;   // deliveries that left the loop hold this; then it also waits
                                // for the batch
    };
    PublishWrites end_local_publish();

    Persistence& persistence() noexcept { return _persistence; }
    void mark_persistence_dirty() noexcept { _persistence_dirty = true; }

    // A connection by its id; null when it is gone. An id is the connection's place in the table
    // (low 32 bits) and a sequence number (high 32 bits): a place is reused, an id not before the
    // loop has made 2^32 further connections, long after anyone held on to it.
    Connection* find_connection(uint64_t id);
    static uint32_t connection_slot(uint64_t id) noexcept { return static_cast<uint32_t>(id); }
    // Sends the acknowledgements of connection `id` whose writes are now durable.
    void acks_ready(uint64_t connection_id);

    // Second phase of shutdown, run as a task once every loop has closed its connections.
    void close_handles();

    // Cached steady-clock milliseconds, refreshed every iteration.
    core::MonoMillis now() noexcept;

    // The Packet each frame is decoded into (see packet_scratch.hpp).
    PacketScratch& packet_scratch() noexcept { return _packet_scratch; }

  private:
    static void on_async(uv_async_t* handle) noexcept;
    static void on_check(uv_check_t* handle) noexcept;
    static void on_tick(uv_timer_t* handle) noexcept;
    void drain_inbox();
    // Takes delivered messages off their sessions' in-transit counts, one update per run of
    // deliveries to the same session.
    void end_transit(const std::vector<RemoteDelivery>& deliveries);
    // A delivery whose queue entry the publishing loop wrote: delivered, or its entry erased.
    void settle_prewritten(RemoteDelivery& delivery);
    void flush_dirty();
    void flush_outbox();
    void tick();
    void close_everything();
    void run(Task on_start);

    Broker& _broker;
    uint32_t _index;
    uv_loop_t _loop{};
    uv_async_t _async{};
    uv_check_t _check{};
    uv_timer_t _tick{};
    std::thread _thread;
    bool _stopping = false;
    bool _started = false;
    bool _closed = false;
    LoopStats _stats;

    std::mutex _inbox_mutex;
    std::vector<Task> _tasks;
    std::vector<RemoteDelivery> _deliveries;
    bool _stop_requested = false;
    // The batch drain_inbox() works on. Cleared, not freed, and swapped back into the inbox, so
    // that its capacity returns to the publishing loops' outboxes (post_deliveries swaps):
    // batches are not grown from an empty vector every iteration.
    std::vector<RemoteDelivery> _draining;

    std::vector<char> _read_buffer;
    uint32_t _read_epoch = 0;
    PacketScratch _packet_scratch;
    // Indexed by connection_slot(id); a closed connection leaves a null place, reused first.
    // No per-connection index besides: an idle connection costs one pointer here.
    std::vector<Connection*> _connections;
    std::vector<uint32_t> _free_connection_slots;
    uint32_t _connection_seq = 0;
    std::vector<Connection*> _dirty;
    std::vector<std::vector<RemoteDelivery>> _outbox;  // per target loop
    std::vector<uint32_t> _outbox_targets;

    AckBarrierPtr _publishing_barrier;
    AckBarrierPtr _publish_token;      // never leaves this loop (see publishing_barrier())
    AckBarrierPtr _publishing_shared;  // made on demand by shared_publishing_barrier()
    uint64_t _publishing_connection = 0;
    bool _local_publish = false;
    bool _publish_in_batch = false;
    Persistence _persistence;
    bool _persistence_dirty = false;
    std::atomic<bool> _storage_hold{false};
    std::atomic<uint64_t> _inbox_depth{0};
    std::atomic<uint64_t> _overload_drops{0};  // QoS 0 deliveries to this loop shed by others
    std::atomic<bool> _inbox_congested{false};
    // Sheds QoS 0 deliveries of a batch bound for a congested loop; returns how many.
    std::size_t shed_for_overload(std::vector<RemoteDelivery>& batch);
    void check_inbox_drained();
    std::atomic<bool> _drain_posted{false};
    std::vector<uint64_t> _parked_readers;  // connection ids
    uint32_t _ticks_parked = 0;             // paces tick()'s retry of parked readers
    void check_storage_backlog();
    // Congested sessions of this loop (uids); each iteration lifts those that caught up.
    std::vector<uint64_t> _congested_sessions;
    void check_congested_sessions();
    // Whether `slot`'s backlog is at 1/divisor of a high-water mark or more.
    bool subscriber_behind(const SessionSlot& slot, uint64_t divisor) const;
    void mark_congested(SessionSlot& slot);
    // limits.pause_publishers and slow_subscriber_bytes, read once per delivery.
    bool _pause_publishers = true;
    uint64_t _slow_subscriber_bytes = 0;

    // The sessions of this loop, each allocated by create_session() and freed by
    // destroy_session() (or with the loop), found by client id and by uid.
    struct ByClientId {
        using Key = std::string_view;
        static Key key(const SessionSlot& slot) noexcept { return slot.session.client_id(); }
        static uint64_t hash(Key key) noexcept { return std::hash<std::string_view>{}(key); }
    };
    struct ByUid {
        using Key = uint64_t;
        static Key key(const SessionSlot& slot) noexcept { return slot.session.uid(); }
        static uint64_t hash(Key key) noexcept { return key; }
    };
    PointerIndex<SessionSlot, ByClientId> _by_client_id;
    PointerIndex<SessionSlot, ByUid> _by_uid;
    std::unordered_map<uint64_t, MessageSink*> _sinks;
    std::vector<Task> _stop_hooks;
};

}  // namespace tern::net
