// Inbound PUBLISH: limits, topic aliases, QoS 1/2 acknowledgements, then retain and routing.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "codec/decoder.hpp"
#include "connection.hpp"
#include "core/topic.hpp"
#include "storage/store.hpp"
#include "worker_loop.hpp"

namespace tern::net {

bool Connection::problem_information_allowed() const noexcept {
    // Request Problem Information 0 forbids reason strings outside PUBLISH, CONNACK and
    // DISCONNECT [MQTT-3.1.2-29].
    return _slot != nullptr && _slot->session.request_problem_information;
}

void Connection::ack_publish(codec::PacketType type, uint16_t packet_id, codec::ReasonCode reason) {
    send_ordered_ack(make_publish_ack(type, packet_id, reason), nullptr);
}

codec::Ack Connection::make_publish_ack(codec::PacketType type, uint16_t packet_id,
                                        codec::ReasonCode reason) const {
    codec::Ack ack;
    ack.type = type;
    ack.packet_id = packet_id;
    if (_version == codec::ProtocolVersion::V5) {
        ack.reason_code = static_cast<uint8_t>(reason);
        if (static_cast<uint8_t>(reason) >= 0x80 && problem_information_allowed()) {
            ack.properties.reason_string = std::string(codec::reason_code_name(reason));
        }
    }
    return ack;
}

bool Connection::resolve_topic_alias(codec::Publish& publish) {
    if (_version != codec::ProtocolVersion::V5 || !publish.properties.topic_alias) {
        if (publish.topic.empty()) {
            // An empty topic needs a Topic Alias [MQTT-3.3.2-1].
            return protocol_error(codec::ReasonCode::ProtocolError, "empty topic without alias");
        }
        return true;
    }
    const uint16_t alias = *publish.properties.topic_alias;
    const uint16_t maximum = _loop.broker().settings().limits.topic_alias_maximum;
    if (alias == 0 || alias > maximum) {
        // [MQTT-3.3.2-8, 3.3.2-9]
        return protocol_error(codec::ReasonCode::TopicAliasInvalid, "topic alias out of range");
    }
    if (!publish.topic.empty()) {
        // A topic with an alias sets (or replaces) the mapping [MQTT-3.3.2-12].
        std::vector<std::string>& aliases = rare().topic_aliases;
        if (aliases.size() < maximum) {
            aliases.resize(maximum);
        }
        aliases[alias - 1] = publish.topic;
        return true;
    }
    if (!_rare || alias > _rare->topic_aliases.size() || _rare->topic_aliases[alias - 1].empty()) {
        return protocol_error(codec::ReasonCode::ProtocolError, "unknown topic alias");
    }
    publish.topic = _rare->topic_aliases[alias - 1];
    return true;
}

bool Connection::handle_publish(codec::Publish& publish) {
    const core::BrokerSettings& settings = _loop.broker().settings();
    core::Session& session = _slot->session;
    LoopStats::add(_loop.stats().messages_received, 1);
    if (publish.qos < 3) {
        LoopStats::add(_loop.stats().messages_received_by_qos[publish.qos], 1);
        LoopStats::add(_loop.stats().payload_bytes_received_by_qos[publish.qos],
                       publish.payload.size());
    }
    if (publish.qos > settings.maximum_qos) {
        // [MQTT-3.2.2-11]
        return protocol_error(codec::ReasonCode::QosNotSupported, "QoS not supported");
    }
    if (publish.retain && !settings.retain_available) {
        // [MQTT-3.2.2-14]
        return protocol_error(codec::ReasonCode::RetainNotSupported, "retain not supported");
    }
    if (!publish.properties.subscription_identifiers.empty()) {
        // Subscription Identifiers travel only from server to client [MQTT-3.3.4-6].
        return protocol_error(codec::ReasonCode::ProtocolError,
                              "subscription identifier in a client PUBLISH");
    }
    if (!resolve_topic_alias(publish)) {
        return false;
    }
    if (!core::is_valid_topic_name(publish.topic, settings.limits.max_topic_length,
                                   settings.limits.max_topic_levels)) {
        return protocol_error(codec::ReasonCode::TopicNameInvalid,
                              "topic name too long or too deep");
    }
    const codec::PacketType ack_type =
        publish.qos == 2 ? codec::PacketType::Pubrec : codec::PacketType::Puback;
    if (refuse_over_limits(publish, ack_type)) {
        return true;  // over the publish rate or the memory cap (connection_limits.cpp)
    }
    if (publish.topic.starts_with("$SYS")) {
        // $SYS belongs to the broker; clients cannot publish into it.
        LoopStats::add(_loop.stats().publish_dropped, 1);
        if (publish.qos > 0) {
            ack_publish(ack_type, publish.packet_id, codec::ReasonCode::NotAuthorized);
        }
        return true;
    }
    if (_loop.broker().acl_enabled()) {
        const auto acl = _loop.broker().acl();
        if (acl && !acl->can_publish(session.username, session.client_id(), publish.topic)) {
            // Not authorized: MQTT 5 says so in the acknowledgement [MQTT-3.4.2-1]; MQTT 3.1.1
            // has no way to, so the message is acknowledged normally and dropped.
            LoopStats::add(_loop.stats().publish_dropped, 1);
            spdlog::debug("client {} ({}): PUBLISH to '{}' not authorized", session.client_id(),
                          _peer, publish.topic);
            if (publish.qos > 0) {
                ack_publish(ack_type, publish.packet_id,
                            _version == codec::ProtocolVersion::V5
                                ? codec::ReasonCode::NotAuthorized
                                : codec::ReasonCode::Success);
            }
            return true;
        }
    }
    if (publish.properties.payload_format_indicator.value_or(0) == 1 &&
        !codec::is_valid_mqtt_utf8(publish.payload)) {
        // A payload declared UTF-8 that is not [MQTT-3.3.2-4]: refused with 0x99.
        LoopStats::add(_loop.stats().publish_dropped, 1);
        if (publish.qos > 0) {
            ack_publish(ack_type, publish.packet_id, codec::ReasonCode::PayloadFormatInvalid);
            return true;
        }
        return protocol_error(codec::ReasonCode::PayloadFormatInvalid, "payload is not UTF-8");
    }
    if (publish.qos == 2) {
        if (!session.on_incoming_qos2(publish.packet_id)) {
            // A retransmission of a QoS 2 PUBLISH we already own: acknowledge, do not deliver
            // again [MQTT-4.3.3-9].
            ack_publish(ack_type, publish.packet_id, codec::ReasonCode::Success);
            return true;
        }
        // Only MQTT 5 clients learn our Receive Maximum (CONNACK); 3.1.1 ones are not held to it.
        if (_version == codec::ProtocolVersion::V5 &&
            session.incoming_qos2_pending() > settings.limits.receive_maximum) {
            // More unacknowledged QoS 2 PUBLISHes than our Receive Maximum [MQTT-3.3.4-9].
            return protocol_error(codec::ReasonCode::ReceiveMaximumExceeded,
                                  "receive maximum exceeded");
        }
    }
    core::MessagePtr message =
        Broker::make_message(std::move(publish.topic), publish.payload, publish.qos, publish.retain,
                             std::move(publish.properties), session.uid(), _loop.now());
    // With storage on, the acknowledgement waits until every write it covers (retained message,
    // queue entries of persistent subscribers, the QoS 2 packet id) is durable. The writes this
    // loop makes are its batch's: the acknowledgement waits for that batch by number. Only a
    // delivery to another loop makes a barrier shared across loops.
    const bool durable_ack = publish.qos > 0 && _loop.persistence().enabled();
    if (durable_ack) {
        _loop.begin_local_publish(_id);
    }
    const RouteResult routed = _loop.broker().publish(_loop, message);
    WorkerLoop::PublishWrites writes =
        durable_ack ? _loop.end_local_publish() : WorkerLoop::PublishWrites{};
    if (routed.congested && settings.limits.pause_publishers) {
        // A receiver is behind: read nothing more from this client until it catches up, so that
        // the broker does not queue (or drop) without bound on its behalf.
        _paused_epoch = _loop.broker().drain_epoch();
    }
    AckBarrierPtr barrier = std::move(writes.shared);
    // QoS 2: the packet id must not become durable before the subscribers' queue entries, or a
    // crash in between would make the broker take the publisher's resend for a duplicate and
    // lose the message. Entries of persistent sessions, on any loop, are written by this loop
    // (LocalRouter) into the batch that takes the id: atomic. Only an entry another loop writes
    // itself (its session became persistent while the message travelled) commits in its own
    // batch: the id is then written once it is durable, and a crash in between could repeat
    // (never lose) the message.
    if (durable_ack && publish.qos == 2 && session.persistent()) {
        storage::WriteBatch::PutIncomingQos2 record{session.client_id(), publish.packet_id};
        if (!barrier) {
            // The routing writes (if any) are in this loop's batch: the id joins them.
            _loop.persistence().add(std::move(record));
            writes.in_batch = true;
        } else {
            // The PUBREC waits for the id, which waits for every routing write.
            AckBarrierPtr routing = std::move(barrier);
            barrier = make_barrier({});
            barrier->hold();  // released once the packet id is written
            routing->on_ready = [barrier, record = std::move(record)](WorkerLoop& loop) mutable {
                loop.persistence().add(std::move(record), barrier);
                barrier->release(true);  // never the last count: add() holds it until commit
            };
            routing->release(true);
        }
    }
    if (publish.qos > 0) {
        // MQTT 5 tells the publisher when nobody was subscribed (0x10).
        const codec::ReasonCode reason = routed.receivers == 0
                                             ? codec::ReasonCode::NoMatchingSubscribers
                                             : codec::ReasonCode::Success;
        // Both codes are below 0x80: no reason string, so no properties.
        const codec::AckHead ack{
            ack_type, publish.packet_id,
            _version == codec::ProtocolVersion::V5 ? static_cast<uint8_t>(reason) : uint8_t{0}};
        if (barrier) {
            barrier->set_ack(ack);
            send_ordered_ack(ack, barrier);
        } else if (writes.in_batch) {
            send_ack_when_committed(ack);
        } else {
            send_ordered_ack(ack, nullptr);
        }
    }
    return true;
}

}  // namespace tern::net
