// Routing of published messages to subscribers, behind an interface so a cluster can extend it.
#pragma once

#include <cstddef>

#include "core/message.hpp"

namespace tern::net {

class WorkerLoop;

// Delivers a message to every matching subscriber. Called on the loop that received the message;
// implementations must not block. The local router matches the subscription tree and hands each
// receiver to its owning loop; a cluster router would also forward to other nodes.
class Router {
  public:
    virtual ~Router() = default;
    // Returns how many sessions the message was handed to on this node.
    virtual std::size_t route(WorkerLoop& origin, const core::MessagePtr& message) = 0;
};

}  // namespace tern::net
