// Local routing: receivers on this loop get the message now, others in one batch per loop.
#include "local_router.hpp"

#include <algorithm>
#include <vector>

#include "broker.hpp"
#include "worker_loop.hpp"

namespace tern::net {

std::size_t LocalRouter::route(WorkerLoop& origin, const core::MessagePtr& message) {
    // One scratch vector per thread: match() clears and refills it without reallocating.
    thread_local std::vector<core::Delivery> deliveries;
    _broker.subscriptions().match(message->topic, message->publisher_uid, deliveries);
    for (core::Delivery& delivery : deliveries) {
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
        } else {
            origin.deliver_remote(delivery.subscriber.loop, delivery.subscriber.session_uid,
                                  std::move(outgoing), origin.publishing_barrier());
        }
    }
    return deliveries.size();
}

}  // namespace tern::net
