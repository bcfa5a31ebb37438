// The single writer thread of a store: queued batches committed as one group per wake-up.
#include "commit_queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace tern::storage {

CommitQueue::CommitQueue(CommitFunction commit) : _commit(std::move(commit)) {
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

void CommitQueue::run() {
    std::vector<Pending> group;
    for (;;) {
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [this] { return !_queue.empty() || _closing; });
            if (_queue.empty()) {
                return;  // closing and drained
            }
            // Group commit: everything that arrived while the previous group was being written.
            group.swap(_queue);
        }
        commit_group(group);
        group.clear();
    }
}

void CommitQueue::commit_group(std::vector<Pending>& group) {
    std::size_t ops = 0;
    for (const Pending& pending : group) {
        ops += pending.batch.size();
    }
    auto started = std::chrono::steady_clock::now();
    bool failed = false;
    try {
        _commit(group);
    } catch (const std::exception& error) {
        failed = true;
        spdlog::error("storage: commit of {} batches failed: {}", group.size(), error.what());
    }
    auto elapsed = std::chrono::steady_clock::now() - started;
    record(group.size(), ops,
           static_cast<uint64_t>(
               std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()),
           failed);
    const uint64_t left = _backlog_ops.fetch_sub(ops, std::memory_order_relaxed) - ops;
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
