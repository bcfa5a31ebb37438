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
    if (_loop.storage_hold() || _loop.broker().congested_loops() != 0) {
        return true;
    }
    // A client whose own session is behind must read: its acknowledgements are what drains it
    // (two clients publishing to each other would otherwise wait for each other forever).
    return paused_for_subscriber() &&
           !(_slot != nullptr &&
             _slot->session.subscriber.congested.load(std::memory_order_relaxed));
}

bool Connection::paused_for_subscriber() const noexcept {
    return _paused_epoch != 0 && _paused_epoch == _loop.broker().drain_epoch();
}

void Connection::park_if_held() {
    if (_reads_parked || _closing || _handle_closed || !(_parsing_stopped || reads_held())) {
        return;
    }
    // Stop polling the socket (it stays readable): libuv allows this in the read callback, not
    // in the allocation callback.
    _reads_parked = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&_handle));
    _loop.park_reader(this);
    if (paused_for_subscriber()) {
        LoopStats::add(_loop.stats().publisher_pauses, 1);
    }
}

void Connection::resume_reading() {
    _paused_epoch = 0;
    _parsing_stopped = false;
    if (!_reads_parked || _closing || _handle_closed) {
        return;
    }
    if (reads_held()) {
        _loop.park_reader(this);  // still held (storage, a congested loop): wait for the next
        return;
    }
    _reads_parked = false;
    const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&_handle), &Connection::on_alloc,
                                 &Connection::on_read);
    if (rc != 0) {
        close(uv_strerror(rc));
        return;
    }
    try {
        // Frames read before the pause: the client may be waiting for their acknowledgements and
        // send nothing more.
        if (!_pending.empty()) {
            consume(nullptr, 0, false);
        }
        if (_transport && !_closing) {
            pull_transport();
        }
        park_if_held();
    } catch (const std::exception& error) {
        spdlog::error("client {} ({}): {}", client_id(), _peer, error.what());
        disconnect(codec::ReasonCode::ImplementationSpecificError, "internal error");
    }
}

void WorkerLoop::park_reader(Connection* connection) {
    _parked_readers.push_back(connection->id());
}

void WorkerLoop::release_held_reads() {
    std::vector<uint64_t> parked;
    parked.swap(_parked_readers);
    for (const uint64_t id : parked) {
        if (Connection* connection = find_connection(id)) {
            connection->resume_reading();  // parks again (re-registers) if still held
        }
    }
}

void WorkerLoop::mark_congested(SessionSlot& slot) {
    core::SubscriberState& state = slot.session.subscriber;
    state.congested.store(true, std::memory_order_relaxed);
    _congested_sessions.push_back(slot.session.uid());
    LoopStats::add(_stats.slow_subscribers, 1);
    spdlog::debug("client {}: behind ({} queued, {} bytes unsent): pausing its publishers",
                  slot.session.client_id(), slot.session.queued_count(),
                  slot.connection->output_backlog());
    // If the subscriber itself is paused as a publisher, it must read its acknowledgements now
    // (reads_held() no longer holds it); not from here, in the middle of a delivery.
    post([](WorkerLoop& loop) { loop.release_held_reads(); });
}

void WorkerLoop::check_congested_sessions() {
    if (_congested_sessions.empty()) {
        return;
    }
    // Hysteresis: publishers resume once the subscriber is back under half its high-water marks
    // (or gone, or offline, where the queue limits and their policy apply instead).
    const auto before = _congested_sessions.size();
    std::erase_if(_congested_sessions, [this](uint64_t uid) {
        SessionSlot* slot = find_session(uid);
        if (slot == nullptr) {
            return true;
        }
        if (slot->connection != nullptr && !slot->connection->closing() &&
            subscriber_behind(*slot, 2)) {
            return false;
        }
        slot->session.subscriber.congested.store(false, std::memory_order_relaxed);
        return true;
    });
    if (_congested_sessions.size() != before) {
        _broker.subscribers_drained();
    }
}

void Broker::subscribers_drained() {
    // Before the posts: a release task then always finds the pauses it ends already stale.
    if (_drain_epoch.fetch_add(1, std::memory_order_acq_rel) + 1 == 0) {
        _drain_epoch.fetch_add(1, std::memory_order_acq_rel);  // 0 means "not paused"
    }
    for (auto& loop : _loops) {
        loop->post([](WorkerLoop& target) { target.release_held_reads(); });
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
