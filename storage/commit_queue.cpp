// The single writer thread of a store: queued batches committed as one group per wake-up.
#include "commit_queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <variant>

#include "group_coalescer.hpp"

namespace tern::storage {

CommitQueue::CommitQueue(CommitFunction commit, std::chrono::milliseconds write_delay)
    : _commit(std::move(commit)),
      _write_delay(write_delay),
      _coalescer(std::make_unique<GroupCoalescer>()) {
    _stats.commit_latency_buckets.assign(StoreStats::latency_bounds_us().size() + 1, 0);
    _writer = std::thread([this] { run(); });
}

CommitQueue::~CommitQueue() {
    close();
}

void CommitQueue::submit(WriteBatch&& batch, std::function<void()> done) {
    {
        std::lock_guard lock(_mutex);
        if (_closing) {
            throw StorageError("storage: submit() after close()");
        }
        _backlog_ops.fetch_add(batch.size(), std::memory_order_relaxed);
        _queue.push_back(Pending{std::move(batch), std::move(done)});
    }
    _wake.notify_one();
}

void CommitQueue::close() {
    std::lock_guard close_lock(_close_mutex);
    {
        std::lock_guard lock(_mutex);
        _closing = true;
    }
    _wake.notify_one();
    if (_writer.joinable()) {
        _writer.join();
    }
}

void CommitQueue::set_drained_listener(uint64_t low_water, std::function<void()> listener) {
    _drained_low_water = low_water;
    _drained = std::move(listener);
}

StoreStats CommitQueue::stats() const {
    std::lock_guard lock(_stats_mutex);
    return _stats;
}

namespace {

// Whether every operation of `batch` creates or erases a queue entry: what a subscriber's
// acknowledgement can make moot. Anything else (a session, a retained message, a QoS 2 state
// change that gates a send) is written without waiting.
bool only_queue_entries(const WriteBatch& batch) {
    for (const WriteBatch::Op& op : batch.ops()) {
        const auto* put = std::get_if<WriteBatch::PutQueued>(&op);
        if (!(put != nullptr && put->creates) &&
            !std::holds_alternative<WriteBatch::EraseQueued>(op)) {
            return false;
        }
    }
    return true;
}

}  // namespace

void CommitQueue::run() {
    std::vector<Pending> arrived;
    std::vector<Pending> group;
    for (;;) {
        bool closing = false;
        {
            std::unique_lock lock(_mutex);
            auto woken = [this] { return !_queue.empty() || _closing; };
            if (_window.empty()) {
                _wake.wait(lock, woken);
            } else {
                // The front waits for its delay (anything before a batch that may not wait, or
                // with nothing left to write, was taken at the last wake-up). New batches wake
                // the writer at once: their erases may complete waiting batches. (Ticking every
                // 0.25 or 1 ms instead saved wake-ups and gained 3-8% on 50 pairs, but lost
                // 4-14% on fan-in, where the PUBACKs' extra latency counts.)
                _wake.wait_until(lock, _window.front().due, woken);
            }
            if (_queue.empty() && _window.empty()) {
                return;  // closing and drained
            }
            // Group commit: everything that arrived while the previous group was being written.
            arrived.swap(_queue);
            closing = _closing;
        }
        const Clock::time_point now = Clock::now();
        const std::size_t admitted = arrived.size();
        std::size_t arrived_ops = 0;
        for (const Pending& pending : arrived) {
            arrived_ops += pending.batch.size();
        }
        const std::size_t cancelled = admit(arrived, now);
        arrived.clear();
        if (cancelled != 0) {
            std::lock_guard lock(_stats_mutex);
            _stats.ops_cancelled += cancelled;
        }
        const std::size_t ready = ready_prefix(now, closing);
        for (std::size_t index = 0; index < ready; ++index) {
            _coalescer->remove(_window.front());  // before the batch moves: keys view into it
            _window_ops -= _window.front().batch.size();
            group.push_back(std::move(_window.front()));
            _window.pop_front();
        }
        if (Pending early = take_erases(std::min(admitted, _window.size()), now); early.live != 0) {
            group.push_back(std::move(early));
        }
        // The backlog is what the writer has to write now: the arrivals leave it, the group
        // joins it until committed. New entries that wait (all the window holds now) are not
        // counted: the delay bounds them, and a subscriber's acknowledgement may cancel them.
        std::size_t group_ops = 0;
        for (const Pending& pending : group) {
            group_ops += pending.live;
        }
        const uint64_t left =
            group_ops >= arrived_ops
                ? _backlog_ops.fetch_add(group_ops - arrived_ops, std::memory_order_relaxed) +
                      (group_ops - arrived_ops)
                : _backlog_ops.fetch_sub(arrived_ops - group_ops, std::memory_order_relaxed) -
                      (arrived_ops - group_ops);
        if (group.empty()) {
            report_drained(left);
        } else {
            commit_group(group);
            group.clear();
        }
    }
}

CommitQueue::Pending CommitQueue::take_erases(std::size_t newest, Clock::time_point now) {
    // A waiting batch holds new queue entries, which may yet be cancelled, and erases of entries
    // already stored (an erase of one still waiting cancelled it), which nothing will cancel.
    // Those are written now: held back with their batch, they would hold its completion, and
    // the acknowledgements behind it, for the whole delay.
    Pending early;
    for (std::size_t index = _window.size() - newest; index < _window.size(); ++index) {
        Pending& pending = _window[index];
        if (pending.due <= now || pending.stored_erases == 0) {
            continue;
        }
        pending.stored_erases = 0;
        std::vector<WriteBatch::Op>& ops = pending.batch.ops();
        for (std::size_t op = 0; op < ops.size(); ++op) {
            if (!pending.skip[op] && std::holds_alternative<WriteBatch::EraseQueued>(ops[op])) {
                early.batch.add(std::move(ops[op]));  // left behind, skipped, never read again
                pending.skip[op] = true;
                --pending.live;
            }
        }
    }
    early.skip.assign(early.batch.size(), false);
    early.live = early.batch.size();
    return early;
}

std::size_t CommitQueue::admit(std::vector<Pending>& arrived, Clock::time_point now) {
    std::size_t cancelled = 0;
    for (Pending& pending : arrived) {
        Pending& admitted = _window.emplace_back(std::move(pending));
        _window_ops += admitted.batch.size();
        ++_admitted;
        admitted.skip.assign(admitted.batch.size(), false);
        admitted.live = admitted.batch.size();
        const bool waits = _write_delay.count() != 0 && admitted.batch.may_wait() &&
                           only_queue_entries(admitted.batch);
        admitted.due = waits ? now + _write_delay : now;
        if (!waits) {
            _must_write_to = _admitted;
        }
        cancelled += _coalescer->add(admitted);
        if (admitted.must_write) {
            _must_write_to = _admitted;
        }
    }
    return cancelled;
}

std::size_t CommitQueue::ready_prefix(Clock::time_point now, bool closing) const {
    if (closing) {
        return _window.size();
    }
    // Through the last batch that may not wait (everything before it is written with it)...
    const uint64_t first_admitted = _admitted - _window.size();
    const std::size_t forced =
        _must_write_to > first_admitted ? _must_write_to - first_admitted : 0;
    // ... then every batch whose delay is over (dues grow with admission order) or that has
    // nothing left to write, and as many more as it takes to bring the window back under its
    // bound.
    std::size_t ready = 0;
    std::size_t kept_ops = _window_ops;
    while (ready < _window.size() && (ready < forced || _window[ready].due <= now ||
                                      _window[ready].live == 0 || kept_ops > kMaxWindowOps)) {
        kept_ops -= _window[ready].batch.size();
        ++ready;
    }
    return ready;
}

void CommitQueue::commit_group(std::vector<Pending>& group) {
    std::size_t live = 0;  // what the backlog still counts of the group
    for (const Pending& pending : group) {
        live += pending.live;
    }
    if (live != 0) {
        _coalescer->plan_group(group);
        std::size_t written = 0;
        for (const Pending& pending : group) {
            written += pending.live;
        }
        auto started = Clock::now();
        bool failed = false;
        try {
            _commit(group);
        } catch (const std::exception& error) {
            failed = true;
            spdlog::error("storage: commit of {} batches failed: {}", group.size(), error.what());
        }
        auto elapsed = Clock::now() - started;
        record(group.size(), written,
               static_cast<uint64_t>(
                   std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
               failed);
    }
    const uint64_t left = _backlog_ops.fetch_sub(live, std::memory_order_relaxed) - live;
    complete(group);
    report_drained(left);
}

void CommitQueue::complete(std::vector<Pending>& group) {
    for (Pending& pending : group) {
        if (!pending.done) {
            continue;
        }
        try {
            pending.done();
        } catch (const std::exception& error) {
            spdlog::error("storage: a commit callback threw: {}", error.what());
        }
    }
}

void CommitQueue::report_drained(uint64_t left) {
    if (_drained && left <= _drained_low_water) {
        _drained();
    }
}

void CommitQueue::record(std::size_t batches, std::size_t ops, uint64_t latency_us, bool failed) {
    const std::vector<uint64_t>& bounds = StoreStats::latency_bounds_us();
    std::lock_guard lock(_stats_mutex);
    _stats.batches_committed += batches;
    _stats.commits += 1;
    _stats.largest_group = std::max<uint64_t>(_stats.largest_group, batches);
    _stats.ops_written += ops;
    _stats.commit_latency_us_sum += latency_us;
    _stats.write_errors += failed ? 1 : 0;
    // Cumulative buckets: every bound at or above the latency counts it, and so does +Inf.
    for (std::size_t index = 0; index < bounds.size(); ++index) {
        if (latency_us <= bounds[index]) {
            _stats.commit_latency_buckets[index] += 1;
        }
    }
    _stats.commit_latency_buckets.back() += 1;
}

}  // namespace tern::storage
