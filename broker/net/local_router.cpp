// Local routing: receivers on this loop get the message now, others in one batch per loop.
#include "local_router.hpp"

#include <algorithm>
#include <vector>

#include "broker.hpp"
#include "worker_loop.hpp"

namespace tern::net {

RouteResult LocalRouter::route(WorkerLoop& origin, const core::MessagePtr& message) {
    // One scratch vector per thread: match() clears and refills it without reallocating.
    thread_local std::vector<core::Delivery> deliveries;
    const core::LimitSettings& limits = _broker.settings().limits;
    const auto size_units =
        static_cast<uint32_t>((message->topic.size() + message->payload.size()) / 256);
    core::TransitCount transit{origin.index(), message->qos, size_units,
                               _broker.slow_subscriber_messages()};
    _broker.subscriptions().match(message->topic, message->publisher_uid, deliveries,
                                  limits.pause_publishers ? &transit : nullptr);
    RouteResult result{deliveries.size(), false};
    for (core::Delivery& delivery : deliveries) {
        result.congested |= delivery.congested;
        core::OutgoingMessage outgoing;
        outgoing.message = message;
        // Delivered at the lower of the published and the granted QoS [MQTT-3.8.4-8].
        outgoing.qos = std::min(message->qos, delivery.qos);
        // Live messages carry RETAIN 0 unless Retain As Published [MQTT-3.3.1-12, 3.3.1-13].
        outgoing.retain = delivery.retain_as_published && message->retain;
        outgoing.subscription_ids = std::move(delivery.subscription_ids);
        if (delivery.subscriber.loop == origin.index()) {
            origin.deliver_local(delivery.subscriber.session_uid, std::move(outgoing),
                                 origin.publishing_barrier());
        } else if (delivery.durable && outgoing.qos == 0 && origin.persistence().enabled()) {
            // QoS 0 may be queued (and stored) there too: its key is taken now, in publishing
            // order with the QoS 1/2 entries written below, so a restart keeps the order.
            outgoing.store_seq = _broker.next_store_seq();
            origin.deliver_remote(delivery.subscriber.loop, delivery.subscriber.session_uid,
                                  std::move(outgoing), origin.shared_publishing_barrier());
        } else if (delivery.durable && origin.persistence().enabled()) {
            // A persistent session on another loop: its queue entry goes into this loop's batch,
            // with the publisher's own records (its QoS 2 packet id, the retained message). A
            // crash keeps all of them or none, so a QoS 2 PUBLISH resent after a restart is never
            // delivered twice, nor taken for a duplicate of a message that was lost.
            outgoing.store_seq = _broker.next_store_seq();
            origin.persistence().add(Persistence::put_queued(delivery.client_id, outgoing,
                                                             storage::QueuedRecord::State::Queued,
                                                             0, origin.now(), true),
                                     origin.publishing_barrier());
            origin.deliver_remote(delivery.subscriber.loop, delivery.subscriber.session_uid,
                                  std::move(outgoing), nullptr, std::move(delivery.client_id),
                                  delivery.transit_weight);
        } else {
            origin.deliver_remote(delivery.subscriber.loop, delivery.subscriber.session_uid,
                                  std::move(outgoing), origin.shared_publishing_barrier(), {},
                                  delivery.transit_weight);
        }
    }
    return result;
}

}  // namespace tern::net
