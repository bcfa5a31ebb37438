// An in-process receiver of routed messages (a bridge client) that lives on one worker loop.
#pragma once

#include "core/session.hpp"

namespace tern::net {

// A sink subscribes through the shared SubscriptionTree with SubscriberKey{loop, uid}, where uid
// comes from Broker::next_session_uid() and was registered with WorkerLoop::add_sink(uid, sink)
// on that loop. WorkerLoop::deliver_local hands it every matching message on that loop's thread.
// The sink checks expiry and the ACL itself; it unsubscribes its filters and calls remove_sink
// before it goes away.
class MessageSink {
  public:
    virtual ~MessageSink() = default;
    // Called on the sink's loop; `message.qos` is min(published QoS, granted QoS) and
    // `message.retain` the RETAIN flag a subscriber would get (0 for live messages unless the
    // subscription asked for Retain As Published).
    virtual void on_message(const core::OutgoingMessage& message) = 0;
    // Called on the sink's loop when QoS 0 messages for this loop were shed because it fell
    // too far behind (WorkerLoop::flush_outbox): the sink may have missed `dropped` of them and
    // should tell its client (a gap) rather than pretend the stream is complete.
    virtual void on_overload(uint64_t dropped) { (void)dropped; }
};

}  // namespace tern::net
