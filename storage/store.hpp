// The durable store interface: batches of changes committed by one writer thread, and loading.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/message.hpp"
#include "records.hpp"

namespace tern::storage {

enum class Durability : uint8_t {
    Memory,  // nothing on disk
    Async,   // RocksDB WAL without fsync: survives kill -9
    Sync,    // fsync (group-committed) before completion: survives power loss
};

struct HistoryPolicy {
    std::string filter;           // topic filter this policy applies to ("#" = every topic)
    uint32_t max_messages = 100;  // per topic
    uint32_t max_age_s = 3600;    // 0 = no age limit
};

struct StorageSettings {
    std::string data_dir = "data";
    Durability durability = Durability::Async;
    std::vector<HistoryPolicy> history;  // first matching policy wins; none = no history
    uint64_t max_retained_messages = 0;  // 0 = unlimited
    uint64_t max_retained_bytes = 0;
    // How long a batch of new and acknowledged queue entries may wait before it is written: an
    // entry whose subscribers acknowledge it meanwhile is never written, and its publisher's
    // acknowledgement follows theirs instead of the disk (at most this much later otherwise).
    std::chrono::milliseconds write_delay{0};
};

// Changes applied atomically, in order. Building a batch never touches the disk.
class WriteBatch {
  public:
    struct PutRetained {
        MessageRecord message;
    };
    struct EraseRetained {
        std::string topic;
    };
    struct PutSession {
        // On the heap: a session record is large (its will carries a property set), and every
        // op of a batch takes the space of the largest kind, the per-message ones included.
        PutSession(SessionRecord record)  // NOLINT(google-explicit-constructor): reads as a value
            : session(std::make_shared<SessionRecord>(std::move(record))) {}
        std::shared_ptr<SessionRecord> session;
    };
    // Erases the session, its queue and its incoming QoS 2 ids.
    struct EraseSession {
        std::string client_id;
    };
    // A queue entry: encoded (`value`), or the broker's message and the entry's own fields
    // (`message` set, `value` empty), encoded by the writer thread only if it is written. Most
    // entries of online sessions are acknowledged while they wait and never are, and fan-out to
    // many sessions shares one message instead of holding a copy per entry.
    struct PutQueued {
        // What a borrowed entry stores besides its message (see QueuedView).
        struct Fields {
            UnixMillis expires_at = 0;  // the message's expiry, 0 = never
            uint16_t packet_id = 0;
            uint8_t qos = 0;
            bool retain = false;
            QueuedRecord::State state = QueuedRecord::State::Queued;
        };
        PutQueued(std::string owner, const QueuedRecord& entry, bool first_write = false);
        PutQueued(std::string owner, uint64_t entry_seq, std::string encoded, bool first_write)
            : client_id(std::move(owner)),
              seq(entry_seq),
              value(std::move(encoded)),
              creates(first_write) {}
        PutQueued(std::string owner, uint64_t entry_seq, core::MessagePtr source,
                  const Fields& entry_fields, bool first_write)
            : client_id(std::move(owner)),
              seq(entry_seq),
              message(std::move(source)),
              fields(entry_fields),
              creates(first_write) {}
        // The value to store: `value`, or the entry encoded into `scratch`.
        std::string_view encoded(std::string& scratch) const;
        // A queue entry's value from the message, the entry's fields and its subscription
        // identifiers, into `out` (replacing its contents).
        static void encode(const core::Message& message, const Fields& fields,
                           std::span<const uint32_t> subscription_ids, std::string& out);

        std::string client_id;
        uint64_t seq = 0;
        std::string value;
        core::MessagePtr message;  // immutable, read by the writer thread
        Fields fields;
        // The entry's first write (its seq was never stored before). Lets a group commit drop
        // an entry created and erased within it without writing anything.
        bool creates = false;
    };
    struct EraseQueued {
        std::string client_id;
        uint64_t seq;
    };
    struct PutIncomingQos2 {
        std::string client_id;
        uint16_t packet_id;
    };
    struct EraseIncomingQos2 {
        std::string client_id;
        uint16_t packet_id;
    };
    struct AppendHistory {
        HistoryRecord entry;
    };
    using Op = std::variant<PutRetained, EraseRetained, PutSession, EraseSession, PutQueued,
                            EraseQueued, PutIncomingQos2, EraseIncomingQos2, AppendHistory>;

    void add(Op&& op) { _ops.push_back(std::move(op)); }
    void reserve(std::size_t ops) { _ops.reserve(ops); }
    // Nobody waits for this batch but acknowledgements that may instead follow the subscribers'
    // (no action chained on it): it may wait out the store's write delay.
    void allow_delay() noexcept { _may_wait = true; }
    bool may_wait() const noexcept { return _may_wait; }
    bool empty() const noexcept { return _ops.empty(); }
    std::size_t size() const noexcept { return _ops.size(); }
    const std::vector<Op>& ops() const noexcept { return _ops; }
    std::vector<Op>& ops() noexcept { return _ops; }

  private:
    std::vector<Op> _ops;
    bool _may_wait = false;
};

// Receives the stored state at start-up, in this order: retained, sessions, then each session's
// queue entries (ascending seq) and incoming QoS 2 ids. Expired sessions, expired messages and
// history past its policy are removed during load and not visited.
class LoadVisitor {
  public:
    virtual ~LoadVisitor() = default;
    virtual void retained(MessageRecord&& message) = 0;
    virtual void session(SessionRecord&& session) = 0;
    virtual void queued(const std::string& client_id, QueuedRecord&& entry) = 0;
    virtual void incoming_qos2(const std::string& client_id, uint16_t packet_id) = 0;
};

struct LoadSummary {
    uint64_t retained = 0;
    uint64_t sessions = 0;
    uint64_t queued = 0;
    uint64_t history = 0;
    uint64_t expired_removed = 0;
    uint64_t milliseconds = 0;
};

struct StoreStats {
    uint64_t batches_committed = 0;  // write batches handed to the database
    uint64_t commits = 0;            // group commits (one per writer wake-up)
    uint64_t largest_group = 0;      // most batches in one group commit
    uint64_t ops_written = 0;
    // Queue entries (and incoming QoS 2 ids) created and erased while waiting to be written:
    // their operations, never written (see StorageSettings::write_delay).
    uint64_t ops_cancelled = 0;
    uint64_t commit_latency_us_sum = 0;
    std::vector<uint64_t>
        commit_latency_buckets;  // Prometheus-style, bounds in latency_bounds_us()
    static const std::vector<uint64_t>& latency_bounds_us();
    // Cumulative like Prometheus `le` buckets: commit_latency_buckets[i] counts the commits that
    // took at most latency_bounds_us()[i]; one more, last bucket (+Inf) counts every commit.
    uint64_t retained_messages = 0;  // retained messages stored (the broker enforces the limits)
    uint64_t retained_bytes = 0;     // their topic + payload bytes
    // Group commits that failed even after retries (logged). Their `done` callbacks still ran:
    // the interface has no way to report a failure, and a broker waiting forever is worse.
    uint64_t write_errors = 0;
};

class StorageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Thread-safe unless stated.
class Store {
  public:
    virtual ~Store() = default;

    // Queues `batch` for the writer thread and returns at once. `done` runs on the writer thread
    // after the batch is durable for the configured durability (after the group's fsync for
    // Sync); it must be cheap (post to a loop). Batches commit in submission order.
    virtual void submit(WriteBatch&& batch, std::function<void()> done) = 0;

    // Start-up only, before any submit(): streams the stored state into `visitor`.
    virtual LoadSummary load(LoadVisitor& visitor) = 0;

    // The history of one topic with seq > after_seq, oldest first, at most `limit` entries.
    virtual std::vector<HistoryRecord> read_history(std::string_view topic, uint64_t after_seq,
                                                    std::size_t limit) = 0;
    // Topics with history matching `filter` (wildcards allowed), including topics whose entries
    // were all trimmed (their trimmed_through() tells a resuming reader what it missed).
    virtual std::vector<std::string> history_topics(std::string_view filter) = 0;
    // The highest seq the history policy dropped from `topic` (count or age, including entries
    // past their age that wait for lazy trimming); 0 when none. A reader resuming after seq S
    // missed something when this is > S. Survives restarts with RocksDB.
    virtual uint64_t history_trimmed_through(std::string_view topic) = 0;

    // The node epoch (incremented on each start) and the next history sequence number.
    virtual uint64_t epoch() const = 0;
    // After load(): one past the largest history seq stored (1 when there is none), so the broker
    // continues the sequence across restarts (history keys sort by seq within a topic).
    virtual uint64_t next_history_seq() const = 0;

    virtual StoreStats stats() const = 0;

    // Operations submitted and not yet committed (thread-safe; 0 for stores without a writer).
    virtual uint64_t backlog_ops() const noexcept { return 0; }
    // Runs `listener` on the writer thread after each commit that leaves at most `low_water`
    // operations queued (see CommitQueue). Set before the first submit().
    virtual void set_drained_listener(uint64_t low_water, std::function<void()> listener) {
        (void)low_water;
        (void)listener;
    }

    // Waits for every submitted batch to complete and stops the writer. Idempotent.
    virtual void close() = 0;
};

// Opens (creating if needed) the RocksDB database under settings.data_dir. Throws StorageError
// naming the path and RocksDB's reason when it cannot be opened or read; never starts empty
// over an existing database it cannot read.
std::unique_ptr<Store> open_rocksdb_store(const StorageSettings& settings);

// A store that keeps everything in memory (durability "memory", and unit tests).
std::unique_ptr<Store> make_memory_store(const StorageSettings& settings);

// Durability Memory → make_memory_store, otherwise open_rocksdb_store.
std::unique_ptr<Store> open_store(const StorageSettings& settings);

// Runs RocksDB's repair on the database under `data_dir` (tern --repair). Throws StorageError.
void repair_rocksdb_store(const std::string& data_dir);

}  // namespace tern::storage
