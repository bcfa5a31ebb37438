// Backpressure by not reading: while the storage writer is far behind, connections stop reading
// their sockets, so publishers wait in TCP (and their own flow control) instead of the broker
// buffering an unbounded backlog of messages, write batches and acknowledgements.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker.hpp"
#include "connection.hpp"
#include "message_sink.hpp"
#include "worker_loop.hpp"

namespace tern::net {

bool Connection::reads_held() const noexcept {
    return _loop.storage_hold() || _loop.broker().congested_loops() != 0;
}

void Connection::resume_reading() {
    if (!_reads_parked || _closing || _handle_closed) {
        return;
    }
    _reads_parked = false;
    const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&_handle), &Connection::on_alloc,
                                 &Connection::on_read);
    if (rc != 0) {
        close(uv_strerror(rc));
    }
}

void WorkerLoop::park_reader(Connection* connection) {
    _parked_readers.push_back(connection->id());
}

void WorkerLoop::release_held_reads() {
    std::vector<uint64_t> parked;
    parked.swap(_parked_readers);
    for (const uint64_t id : parked) {
        Connection* connection = find_connection(id);
        if (connection == nullptr) {
            continue;  // closed meanwhile
        }
        if (connection->reads_held()) {
            _parked_readers.push_back(id);
        } else {
            connection->resume_reading();
        }
    }
}

void WorkerLoop::check_storage_backlog() {
    storage::Store* store = _broker.store();
    if (store == nullptr) {
        return;
    }
    const uint64_t backlog = store->backlog_ops();
    if (!storage_hold()) {
        if (backlog > kStorageBacklogHigh) {
            _storage_hold.store(true, std::memory_order_relaxed);
            LoopStats::add(_stats.storage_holds, 1);
            spdlog::debug("loop {}: storage backlog {} operations: reading paused", _index,
                          backlog);
        }
        return;
    }
    // Normally lifted by storage_drained(); this also covers a drain that finished between the
    // backlog read above and the hold being set.
    if (backlog <= kStorageBacklogLow) {
        _storage_hold.store(false, std::memory_order_relaxed);
        release_held_reads();
    }
}

std::size_t WorkerLoop::shed_for_overload(std::vector<RemoteDelivery>& batch) {
    // Called by another loop (the publisher's) on its own outbox; only atomics of this one.
    // QoS 0 may be lost [MQTT-4.3.1]; deliveries that carry an acknowledgement or a stored
    // queue entry never are: they stay, and reading pauses everywhere until this loop caught up.
    const auto kept = std::remove_if(batch.begin(), batch.end(), [](const RemoteDelivery& d) {
        return d.outgoing.qos == 0 && !d.barrier && d.prewritten_for.empty();
    });
    const auto shed = static_cast<std::size_t>(batch.end() - kept);
    batch.erase(kept, batch.end());
    if (shed != 0) {
        _overload_drops.fetch_add(shed, std::memory_order_relaxed);
        LoopStats::add(_stats.shed, shed);
    }
    if (!_inbox_congested.exchange(true, std::memory_order_acq_rel)) {
        _broker.loop_congested(true);
        spdlog::warn("loop {}: {} deliveries waiting: shedding QoS 0 and pausing reads", _index,
                     inbox_depth());
    }
    return shed;
}

void WorkerLoop::check_inbox_drained() {
    if (const uint64_t dropped = _overload_drops.exchange(0, std::memory_order_relaxed)) {
        // By uid: a sink told may close and unregister itself (or another one) meanwhile.
        std::vector<uint64_t> uids;
        uids.reserve(_sinks.size());
        for (const auto& entry : _sinks) {
            uids.push_back(entry.first);
        }
        for (const uint64_t uid : uids) {
            if (auto it = _sinks.find(uid); it != _sinks.end()) {
                it->second->on_overload(dropped);
            }
        }
    }
    if (_inbox_congested.load(std::memory_order_relaxed) && inbox_depth() <= kInboxLow &&
        _inbox_congested.exchange(false, std::memory_order_acq_rel)) {
        _broker.loop_congested(false);
    }
}

void Broker::loop_congested(bool congested) {
    if (congested) {
        _congested_loops.fetch_add(1, std::memory_order_acq_rel);
        return;
    }
    if (_congested_loops.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        for (auto& loop : _loops) {
            loop->post([](WorkerLoop& target) { target.release_held_reads(); });
        }
    }
}

void WorkerLoop::storage_drained() {
    if (!storage_hold() || _drain_posted.exchange(true, std::memory_order_acq_rel)) {
        return;
    }
    post([](WorkerLoop& loop) {
        loop._drain_posted.store(false, std::memory_order_release);
        loop.check_storage_backlog();
    });
}

}  // namespace tern::net
