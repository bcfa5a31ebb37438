// Acknowledgements (PUBACK, PUBREC, PUBREL, PUBCOMP), DISCONNECT from the client, and AUTH.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "connection.hpp"
#include "storage/store.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

// The durable queue entry of an in-flight message, 0 when it is not stored.
uint64_t stored_seq(const core::Session& session, uint16_t packet_id) {
    const core::InflightMessage* inflight = session.find_inflight(packet_id);
    return inflight != nullptr ? inflight->outgoing.store_seq : 0;
}

}  // namespace

bool Connection::handle_ack(const codec::AckHead& ack) {
    core::Session& session = _slot->session;
    Persistence& persistence = _loop.persistence();
    switch (ack.type) {
        case codec::PacketType::Puback:
        case codec::PacketType::Pubcomp: {
            const uint64_t seq = stored_seq(session, ack.packet_id);
            const auto outcome = ack.type == codec::PacketType::Puback
                                     ? session.on_puback(ack.packet_id)
                                     : session.on_pubcomp(ack.packet_id);
            if (outcome == core::AckOutcome::Completed) {
                if (seq != 0) {
                    persistence.add(storage::WriteBatch::EraseQueued{session.client_id(), seq});
                }
                pump_queue();
            }
            return true;
        }
        case codec::PacketType::Pubrec: {
            const uint64_t seq = stored_seq(session, ack.packet_id);
            const auto outcome = session.on_pubrec(ack.packet_id, ack.reason_code >= 0x80);
            if (outcome == core::AckOutcome::Completed) {
                if (seq != 0) {
                    persistence.add(storage::WriteBatch::EraseQueued{session.client_id(), seq});
                }
                pump_queue();
                return true;
            }
            codec::AckHead pubrel{codec::PacketType::Pubrel, ack.packet_id, 0};
            if (outcome == core::AckOutcome::Ignored) {
                if (ack.reason_code >= 0x80) {
                    return true;  // a failed PUBREC for something we do not know: nothing to do
                }
                pubrel.reason_code =
                    static_cast<uint8_t>(codec::ReasonCode::PacketIdentifierNotFound);
            } else if (seq != 0 && persistence.enabled()) {
                // Remember that PUBREC arrived: after a restart we resend PUBREL, not PUBLISH.
                // The PUBREL waits for that record, or a crash would make us resend a PUBLISH
                // the client already released.
                const core::InflightMessage* inflight = session.find_inflight(ack.packet_id);
                persistence.add(Persistence::put_queued(
                    session.client_id(), inflight->outgoing,
                    storage::QueuedRecord::State::AwaitingPubcomp, ack.packet_id, _loop.now()));
                _loop.send_when_durable(session.uid(), _id, ack.packet_id,
                                        core::InflightMessage::State::AwaitingPubcomp);
                return true;
            }
            send_ack(pubrel);
            return true;
        }
        case codec::PacketType::Pubrel: {
            // PUBCOMP for a known id; 0x92 when unknown (it may have completed already).
            const bool known = session.on_pubrel(ack.packet_id);
            codec::AckHead pubcomp{codec::PacketType::Pubcomp, ack.packet_id, 0};
            if (!known && _version == codec::ProtocolVersion::V5) {
                pubcomp.reason_code =
                    static_cast<uint8_t>(codec::ReasonCode::PacketIdentifierNotFound);
            }
            AckBarrierPtr barrier;
            if (known && session.persistent()) {
                barrier = make_barrier(pubcomp);
                persistence.add(
                    storage::WriteBatch::EraseIncomingQos2{session.client_id(), ack.packet_id},
                    barrier);
            }
            send_ordered_ack(pubcomp, barrier);
            return true;
        }
        default:
            return true;
    }
}

bool Connection::handle_disconnect(const codec::Disconnect& disconnect) {
    core::Session& session = _slot->session;
    if (_version == codec::ProtocolVersion::V5) {
        if (const auto& expiry = disconnect.properties.session_expiry_interval) {
            // Expiry 0 at CONNECT cannot become non-zero at DISCONNECT [MQTT-3.14.2-2].
            if (_connect_expiry_zero && *expiry != 0) {
                return protocol_error(codec::ReasonCode::ProtocolError,
                                      "session expiry cannot be set after 0");
            }
            session.expiry_interval_s = *expiry;
            session.subscriber.durable.store(_loop.persistence().enabled() && session.persistent(),
                                             std::memory_order_relaxed);
        }
    }
    // A normal DISCONNECT discards the will [MQTT-3.1.2-10]; MQTT 5 reason 0x04 keeps it
    // [MQTT-3.14.4-3].
    _will_on_close = _version == codec::ProtocolVersion::V5 &&
                     disconnect.reason_code ==
                         static_cast<uint8_t>(codec::ReasonCode::DisconnectWithWillMessage);
    close("client sent DISCONNECT");
    return false;
}

bool Connection::handle_auth(const codec::Auth&) {
    // The client did not use an Authentication Method at CONNECT, so AUTH is a Protocol Error
    // [MQTT-4.12.0-?]: no enhanced authentication exchange is in progress.
    return protocol_error(codec::ReasonCode::ProtocolError, "AUTH without authentication method");
}

}  // namespace tern::net
