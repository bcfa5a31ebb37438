// Outbound delivery to a session on its own loop: direct send, in-flight window, queue, drops.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker.hpp"
#include "connection.hpp"
#include "message_sink.hpp"
#include "publish_encoder.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

using State = storage::QueuedRecord::State;

constexpr core::MonoMillis kDropLogIntervalMs = 10'000;
// While the broker sheds load (limits.max_memory), a consumer with more than this waiting on its
// socket is slow: QoS 0 to it is dropped.
constexpr uint64_t kSheddingOutputBuffer = 64 * 1024;
// How far past its queue limits a congested online subscriber's queue may grow (see enqueue).
constexpr uint32_t kCongestedHeadroom = 4;

// When a delivery returns: reports what it queued or evicted to the memory cap, and whether the
// session is now behind (backpressure on its publishers).
class QueueMemoryTracker {
  public:
    QueueMemoryTracker(WorkerLoop& loop, SessionSlot& slot) : _loop(loop), _slot(slot) {}
    ~QueueMemoryTracker() {
        _loop.track_queue_memory(_slot);
        _loop.check_congestion(_slot);
    }
    QueueMemoryTracker(const QueueMemoryTracker&) = delete;
    QueueMemoryTracker& operator=(const QueueMemoryTracker&) = delete;

  private:
    WorkerLoop& _loop;
    SessionSlot& _slot;
};

// Logs a session's drops at most once per interval, with the running total.
void log_drop(core::Session& session, core::MonoMillis now, std::string_view why) {
    if (session.drop_logged_at != 0 && now - session.drop_logged_at < kDropLogIntervalMs) {
        return;
    }
    session.drop_logged_at = now;
    spdlog::warn("client {}: dropping messages ({}); {} dropped so far", session.client_id(), why,
                 session.dropped_messages());
}

core::InflightMessage::State awaiting(uint8_t qos) {
    return qos == 1 ? core::InflightMessage::State::AwaitingPuback
                    : core::InflightMessage::State::AwaitingPubrec;
}

}  // namespace

// Defined here, with the delivery path that runs it for every message, so that it inlines.
bool WorkerLoop::subscriber_behind(const SessionSlot& slot, uint64_t divisor) const {
    const core::Session& session = slot.session;
    if (session.queued_count() * divisor >= _broker.slow_subscriber_messages()) {
        return true;
    }
    if (session.limits.max_queued_bytes != 0 &&
        session.queued_bytes() * divisor >= session.limits.max_queued_bytes / 2) {
        return true;
    }
    return slot.connection != nullptr &&
           slot.connection->output_backlog() * divisor >= _slow_subscriber_bytes;
}

void WorkerLoop::check_congestion(SessionSlot& slot) {
    if (!_pause_publishers || slot.session.subscriber.congested.load(std::memory_order_relaxed) ||
        slot.connection == nullptr || slot.connection->closing() || !subscriber_behind(slot, 1)) {
        return;
    }
    mark_congested(slot);
}

void WorkerLoop::send_qos0_when_durable(uint64_t session_uid, uint64_t connection_id,
                                        core::OutgoingMessage message) {
    if (SessionSlot* slot = find_session(session_uid)) {
        ++slot->deferred_sends;
    }
    _persistence.after_commit([this, session_uid, connection_id, message = std::move(message)] {
        SessionSlot* slot = find_session(session_uid);
        if (slot == nullptr) {
            return;
        }
        slot->deferred_sends -= slot->deferred_sends > 0 ? 1 : 0;
        if (slot->connection != nullptr && slot->connection->id() == connection_id &&
            !slot->connection->closing()) {
            slot->connection->send_publish(message, 0, false);
        }
    });
}

void WorkerLoop::send_when_durable(uint64_t session_uid, uint64_t connection_id, uint16_t packet_id,
                                   core::InflightMessage::State expected) {
    if (SessionSlot* slot = find_session(session_uid)) {
        ++slot->deferred_sends;
    }
    _persistence.after_commit([this, session_uid, connection_id, packet_id, expected] {
        SessionSlot* slot = find_session(session_uid);
        if (slot != nullptr) {
            slot->deferred_sends -= slot->deferred_sends > 0 ? 1 : 0;
        }
        if (slot == nullptr || slot->connection == nullptr ||
            slot->connection->id() != connection_id || slot->connection->closing()) {
            return;  // a reconnect resends it from the in-flight window
        }
        const core::InflightMessage* inflight = slot->session.find_inflight(packet_id);
        if (inflight == nullptr || inflight->state != expected) {
            return;
        }
        if (expected == core::InflightMessage::State::AwaitingPubcomp) {
            codec::Ack pubrel;
            pubrel.type = codec::PacketType::Pubrel;
            pubrel.packet_id = packet_id;
            slot->connection->send_packet(pubrel);
        } else {
            slot->connection->send_publish(inflight->outgoing, packet_id, false);
        }
    });
}

void WorkerLoop::deliver_local(uint64_t uid, core::OutgoingMessage&& outgoing,
                               const AckBarrierPtr& barrier, bool* prewritten_kept) {
    SessionSlot* slot = find_session(uid);
    if (slot == nullptr) {
        // Not a session: a bridge client, or a session that ended while the message travelled.
        if (!_sinks.empty()) {
            auto sink = _sinks.find(uid);
            if (sink != _sinks.end()) {
                sink->second->on_message(outgoing);
            }
        }
        return;
    }
    core::Session& session = slot->session;
    const core::MonoMillis now = this->now();
    if (outgoing.message->expired(now)) {
        return;  // [MQTT-3.3.2-5]
    }
    const QueueMemoryTracker tracker(*this, *slot);
    const bool shedding = _broker.memory().shedding();
    // Over the memory cap QoS 0 is no longer queued (MemoryBudget).
    const auto shed_qos0 = [&] {
        LoopStats::add(_stats.publish_dropped, 1);
        LoopStats::add(_stats.shed, 1);
        session.count_drop();
        log_drop(session, now, "memory cap reached, QoS 0 not queued");
    };
    if (_broker.acl_enabled()) {
        // Checked per message (live and retained) on the session's own loop: a subscription may
        // be wider than what the session may read, and the rules may change on SIGHUP.
        const auto acl = _broker.acl();
        if (acl &&
            !acl->can_receive(session.username, session.client_id(), outgoing.message->topic)) {
            return;
        }
    }
    Connection* connection = slot->connection;
    const bool online = connection != nullptr && !connection->closing();
    const bool queue_qos0 = _broker.settings().limits.queue_qos0_offline;
    // A persistent session's QoS 1/2 messages are written before the publisher is acknowledged.
    const bool durable = _persistence.enabled() && session.persistent() &&
                         (outgoing.qos > 0 || (!online && queue_qos0));
    if (!durable) {
        // A key given by the publishing loop is not used (a prewritten entry is then erased by
        // the caller).
        outgoing.store_seq = 0;
    }
    auto enqueue = [&](core::OutgoingMessage&& message) {
        if (durable && message.store_seq == 0) {
            message.store_seq = _broker.next_store_seq();
        }
        std::vector<core::OutgoingMessage> evicted;
        // Publishers to a congested online subscriber are paused, but what they sent before they
        // saw it (other loops see it an iteration or more later) is still on its way: it may
        // exceed the queue limits, up to kCongestedHeadroom times, rather than be dropped.
        const uint32_t headroom =
            online && session.subscriber.congested.load(std::memory_order_relaxed)
                ? kCongestedHeadroom
                : 1;
        if (!session.enqueue(std::move(message), &evicted, headroom)) {
            LoopStats::add(_stats.publish_dropped, 1);
            log_drop(session, now, "queue full, refusing the newest");
            return;
        }
        if (!evicted.empty()) {
            log_drop(session, now, "queue full, dropping the oldest");
        }
        for (const core::OutgoingMessage& dropped : evicted) {
            LoopStats::add(_stats.publish_dropped, 1);
            if (dropped.store_seq != 0) {
                _persistence.add(
                    storage::WriteBatch::EraseQueued{session.client_id(), dropped.store_seq});
            }
        }
        if (durable && prewritten_kept != nullptr) {
            *prewritten_kept = true;  // queued as the publishing loop wrote it
        } else if (durable) {
            const core::OutgoingMessage& queued = session.queued_back();
            _persistence.add(
                Persistence::put_queued(session.client_id(), queued, State::Queued, 0, now, true),
                barrier);
        }
    };
    if (!online) {
        if (durable) {
            // No acknowledgement will make its queue entry moot soon: holding the write back
            // (the store's write delay) would only hold back the publisher's acknowledgement.
            _persistence.write_soon();
        }
        // Offline: QoS 1/2 (and QoS 0 when configured) wait in the session [MQTT-3.1.2-5].
        if (outgoing.qos > 0) {
            enqueue(std::move(outgoing));
        } else if (queue_qos0 && shedding) {
            shed_qos0();
        } else if (queue_qos0) {
            enqueue(std::move(outgoing));
        }
        return;
    }
    if (outgoing.qos == 0) {
        if (session.queued_count() != 0) {
            // Keep the order of everything sent to this client [MQTT-4.6.0-6].
            if (shedding) {
                shed_qos0();
            } else {
                enqueue(std::move(outgoing));
            }
            return;
        }
        if (slot->deferred_sends != 0) {
            send_qos0_when_durable(uid, connection->id(), std::move(outgoing));
            return;
        }
        const uint64_t output_cap = _broker.settings().limits.max_outgoing_buffer;
        if (connection->pending_output() >
            (shedding ? std::min(output_cap, kSheddingOutputBuffer) : output_cap)) {
            // A slow consumer: QoS 0 is dropped rather than buffered without bound.
            LoopStats::add(_stats.publish_dropped, 1);
            if (shedding) {
                LoopStats::add(_stats.shed, 1);
            }
            session.count_drop();
            log_drop(session, now, "slow consumer, QoS 0 over the output buffer cap");
            return;
        }
        connection->send_publish(outgoing, 0, false);
        return;
    }
    if (!session.can_send_directly()) {
        enqueue(std::move(outgoing));
        return;
    }
    PublishHeader header;
    header.version = session.version;
    header.qos = outgoing.qos;
    header.subscription_ids = outgoing.subscription_ids;
    if (session.client_maximum_packet_size != 0 &&
        publish_packet_size(*outgoing.message, header) > session.client_maximum_packet_size) {
        // Too large for the client: discard as if delivered [MQTT-3.1.2-25].
        LoopStats::add(_stats.publish_dropped, 1);
        return;
    }
    if (durable && outgoing.store_seq == 0) {
        outgoing.store_seq = _broker.next_store_seq();
    }
    const uint16_t packet_id = session.track_inflight(outgoing);
    if (durable && (outgoing.qos == 2 || prewritten_kept == nullptr)) {
        // In flight now. QoS 2: the entry (new, or the publishing loop's) records the packet id
        // before the PUBLISH leaves. QoS 1 writes only a new entry, as queued: its packet id is
        // written when the session goes offline (see record_sent).
        const bool qos2 = outgoing.qos == 2;
        _persistence.add(
            Persistence::put_queued(session.client_id(), outgoing,
                                    qos2 ? State::AwaitingPubrec : State::Queued,
                                    qos2 ? packet_id : 0, now, prewritten_kept == nullptr),
            barrier);
    }
    if (durable) {
        if (prewritten_kept != nullptr) {
            *prewritten_kept = true;
        }
        if (outgoing.qos == 2 || slot->deferred_sends != 0) {
            send_when_durable(uid, connection->id(), packet_id, awaiting(outgoing.qos));
            return;
        }
    }
    if (slot->deferred_sends != 0) {
        send_when_durable(uid, connection->id(), packet_id, awaiting(outgoing.qos));
        return;
    }
    connection->send_publish(outgoing, packet_id, false);
}

bool Connection::send_publish(const core::OutgoingMessage& outgoing, uint16_t packet_id, bool dup) {
    const core::Session& session = _slot->session;
    PublishHeader header;
    header.version = _version;
    header.qos = outgoing.qos;
    header.retain = outgoing.retain;
    header.dup = dup;
    header.packet_id = packet_id;
    header.subscription_ids = outgoing.subscription_ids;
    header.now = _loop.now();
    if (session.client_maximum_packet_size != 0 &&
        publish_packet_size(*outgoing.message, header) > session.client_maximum_packet_size) {
        LoopStats::add(_loop.stats().publish_dropped, 1);
        return false;
    }
    append_publish(_out, *outgoing.message, header);
    LoopStats::add(_loop.stats().messages_sent, 1);
    LoopStats::add(_loop.stats().messages_sent_by_qos[outgoing.qos], 1);
    LoopStats::add(_loop.stats().payload_bytes_sent_by_qos[outgoing.qos],
                   outgoing.message->payload.size());
    _loop.mark_dirty(this);
    return true;
}

void Connection::pump_queue() {
    if (_slot == nullptr) {
        return;
    }
    core::Session& session = _slot->session;
    const QueueMemoryTracker tracker(_loop, *_slot);
    const core::MonoMillis now = _loop.now();
    uint16_t packet_id = 0;
    Persistence& persistence = _loop.persistence();
    // Once one QoS 2 PUBLISH waits for its record, the rest of this run waits behind it, so
    // that a session's queue leaves in order.
    bool deferring = _slot->deferred_sends != 0;
    core::OutgoingMessage qos0;
    while (core::OutgoingMessage* outgoing = session.next_sendable(now, packet_id, qos0)) {
        if (outgoing->qos == 2 && outgoing->store_seq != 0 && persistence.enabled()) {
            deferring = true;
        }
        if (deferring) {
            record_sent(*outgoing, packet_id);
            if (outgoing->qos == 0) {
                _loop.send_qos0_when_durable(session.uid(), _id, std::move(*outgoing));
            } else {
                _loop.send_when_durable(session.uid(), _id, packet_id,
                                        outgoing->qos == 1
                                            ? core::InflightMessage::State::AwaitingPuback
                                            : core::InflightMessage::State::AwaitingPubrec);
            }
            continue;
        }
        if (!send_publish(*outgoing, packet_id, false) && outgoing->qos > 0) {
            // Discarded for size: complete the exchange so the window does not leak (which
            // ends `outgoing`, so read it first).
            const uint64_t store_seq = outgoing->store_seq;
            if (outgoing->qos == 1) {
                session.on_puback(packet_id);
            } else {
                session.on_pubrec(packet_id, true);
            }
            if (store_seq != 0) {
                persistence.add(storage::WriteBatch::EraseQueued{session.client_id(), store_seq});
            }
            continue;
        }
        record_sent(*outgoing, packet_id);
    }
}

void Connection::record_sent(const core::OutgoingMessage& outgoing, uint16_t packet_id) {
    if (outgoing.store_seq == 0) {
        return;
    }
    Persistence& persistence = _loop.persistence();
    const std::string& client_id = _slot->session.client_id();
    if (outgoing.qos == 0) {
        persistence.add(storage::WriteBatch::EraseQueued{client_id, outgoing.store_seq});
    } else if (outgoing.qos == 2) {
        // QoS 2's packet id is durable before the PUBLISH leaves (send_when_durable): resent
        // after a crash under another id, it would be delivered twice.
        persistence.add(Persistence::put_queued(client_id, outgoing, State::AwaitingPubrec,
                                                packet_id, _loop.now()));
    }
    // QoS 1 stays stored as queued while it is in flight, which saves rewriting every message
    // in full. The packet id is written when the session goes offline (write_inflight_ids), so a
    // restart resends it as a duplicate under the same id [MQTT-4.4.0-1]; after a crash it is
    // resent under a new id, which at least once allows.
}

}  // namespace tern::net
