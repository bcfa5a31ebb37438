// Persistence: batches per loop iteration, conversions between messages and records.
#include "persistence.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "broker.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

storage::UnixMillis to_unix(core::MonoMillis mono, core::MonoMillis now) {
    if (mono == 0) {
        return 0;
    }
    const storage::UnixMillis unix_now = storage::unix_now_ms();
    return mono >= now ? unix_now + (mono - now) : unix_now - std::min(unix_now, now - mono);
}

core::MonoMillis to_mono(storage::UnixMillis unix_ms, core::MonoMillis now) {
    if (unix_ms == 0) {
        return 0;
    }
    const storage::UnixMillis unix_now = storage::unix_now_ms();
    // Never 0 (which means "never"): a time already past maps to "now".
    return unix_ms >= unix_now ? now + (unix_ms - unix_now) : std::max<core::MonoMillis>(now, 1);
}

}  // namespace

bool AckBarrier::release_batched() {
    if (_pending.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        return false;
    }
    if (on_ready) {
        _loop.post([self = shared_from_this()](WorkerLoop& loop) { self->on_ready(loop); });
        return false;
    }
    return true;
}

bool AckBarrier::release(bool on_owner_loop) {
    if (_pending.fetch_sub(1, std::memory_order_acq_rel) != 1) {
        return false;
    }
    if (on_ready) {
        if (on_owner_loop) {
            on_ready(_loop);
        } else {
            _loop.post([self = shared_from_this()](WorkerLoop& loop) { self->on_ready(loop); });
        }
        return false;
    }
    if (on_owner_loop) {
        return true;
    }
    _loop.post([id = _connection_id](WorkerLoop& loop) { loop.acks_ready(id); });
    return false;
}

void Persistence::add(storage::WriteBatch::Op&& op, const AckBarrierPtr& barrier) {
    if (_store == nullptr) {
        return;
    }
    if (_batch.empty()) {
        if (idle()) {
            _loop.mark_persistence_dirty();
        }
        // Sized like the last batch: growing it op by op moved every op several times.
        _batch.reserve(_last_batch_ops);
    }
    _batch.add(std::move(op));
    if (!barrier) {
        return;
    }
    if (_loop.is_publish_token(barrier.get())) {
        _loop.note_publish_write();
    } else {
        hold_until_committed(barrier);
    }
}

void Persistence::hold_until_committed(const AckBarrierPtr& barrier) {
    if (idle()) {
        _loop.mark_persistence_dirty();
    }
    barrier->hold();
    _barriers.push_back(barrier);
}

void Persistence::notify_when_committed(uint64_t connection_id) {
    if (idle()) {
        _loop.mark_persistence_dirty();
    }
    // Consecutive acknowledgements of one connection need one notification.
    if (_notify.empty() || _notify.back() != connection_id) {
        _notify.push_back(connection_id);
    }
}

void Persistence::after_commit(std::function<void()> action) {
    if (_store == nullptr) {
        action();
        return;
    }
    if (idle()) {
        _loop.mark_persistence_dirty();
    }
    _after_commit.push_back(std::move(action));
}

void Persistence::write_soon() {
    if (_store == nullptr) {
        return;
    }
    if (idle()) {
        _loop.mark_persistence_dirty();
    }
    _write_soon = true;
}

void Persistence::submit() {
    if (_store == nullptr || idle()) {
        return;
    }
    WorkerLoop* loop = &_loop;
    if (_after_commit.empty() && !_write_soon) {
        // Only acknowledgements wait for it: they may follow the subscribers' instead.
        _batch.allow_delay();
    }
    _write_soon = false;
    const std::size_t batch_ops = _batch.size();
    const uint64_t number = ++_submitted;
    _store->submit(
        std::move(_batch), [barriers = std::move(_barriers), actions = std::move(_after_commit),
                            notify = std::move(_notify), number, loop]() mutable {
            // One task per owner loop for all the acknowledgements this commit made ready (a
            // post per PUBACK cost the writer thread a lock and a wake-up each).
            std::vector<std::pair<WorkerLoop*, std::vector<uint64_t>>> ready;
            for (const AckBarrierPtr& barrier : barriers) {
                if (!barrier->release_batched()) {
                    continue;
                }
                WorkerLoop* owner = &barrier->owner_loop();
                auto it = std::find_if(ready.begin(), ready.end(),
                                       [owner](const auto& entry) { return entry.first == owner; });
                if (it == ready.end()) {
                    it = ready.emplace(ready.end(), owner, std::vector<uint64_t>{});
                }
                // Consecutive barriers of one connection need one send_ready_acks().
                if (it->second.empty() || it->second.back() != barrier->connection_id()) {
                    it->second.push_back(barrier->connection_id());
                }
            }
            for (auto& [owner, ids] : ready) {
                owner->post([ids = std::move(ids)](WorkerLoop& target) {
                    for (const uint64_t id : ids) {
                        target.acks_ready(id);
                    }
                });
            }
            if (!actions.empty() || !notify.empty()) {
                loop->post([actions = std::move(actions), notify = std::move(notify),
                            number](WorkerLoop& target) {
                    target.persistence()._committed = number;  // batches complete in order
                    for (const uint64_t id : notify) {
                        target.acks_ready(id);
                    }
                    for (auto& action : actions) {
                        action();
                    }
                });
            }
        });
    _last_batch_ops = std::max<std::size_t>(batch_ops, 8);
    _batch = storage::WriteBatch{};
    _barriers.clear();
    _after_commit.clear();
    _notify.clear();
}

void Persistence::put_session(const core::Session& session, core::MonoMillis now, bool connected,
                              const AckBarrierPtr& barrier) {
    if (_store == nullptr) {
        return;
    }
    storage::SessionRecord record;
    record.client_id = session.client_id();
    record.protocol_version = static_cast<uint8_t>(session.version);
    record.expiry_interval_s = session.expiry_interval_s;
    record.username = session.username;
    record.disconnected_at = connected ? 0 : storage::unix_now_ms();
    for (const auto& [filter, options] : session.subscriptions) {
        record.subscriptions.push_back({filter, options});
    }
    if (session.will) {
        storage::WillRecord will;
        will.will = session.will->will;
        will.delay_s = session.will->delay_s;
        will.publish_at = to_unix(session.will->publish_at, now);
        record.will = std::move(will);
    }
    add(storage::WriteBatch::PutSession{std::move(record)}, barrier);
}

void Persistence::erase_session(const std::string& client_id) {
    add(storage::WriteBatch::EraseSession{client_id});
}

storage::MessageRecord Persistence::to_record(const core::Message& message, core::MonoMillis now) {
    storage::MessageRecord record;
    record.topic = message.topic;
    record.payload = message.payload;
    record.qos = message.qos;
    record.retain = message.retain;
    // Shared, not copied: the message's set is immutable and already has no Message Expiry
    // Interval (Broker::make_message).
    record.properties = message.shared_properties();
    record.expires_at = to_unix(message.expires_at, now);
    return record;
}

core::MessagePtr Persistence::from_record(storage::MessageRecord&& record, core::MonoMillis now) {
    const core::MonoMillis expires_at = to_mono(record.expires_at, now);
    codec::Properties properties = record.properties.get();
    return Broker::make_message(std::move(record.topic), record.payload, record.qos, record.retain,
                                std::move(properties), 0, now, expires_at);
}

storage::WriteBatch::PutQueued Persistence::put_queued(const std::string& client_id,
                                                       const core::OutgoingMessage& outgoing,
                                                       storage::QueuedRecord::State state,
                                                       uint16_t packet_id, core::MonoMillis now,
                                                       bool creates) {
    storage::WriteBatch::PutQueued::Fields fields;
    fields.expires_at = to_unix(outgoing.message->expires_at, now);
    fields.packet_id = packet_id;
    fields.qos = outgoing.qos;
    fields.retain = outgoing.retain;
    fields.state = state;
    if (outgoing.subscription_ids.empty()) {
        // The usual case: the writer encodes it from the message if it is ever written.
        return storage::WriteBatch::PutQueued{client_id, outgoing.store_seq, outgoing.message,
                                              fields, creates};
    }
    std::string value;
    storage::WriteBatch::PutQueued::encode(*outgoing.message, fields, outgoing.subscription_ids,
                                           value);
    return storage::WriteBatch::PutQueued{client_id, outgoing.store_seq, std::move(value), creates};
}

}  // namespace tern::net
