// A Store that keeps everything in maps: durability "memory", and the reference for the tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>

#include "commit_queue.hpp"
#include "store.hpp"

namespace tern::storage {

// Same semantics as the RocksDB store, nothing on disk. Batches go through the same writer
// thread (CommitQueue), so `done` runs on that thread after the batch is applied, never inline
// in submit(): callers cannot come to rely on an inline completion the RocksDB store lacks.
// load() may be called again to re-run the start-up rules (expiry, history trim, epoch + 1) over
// the current contents, which is how the tests "restart" it.
class MemoryStore final : public Store {
  public:
    explicit MemoryStore(const StorageSettings& settings);
    ~MemoryStore() override;

    void submit(WriteBatch&& batch, std::function<void()> done) override;
    // Applies `batch` on the caller's thread before returning. Only for a store no other writer
    // depends on ordering with: the memory-only history, whose readers must find every entry
    // whose publisher was already acknowledged (there is no commit to hold the PUBACK for).
    void apply_now(WriteBatch&& batch);
    LoadSummary load(LoadVisitor& visitor) override;
    std::vector<HistoryRecord> read_history(std::string_view topic, uint64_t after_seq,
                                            std::size_t limit) override;
    std::vector<std::string> history_topics(std::string_view filter) override;
    uint64_t history_trimmed_through(std::string_view topic) override;
    uint64_t epoch() const override { return _epoch.load(); }
    uint64_t next_history_seq() const override { return _next_history_seq.load(); }
    StoreStats stats() const override;
    uint64_t backlog_ops() const noexcept override { return _queue.backlog_ops(); }
    void set_drained_listener(uint64_t low_water, std::function<void()> listener) override {
        _queue.set_drained_listener(low_water, std::move(listener));
    }
    void close() override { _queue.close(); }

  private:
    struct Contents;
    struct LoadedSession;
    void apply(std::vector<CommitQueue::Pending>& group);
    std::vector<LoadedSession> load_sessions(UnixMillis now, LoadSummary& summary);
    uint64_t load_history(UnixMillis now);

    StorageSettings _settings;
    mutable std::shared_mutex _mutex;
    std::unique_ptr<Contents> _contents;
    std::atomic<uint64_t> _epoch{0};
    std::atomic<uint64_t> _next_history_seq{1};
    CommitQueue _queue;  // last: its thread stops before the contents go
};

}  // namespace tern::storage
