// Routing of published messages to subscribers, behind an interface so a cluster can extend it.
#pragma once

#include <cstddef>

#include "core/message.hpp"

namespace tern::net {

class WorkerLoop;

// What routing one message did.
struct RouteResult {
    std::size_t receivers = 0;  // sessions (and bridge clients) it was handed to on this node
    // A receiver is online and behind (SubscriberState::congested): the publisher should pause.
    bool congested = false;
};

// Delivers a message to every matching subscriber. Called on the loop that received the message;
// implementations must not block. The local router matches the subscription tree and hands each
// receiver to its owning loop; a cluster router would also forward to other nodes.
class Router {
  public:
    virtual ~Router() = default;
    virtual RouteResult route(WorkerLoop& origin, const core::MessagePtr& message) = 0;
};

}  // namespace tern::net
