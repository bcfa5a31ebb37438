// The single writer thread of a store: queued batches committed as one group per wake-up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store.hpp"

namespace tern::storage {

// Thread-safe. submit() may be called from any thread; `commit` and every `done` run on the
// writer thread, in submission order. close() must not be called from a `done` callback.
class CommitQueue {
  public:
    struct Pending {
        WriteBatch batch;
        std::function<void()> done;
    };
    // Makes one group of batches durable, in order. An exception is logged and counted as a
    // write error; the group's callbacks still run (see StoreStats::write_errors).
    using CommitFunction = std::function<void(std::vector<Pending>& group)>;

    // Starts the writer thread.
    explicit CommitQueue(CommitFunction commit);
    ~CommitQueue();
    CommitQueue(const CommitQueue&) = delete;
    CommitQueue& operator=(const CommitQueue&) = delete;

    // Queues a batch. Throws StorageError once close() has begun.
    void submit(WriteBatch&& batch, std::function<void()> done);

    // Commits everything queued, then stops and joins the writer thread. Idempotent.
    void close();

    // Commit counters and latency histogram (retained counts are left to the store).
    StoreStats stats() const;

    // Operations submitted and not yet committed (thread-safe): producers slow down past a
    // limit instead of letting the backlog, its memory and the acknowledgement latency grow.
    uint64_t backlog_ops() const noexcept { return _backlog_ops.load(std::memory_order_relaxed); }
    // `listener` runs on the writer thread after each group commit that leaves at most
    // `low_water` operations queued. Set before the first submit().
    void set_drained_listener(uint64_t low_water, std::function<void()> listener);

  private:
    void run();
    void commit_group(std::vector<Pending>& group);
    void record(std::size_t batches, std::size_t ops, uint64_t latency_us, bool failed);

    CommitFunction _commit;
    std::mutex _mutex;
    std::condition_variable _wake;
    std::vector<Pending> _queue;
    bool _closing = false;
    std::mutex _close_mutex;  // serializes close() callers around the join
    mutable std::mutex _stats_mutex;
    StoreStats _stats;
    std::atomic<uint64_t> _backlog_ops{0};
    uint64_t _drained_low_water = 0;
    std::function<void()> _drained;
    std::thread _writer;
};

}  // namespace tern::storage
