// The RocksDB store: one column family per record kind, a group-committing writer thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "commit_queue.hpp"
#include "store.hpp"

namespace rocksdb {
class ColumnFamilyHandle;
struct ColumnFamilyDescriptor;
struct DBOptions;
class DB;
class Iterator;
class Status;
class WriteBatch;
}  // namespace rocksdb

namespace tern::storage {

// The column families, in this order; the names are the on-disk ones.
inline constexpr std::array<const char*, 6> kColumnFamilyNames{"retained",      "sessions", "queue",
                                                               "incoming_qos2", "history",  "meta"};

// Receives everything stored, exactly as stored (tern-db): nothing is expired, trimmed or
// rewritten, and orphans are visited too. Order: meta, retained, sessions, queue entries (by
// client id, then seq), incoming QoS 2 ids, history (by topic, then seq).
class InspectVisitor : public LoadVisitor {
  public:
    virtual void meta(uint64_t format_version, uint64_t epoch) = 0;
    virtual void history(HistoryRecord&& entry) = 0;
};

// Which families inspect() reads (a bit mask).
enum InspectPart : unsigned {
    kInspectRetained = 1,
    kInspectSessions = 2,
    kInspectQueue = 4,
    kInspectIncomingQos2 = 8,
    kInspectHistory = 16,
    kInspectAll = 31,
};

// The id of another process holding the RocksDB lock of `data_dir` (a running broker), if any.
// The lock is a POSIX record lock on DIR/LOCK; this process's own locks are not reported.
std::optional<long> rocksdb_lock_holder(const std::string& data_dir);

class RocksDbStore final : public Store {
  public:
    enum class Mode {
        ReadWrite,  // the broker: takes the lock, creates what is missing, runs the writer thread
        ReadOnly,   // tern-db: no lock, no writer, nothing created or changed
    };

    // Opens the database under settings.data_dir. Creates it only when the directory is missing
    // or holds no database file at all; anything unreadable throws StorageError("cannot open
    // RocksDB at PATH: REASON"), as does a format version this build does not read.
    static std::unique_ptr<RocksDbStore> open(const StorageSettings& settings,
                                              Mode mode = Mode::ReadWrite);
    ~RocksDbStore() override;
    RocksDbStore(const RocksDbStore&) = delete;
    RocksDbStore& operator=(const RocksDbStore&) = delete;

    // ReadWrite only (StorageError otherwise).
    void submit(WriteBatch&& batch, std::function<void()> done) override;
    // ReadWrite only. Increments and persists the epoch, then applies the start-up rules (see
    // retention.hpp), deleting what they drop. Throws StorageError naming the path on a read
    // error or an undecodable record. Afterwards stats() counts the retained messages.
    LoadSummary load(LoadVisitor& visitor) override;
    std::vector<HistoryRecord> read_history(std::string_view topic, uint64_t after_seq,
                                            std::size_t limit) override;
    std::vector<std::string> history_topics(std::string_view filter) override;
    uint64_t history_trimmed_through(std::string_view topic) override;
    uint64_t epoch() const override { return _epoch.load(); }
    uint64_t next_history_seq() const override { return _next_history_seq.load(); }
    StoreStats stats() const override;
    uint64_t backlog_ops() const noexcept override { return _queue ? _queue->backlog_ops() : 0; }
    void set_drained_listener(uint64_t low_water, std::function<void()> listener) override {
        if (_queue) {
            _queue->set_drained_listener(low_water, std::move(listener));
        }
    }
    // Drains the writer, flushes the memtables and closes the database. Reads after close()
    // return nothing. Errors are logged, not thrown (close() also runs from the destructor).
    void close() override;

    // Streams every record of the `parts` families as stored (any mode), after meta. Throws
    // StorageError on a read error or an undecodable record.
    void inspect(InspectVisitor& visitor, unsigned parts = kInspectAll) const;

    const std::string& path() const noexcept { return _path; }
    uint64_t format_version() const noexcept { return _format_version; }

  private:
    enum Family : std::size_t { kRetained, kSessions, kQueue, kIncomingQos2, kHistory, kMeta };
    // A topic's history entries (seq, timestamp) in seq order, known to the writer thread.
    using HistoryIndex = std::deque<std::pair<uint64_t, UnixMillis>>;

    RocksDbStore(const StorageSettings& settings, Mode mode);
    [[noreturn]] void refuse(const std::string& reason) const;
    void check_table_files(const rocksdb::DBOptions& options,
                           const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors) const;
    bool prepare_directory() const;
    void open_database();
    void read_meta();
    bool has_data() const;
    rocksdb::ColumnFamilyHandle* family(Family which) const { return _families[which]; }
    [[noreturn]] void fail(std::string_view doing, const rocksdb::Status& status) const;
    void check_iterator(const rocksdb::Iterator& iterator, std::string_view family_name) const;
    void write(rocksdb::WriteBatch& batch, bool sync);

    // Writer thread.
    void commit(std::vector<CommitQueue::Pending>& group);
    void append_history(rocksdb::WriteBatch& batch, const HistoryRecord& entry, UnixMillis now);
    HistoryIndex read_history_index(const std::string& topic) const;
    // The meta record holding the highest seq trimmed from a topic's history (0 when none).
    static std::string trimmed_mark_key(std::string_view topic);
    uint64_t read_trimmed_mark(std::string_view topic) const;

    // load() steps (rocksdb_load.cpp).
    class LoadBatch;
    void load_retained(LoadVisitor& visitor, LoadBatch& cleanup, LoadSummary& summary,
                       UnixMillis now);
    std::vector<std::string> load_sessions(LoadVisitor& visitor, LoadBatch& cleanup,
                                           LoadSummary& summary, UnixMillis now);
    void load_session_queue(LoadVisitor& visitor, const std::string& client_id, LoadBatch& cleanup,
                            LoadSummary& summary, UnixMillis now);
    void remove_orphans(Family which, const std::vector<std::string>& clients, LoadBatch& cleanup);
    void load_history(LoadBatch& cleanup, LoadSummary& summary, UnixMillis now);

    StorageSettings _settings;
    Mode _mode;
    std::string _path;
    mutable std::shared_mutex _db_mutex;  // readers vs close()
    std::unique_ptr<rocksdb::DB> _db;
    std::vector<rocksdb::ColumnFamilyHandle*> _handles;  // every open family, owned
    std::array<rocksdb::ColumnFamilyHandle*, kColumnFamilyNames.size()> _families{};
    uint64_t _format_version = 0;
    std::atomic<uint64_t> _epoch{0};
    std::atomic<uint64_t> _next_history_seq{1};

    // Writer-thread state (load() fills it before any submit()).
    std::unordered_map<std::string, HistoryIndex> _history_index;
    std::unordered_map<std::string, uint64_t> _history_trimmed;  // cache of the meta records
    std::unordered_map<std::string, uint64_t> _retained_sizes;   // topic → topic + payload bytes
    std::atomic<uint64_t> _retained_count{0};
    std::atomic<uint64_t> _retained_bytes{0};

    std::unique_ptr<CommitQueue> _queue;  // ReadWrite only; stopped first in close()
};

}  // namespace tern::storage
