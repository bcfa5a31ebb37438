// The single writer thread of a store: queued batches committed as one group per wake-up, after
// waiting up to a write delay for the acknowledgements that make their queue entries moot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store.hpp"

namespace tern::storage {

class GroupCoalescer;

// Thread-safe. submit() may be called from any thread; `commit` and every `done` run on the
// writer thread, in submission order. close() must not be called from a `done` callback.
//
// With a write delay, a batch that may wait (WriteBatch::may_wait) and holds only queue entries
// created or erased waits in memory until its delay has passed, unless a batch that may not wait
// comes after it (writes stay in submission order). A queue entry erased within that time
// (its subscribers acknowledged the message) is never written, and a batch left with nothing to
// write completes at once: its acknowledgements follow the subscribers' instead of the disk.
class CommitQueue {
  public:
    using Clock = std::chrono::steady_clock;
    struct Pending {
        WriteBatch batch;
        std::function<void()> done;
        // Writer-thread state: per operation, true = not written (cancelled or superseded; see
        // GroupCoalescer); the operations still to write; when it must be written at the latest.
        std::vector<bool> skip = {};
        std::size_t live = 0;
        Clock::time_point due = {};
        // Erases of queue entries already stored (GroupCoalescer::add): written early (see
        // take_erases), as nothing will cancel them.
        std::size_t stored_erases = 0;
        // Set by GroupCoalescer::add: written now, with every batch before it, however long it
        // could have waited.
        bool must_write = false;
    };
    // Makes one group of batches durable, in order, leaving out the operations marked in their
    // `skip`. An exception is logged and counted as a write error; the group's callbacks still
    // run (see StoreStats::write_errors).
    using CommitFunction = std::function<void(std::vector<Pending>& group)>;

    // Most operations the window holds (their memory is freed when their batch leaves it): past
    // this, the oldest batches are written before their delay is over. An operation takes 120
    // bytes (sizeof(WriteBatch::Op)), plus the message a waiting queue entry keeps alive (shared
    // with the session's queue while it is queued there): 30 MB of operations at most. 50
    // persistent pairs at ~1.3M msg/s with the default delay peaked 39 MiB above the same run
    // without storage (the window's own size was not measured).
    static constexpr std::size_t kMaxWindowOps = 256 * 1024;

    // Starts the writer thread.
    explicit CommitQueue(CommitFunction commit,
                         std::chrono::milliseconds write_delay = std::chrono::milliseconds{0});
    ~CommitQueue();
    CommitQueue(const CommitQueue&) = delete;
    CommitQueue& operator=(const CommitQueue&) = delete;

    // Queues a batch. Throws StorageError once close() has begun.
    void submit(WriteBatch&& batch, std::function<void()> done);

    // Commits everything queued, then stops and joins the writer thread. Idempotent.
    void close();

    // Commit counters and latency histogram (retained counts are left to the store).
    StoreStats stats() const;

    // Operations submitted and not yet committed, except new queue entries waiting out the write
    // delay (thread-safe): producers slow down past a limit instead of letting the backlog, its
    // memory and the acknowledgement latency grow.
    uint64_t backlog_ops() const noexcept { return _backlog_ops.load(std::memory_order_relaxed); }
    // `listener` runs on the writer thread after each group commit that leaves at most
    // `low_water` operations queued. Set before the first submit().
    void set_drained_listener(uint64_t low_water, std::function<void()> listener);

  private:
    void run();
    // Moves the batches that arrived into the window; returns the operations they cancelled.
    std::size_t admit(std::vector<Pending>& arrived, Clock::time_point now);
    // How many batches at the window's front are to be written (or completed) now.
    std::size_t ready_prefix(Clock::time_point now, bool closing) const;
    // Moves the erases out of the `newest` batches of the window that wait, into a batch to
    // write now.
    Pending take_erases(std::size_t newest, Clock::time_point now);
    void commit_group(std::vector<Pending>& group);
    void complete(std::vector<Pending>& group);
    void record(std::size_t batches, std::size_t ops, uint64_t latency_us, bool failed);
    void report_drained(uint64_t left);

    CommitFunction _commit;
    const Clock::duration _write_delay;
    // Writer thread only: batches submitted and not yet written, in order, and their coalescer.
    std::deque<Pending> _window;
    std::size_t _window_ops = 0;  // operations held by the window's batches, cancelled or not
    uint64_t _admitted = 0;       // batches ever admitted into the window
    uint64_t _must_write_to = 0;  // admitted count through the last batch that may not wait
    std::unique_ptr<GroupCoalescer> _coalescer;
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
