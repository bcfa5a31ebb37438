// Outbound delivery to a session on its own loop: direct send, in-flight window, queue, drops.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "connection.hpp"
#include "publish_encoder.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

using State = storage::QueuedRecord::State;

State inflight_state(uint8_t qos) { return qos == 1 ? State::AwaitingPuback : State::AwaitingPubrec; }

}  // namespace

void WorkerLoop::deliver_local(uint64_t uid, core::OutgoingMessage&& outgoing,
                               const AckBarrierPtr& barrier) {
    SessionSlot* slot = find_session(uid);
    if (slot == nullptr) {
        return;  // the session ended while the message travelled
    }
    core::Session& session = *slot->session;
    const core::MonoMillis now = this->now();
    if (outgoing.message->expired(now)) {
        return;  // [MQTT-3.3.2-5]
    }
    Connection* connection = slot->connection;
    const bool online = connection != nullptr && !connection->closing();
    const bool queue_qos0 = _broker.settings().limits.queue_qos0_offline;
    // A persistent session's QoS 1/2 messages are written before the publisher is acknowledged.
    const bool durable = _persistence.enabled() && session.persistent() &&
                         (outgoing.qos > 0 || (!online && queue_qos0));
    auto enqueue = [&](core::OutgoingMessage&& message) {
        if (durable) {
            message.store_seq = session.next_store_seq();
        }
        std::vector<core::OutgoingMessage> evicted;
        if (!session.enqueue(std::move(message), &evicted)) {
            LoopStats::add(_stats.publish_dropped, 1);
            return;
        }
        for (const core::OutgoingMessage& dropped : evicted) {
            LoopStats::add(_stats.publish_dropped, 1);
            if (dropped.store_seq != 0) {
                _persistence.add(
                    storage::WriteBatch::EraseQueued{session.client_id(), dropped.store_seq});
            }
        }
        if (durable) {
            const core::OutgoingMessage& queued = session.queued_back();
            _persistence.add(storage::WriteBatch::PutQueued{session.client_id(),
                                                            Persistence::to_queued(
                                                                queued, State::Queued, 0, now)},
                             barrier);
        }
    };
    if (!online) {
        // Offline: QoS 1/2 (and QoS 0 when configured) wait in the session [MQTT-3.1.2-5].
        if (outgoing.qos > 0 || queue_qos0) {
            enqueue(std::move(outgoing));
        }
        return;
    }
    if (outgoing.qos == 0) {
        if (session.queued_count() != 0) {
            // Keep the order of everything sent to this client [MQTT-4.6.0-6].
            enqueue(std::move(outgoing));
            return;
        }
        if (connection->pending_output() > _broker.settings().limits.max_outgoing_buffer) {
            // A slow consumer: QoS 0 is dropped rather than buffered without bound.
            LoopStats::add(_stats.publish_dropped, 1);
            session.count_drop();
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
    if (durable) {
        outgoing.store_seq = session.next_store_seq();
    }
    const uint16_t packet_id = session.track_inflight(outgoing);
    if (durable) {
        _persistence.add(
            storage::WriteBatch::PutQueued{
                session.client_id(),
                Persistence::to_queued(outgoing, inflight_state(outgoing.qos), packet_id, now)},
            barrier);
    }
    connection->send_publish(outgoing, packet_id, false);
}

bool Connection::send_publish(const core::OutgoingMessage& outgoing, uint16_t packet_id,
                              bool dup) {
    const core::Session& session = *_slot->session;
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
    _loop.mark_dirty(this);
    return true;
}

void Connection::pump_queue() {
    if (_slot == nullptr) {
        return;
    }
    core::Session& session = *_slot->session;
    const core::MonoMillis now = _loop.now();
    uint16_t packet_id = 0;
    Persistence& persistence = _loop.persistence();
    while (auto outgoing = session.next_sendable(now, packet_id)) {
        if (!send_publish(*outgoing, packet_id, false) && outgoing->qos > 0) {
            // Discarded for size: complete the exchange so the window does not leak.
            if (outgoing->qos == 1) {
                session.on_puback(packet_id);
            } else {
                session.on_pubrec(packet_id, true);
            }
            if (outgoing->store_seq != 0) {
                persistence.add(
                    storage::WriteBatch::EraseQueued{session.client_id(), outgoing->store_seq});
            }
            continue;
        }
        if (outgoing->store_seq != 0) {
            if (outgoing->qos == 0) {
                persistence.add(
                    storage::WriteBatch::EraseQueued{session.client_id(), outgoing->store_seq});
            } else {
                persistence.add(storage::WriteBatch::PutQueued{
                    session.client_id(),
                    Persistence::to_queued(*outgoing, inflight_state(outgoing->qos), packet_id,
                                           now)});
            }
        }
    }
}

}  // namespace tern::net
