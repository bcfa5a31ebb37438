// Worker loop: thread, inbox drained by uv_async, end-of-iteration flush, the housekeeping tick.
#include "worker_loop.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker.hpp"
#include "connection.hpp"

namespace tern::net {

namespace {
constexpr std::size_t kReadBufferSize = 64 * 1024;
constexpr uint64_t kTickIntervalMs = 250;
constexpr uint32_t kParkedRetryTicks = 8;  // 2 s
}  // namespace

WorkerLoop::WorkerLoop(Broker& broker, uint32_t index)
    : _broker(broker),
      _index(index),
      _read_buffer(kReadBufferSize),
      _publish_token(std::make_shared<AckBarrier>(*this, 0, Acknowledgement{})),
      _persistence(*this, nullptr) {
    uv_loop_init(&_loop);
    _loop.data = this;
    uv_async_init(&_loop, &_async, &WorkerLoop::on_async);
    _async.data = this;
    uv_check_init(&_loop, &_check);
    _check.data = this;
    uv_timer_init(&_loop, &_tick);
    _tick.data = this;
    _outbox.resize(broker.loop_count() == 0 ? 1 : broker.loop_count());
    _pause_publishers = broker.settings().limits.pause_publishers;
    _slow_subscriber_bytes = broker.settings().limits.slow_subscriber_bytes;
}

WorkerLoop::~WorkerLoop() {
    join();
    close_unstarted();
    _by_uid.for_each([](SessionSlot& slot) { delete &slot; });
}

void WorkerLoop::close_unstarted() {
    if (_started || _closed) {
        return;
    }
    // The broker failed to start (a listener or the database): the loop never ran, so close its
    // handles here and let libuv release what it allocated.
    _closed = true;
    uv_walk(
        &_loop,
        [](uv_handle_t* handle, void*) {
            if (!uv_is_closing(handle)) {
                uv_close(handle, nullptr);
            }
        },
        nullptr);
    uv_run(&_loop, UV_RUN_DEFAULT);
    uv_loop_close(&_loop);
}

void WorkerLoop::start(Task on_start) {
    _started = true;
    _outbox.assign(_broker.loop_count(), {});
    _thread =
        std::thread([this, on_start = std::move(on_start)]() mutable { run(std::move(on_start)); });
}

void WorkerLoop::run(Task on_start) {
    uv_check_start(&_check, &WorkerLoop::on_check);
    uv_timer_start(&_tick, &WorkerLoop::on_tick, kTickIntervalMs, kTickIntervalMs);
    try {
        if (on_start) {
            on_start(*this);
        }
    } catch (const std::exception& error) {
        spdlog::critical("worker {}: start-up failed: {}", _index, error.what());
        _broker.request_stop();
    }
    uv_run(&_loop, UV_RUN_DEFAULT);
    // Every handle is closed by close_everything(); run until their close callbacks are done.
    while (uv_loop_close(&_loop) == UV_EBUSY) {
        uv_walk(
            &_loop,
            [](uv_handle_t* handle, void*) {
                if (!uv_is_closing(handle)) {
                    uv_close(handle, nullptr);
                }
            },
            nullptr);
        uv_run(&_loop, UV_RUN_DEFAULT);
    }
}

void WorkerLoop::stop() {
    {
        std::lock_guard lock(_inbox_mutex);
        _stop_requested = true;
    }
    uv_async_send(&_async);
}

void WorkerLoop::join() {
    if (_thread.joinable()) {
        _thread.join();
    }
}

void WorkerLoop::post(Task task) {
    {
        std::lock_guard lock(_inbox_mutex);
        _tasks.push_back(std::move(task));
    }
    uv_async_send(&_async);
}

void WorkerLoop::post_deliveries(std::vector<RemoteDelivery>&& batch) {
    _inbox_depth.fetch_add(batch.size(), std::memory_order_relaxed);
    {
        std::lock_guard lock(_inbox_mutex);
        if (_deliveries.empty()) {
            _deliveries.swap(batch);
        } else {
            std::move(batch.begin(), batch.end(), std::back_inserter(_deliveries));
            batch.clear();
        }
    }
    uv_async_send(&_async);
}

uv_buf_t WorkerLoop::read_buffer() noexcept {
    return uv_buf_init(_read_buffer.data(), static_cast<unsigned>(_read_buffer.size()));
}

core::MonoMillis WorkerLoop::now() noexcept {
    return uv_now(&_loop);
}

uint64_t WorkerLoop::add_connection(Connection* connection) {
    uint32_t slot = 0;
    if (_free_connection_slots.empty()) {
        slot = static_cast<uint32_t>(_connections.size());
        _connections.push_back(connection);
    } else {
        slot = _free_connection_slots.back();
        _free_connection_slots.pop_back();
        _connections[slot] = connection;
    }
    LoopStats::add(_stats.connections, 1);
    return (uint64_t{++_connection_seq} << 32) | slot;
}

void WorkerLoop::remove_connection(Connection* connection) {
    connection->release_limits();  // per-address count and memory cap
    const uint32_t slot = connection_slot(connection->id());
    if (slot < _connections.size() && _connections[slot] == connection) {
        _connections[slot] = nullptr;
        _free_connection_slots.push_back(slot);
        LoopStats::sub(_stats.connections, 1);
    }
    auto dirty = std::find(_dirty.begin(), _dirty.end(), connection);
    if (dirty != _dirty.end()) {
        *dirty = nullptr;
    }
}

Connection* WorkerLoop::find_connection(uint64_t id) {
    const uint32_t slot = connection_slot(id);
    if (slot >= _connections.size()) {
        return nullptr;
    }
    Connection* connection = _connections[slot];
    // The place may hold a later connection.
    return connection != nullptr && connection->id() == id ? connection : nullptr;
}

const AckBarrierPtr& WorkerLoop::shared_publishing_barrier() {
    if (!_local_publish) {
        return _publishing_barrier;
    }
    if (!_publishing_shared) {
        _publishing_shared =
            std::make_shared<AckBarrier>(*this, _publishing_connection, Acknowledgement{});
    }
    return _publishing_shared;
}

void WorkerLoop::begin_local_publish(uint64_t connection_id) {
    _local_publish = true;
    _publishing_connection = connection_id;
    _publish_in_batch = false;
}

WorkerLoop::PublishWrites WorkerLoop::end_local_publish() {
    PublishWrites writes{_publish_in_batch, std::move(_publishing_shared)};
    _publishing_shared = nullptr;
    _local_publish = false;
    _publish_in_batch = false;
    if (writes.in_batch && writes.shared) {
        // The writes this loop made count for the shared barrier too.
        _persistence.hold_until_committed(writes.shared);
    }
    return writes;
}

void WorkerLoop::acks_ready(uint64_t connection_id) {
    if (Connection* connection = find_connection(connection_id)) {
        connection->send_ready_acks();
    }
}

void WorkerLoop::mark_dirty(Connection* connection) {
    if (!connection->dirty) {
        connection->dirty = true;
        _dirty.push_back(connection);
    }
}

SessionSlot* WorkerLoop::find_session(std::string_view client_id) {
    return _by_client_id.find(client_id);
}

SessionSlot* WorkerLoop::find_session(uint64_t uid) {
    return _by_uid.find(uid);
}

SessionSlot& WorkerLoop::create_session(const std::string& client_id) {
    auto slot = std::make_unique<SessionSlot>(client_id, _broker.next_session_uid(), _index);
    // Callers destroy a session before making another with its client id.
    _by_uid.insert(slot.get());
    _by_client_id.insert(slot.get());
    LoopStats::add(_stats.sessions, 1);
    return *slot.release();  // owned by the loop until destroy_session()
}

void WorkerLoop::destroy_session(SessionSlot& slot) {
    core::Session& session = slot.session;
    for (const auto& [filter, options] : session.subscriptions) {
        _broker.subscriptions().unsubscribe(session.key(), filter);
    }
    if (session.persistent() || slot.stored) {
        _persistence.erase_session(session.client_id());
    }
    _by_client_id.erase(session.client_id());
    LoopStats::sub(_stats.sessions, 1);
    if (slot.tracked_queue_bytes != 0) {
        // Its queue goes with it.
        _broker.memory().add(_index, -static_cast<int64_t>(slot.tracked_queue_bytes));
    }
    _by_uid.erase(session.uid());
    delete &slot;
}

void WorkerLoop::add_sink(uint64_t uid, MessageSink* sink) {
    _sinks[uid] = sink;
}

void WorkerLoop::remove_sink(uint64_t uid) {
    _sinks.erase(uid);
}

void WorkerLoop::add_stop_hook(Task hook) {
    _stop_hooks.push_back(std::move(hook));
}

void WorkerLoop::deliver_remote(uint32_t loop, uint64_t uid, core::OutgoingMessage&& outgoing,
                                const AckBarrierPtr& barrier, std::string prewritten_for,
                                uint32_t transit_weight) {
    auto& batch = _outbox[loop];
    if (batch.empty()) {
        _outbox_targets.push_back(loop);
    }
    if (barrier) {
        barrier->hold();  // released by the target loop once it has recorded the delivery
        barrier->crossed_loops = true;
    }
    batch.push_back(RemoteDelivery{uid, std::move(outgoing), barrier, std::move(prewritten_for),
                                   transit_weight});
}

void WorkerLoop::on_async(uv_async_t* handle) noexcept {
    auto* self = static_cast<WorkerLoop*>(handle->data);
    try {
        self->drain_inbox();
    } catch (const std::exception& error) {
        spdlog::error("worker {}: inbox task failed: {}", self->_index, error.what());
    }
}

void WorkerLoop::drain_inbox() {
    // A burst's capacity is not kept for good (about 1 MiB at this size).
    constexpr std::size_t kRecycledCapacity = 8192;
    std::vector<Task> tasks;
    std::vector<RemoteDelivery>& deliveries = _draining;
    // Empty unless the previous drain threw halfway; those deliveries are dropped, as before.
    deliveries.clear();
    if (deliveries.capacity() > kRecycledCapacity) {
        std::vector<RemoteDelivery>().swap(deliveries);
    }
    bool stop_requested = false;
    {
        std::lock_guard lock(_inbox_mutex);
        tasks.swap(_tasks);
        deliveries.swap(_deliveries);
        stop_requested = _stop_requested;
    }
    end_transit(deliveries);
    for (auto& delivery : deliveries) {
        if (!delivery.prewritten_for.empty()) {
            settle_prewritten(delivery);
            continue;
        }
        deliver_local(delivery.session_uid, std::move(delivery.outgoing), delivery.barrier);
        if (delivery.barrier) {
            delivery.barrier->release();
        }
    }
    if (!deliveries.empty()) {
        _inbox_depth.fetch_sub(deliveries.size(), std::memory_order_relaxed);
        deliveries.clear();
        check_inbox_drained();
    }
    for (auto& task : tasks) {
        task(*this);
    }
    if (stop_requested && !_stopping) {
        close_everything();
    }
}

void WorkerLoop::end_transit(const std::vector<RemoteDelivery>& deliveries) {
    const uint32_t limit = _broker.slow_subscriber_messages();
    bool released = false;
    std::size_t i = 0;
    while (i < deliveries.size()) {
        const uint64_t uid = deliveries[i].session_uid;
        uint32_t count = 0;
        for (; i < deliveries.size() && deliveries[i].session_uid == uid; ++i) {
            count += deliveries[i].transit_weight;
        }
        if (count == 0) {
            continue;
        }
        // A session that ended took its counter with it.
        if (SessionSlot* slot = find_session(uid)) {
            const uint32_t before =
                slot->session.subscriber.in_transit.fetch_sub(count, std::memory_order_relaxed);
            // Publishers paused for the transit count (LocalRouter) may go on, unless the
            // session is behind itself (then they wait for check_congested_sessions()).
            released |= before > limit && before - count <= limit;
        }
    }
    if (released) {
        _broker.subscribers_drained();
    }
}

void WorkerLoop::on_check(uv_check_t* handle) noexcept {
    auto* self = static_cast<WorkerLoop*>(handle->data);
    // The batch first: queue entries this loop wrote for sessions of other loops must be ahead
    // of whatever those loops write about them once the deliveries arrive (the writer commits
    // batches in submission order).
    if (self->_persistence_dirty) {
        self->_persistence_dirty = false;
        self->_persistence.submit();
    }
    self->check_storage_backlog();
    self->flush_outbox();
    self->flush_dirty();
    self->check_congested_sessions();  // after the flush: what the sockets did not take
    self->_broker.memory().end_of_iteration(self->_index);
    ++self->_read_epoch;  // every connection may read its budget again
}

void WorkerLoop::settle_prewritten(RemoteDelivery& delivery) {
    const uint64_t seq = delivery.outgoing.store_seq;
    bool kept = false;
    deliver_local(delivery.session_uid, std::move(delivery.outgoing), nullptr, &kept);
    if (!kept) {
        // Not kept (the session ended or no longer persists, the message expired, was refused by
        // a full queue, the ACL or the client's maximum packet size): a restart must not bring it
        // back. This batch commits after the publisher's, which holds the entry.
        _persistence.add(storage::WriteBatch::EraseQueued{std::move(delivery.prewritten_for), seq});
    }
}

void WorkerLoop::flush_outbox() {
    for (uint32_t target : _outbox_targets) {
        WorkerLoop& loop = _broker.loop(target);
        if (loop.inbox_depth() > kInboxHigh && loop.shed_for_overload(_outbox[target]) != 0 &&
            _outbox[target].empty()) {
            continue;
        }
        loop.post_deliveries(std::move(_outbox[target]));
        _outbox[target].clear();
    }
    _outbox_targets.clear();
}

void WorkerLoop::flush_dirty() {
    // flush() may mark other connections dirty only via new deliveries, which cannot happen
    // here; iterate by index because remove_connection() may null entries.
    for (std::size_t i = 0; i < _dirty.size(); ++i) {
        Connection* connection = _dirty[i];
        if (connection != nullptr) {
            connection->dirty = false;
            connection->flush();
            connection->track_memory();  // what the socket did not take counts to the cap
        }
    }
    _dirty.clear();
}

void WorkerLoop::on_tick(uv_timer_t* handle) noexcept {
    auto* self = static_cast<WorkerLoop*>(handle->data);
    try {
        self->tick();
    } catch (const std::exception& error) {
        spdlog::error("worker {}: housekeeping failed: {}", self->_index, error.what());
    }
}

void WorkerLoop::tick() {
    const core::MonoMillis now = this->now();
    // Parked readers are released by whatever held them; this retry (every kParkedRetryTicks)
    // bounds the wait should a release ever be missed: a client paused for a subscriber that is
    // still behind then passes one more PUBLISH and waits again.
    if (!_parked_readers.empty() && ++_ticks_parked % kParkedRetryTicks == 0) {
        release_held_reads();
    }
    // By index: check_timeouts() may close connections, but they leave the table only in their
    // close callback, and a place taken meanwhile holds a connection as good to check.
    for (std::size_t i = 0; i < _connections.size(); ++i) {
        if (Connection* connection = _connections[i]) {
            connection->check_timeouts(now);
            connection->track_memory();  // output written since, partial input packets
        }
    }
    // Wills whose delay has passed, and sessions whose expiry has passed [MQTT-3.1.2-23]. Found
    // first, handled after: the index must not change while it is walked, and a will published
    // here reaches sessions of this loop.
    std::vector<uint64_t> due;
    _by_uid.for_each([&](const SessionSlot& slot) {
        const auto& will = slot.session.will;
        if (slot.connection == nullptr &&
            ((will && will->publish_at != 0 && now >= will->publish_at) ||
             (slot.expires_at != 0 && now >= slot.expires_at))) {
            due.push_back(slot.session.uid());
        }
    });
    std::vector<uint64_t> expired;
    for (const uint64_t uid : due) {
        SessionSlot* slot = find_session(uid);
        if (slot == nullptr || slot->connection != nullptr) {
            continue;
        }
        core::Session& session = slot->session;
        if (session.will && session.will->publish_at != 0 && now >= session.will->publish_at) {
            codec::Will will = std::move(session.will->will);
            session.will.reset();
            _broker.publish_will(*this, std::move(will), session.uid());
            if (session.persistent()) {
                _persistence.put_session(session, now, false);
            }
        }
        if (slot->expires_at != 0 && now >= slot->expires_at) {
            expired.push_back(uid);
        }
    }
    for (const uint64_t uid : expired) {
        SessionSlot* slot = find_session(uid);
        if (slot == nullptr || slot->connection != nullptr) {
            continue;
        }
        core::Session& session = slot->session;
        // A will still waiting for its delay is published when the session ends [MQTT-3.1.3-9].
        if (session.will) {
            codec::Will will = std::move(session.will->will);
            session.will.reset();
            _broker.publish_will(*this, std::move(will), session.uid());
        }
        spdlog::debug("session '{}' expired", session.client_id());
        destroy_session(*slot);
    }
    if (_index == 0) {
        _broker.on_tick(*this, now);
        _broker.memory().tick(now);
    }
}

void WorkerLoop::close_everything() {
    // Phase 1 of shutdown: end every connection (wills are published, and may still travel to
    // other loops, whose inboxes stay open until every loop has finished this phase).
    _stopping = true;
    uv_timer_stop(&_tick);
    std::vector<Task> hooks = std::move(_stop_hooks);
    _stop_hooks.clear();
    for (Task& hook : hooks) {
        hook(*this);
    }
    for (std::size_t i = 0; i < _connections.size(); ++i) {
        if (Connection* connection = _connections[i]) {
            connection->disconnect(codec::ReasonCode::ServerShuttingDown, "server shutting down");
        }
    }
    flush_outbox();
    _persistence.submit();
    flush_dirty();
    _broker.on_loop_drained(*this);
}

void WorkerLoop::close_handles() {
    // Phase 2: nobody posts to this loop any more; close its own handles so uv_run returns.
    flush_outbox();
    _persistence.submit();
    flush_dirty();
    uv_close(reinterpret_cast<uv_handle_t*>(&_tick), nullptr);
    uv_check_stop(&_check);
    uv_close(reinterpret_cast<uv_handle_t*>(&_check), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&_async), nullptr);
}

}  // namespace tern::net
