// The single-node router: subscription tree match, then per-loop hand-off of each receiver.
#pragma once

#include "router.hpp"

namespace tern::net {

class Broker;

class LocalRouter final : public Router {
  public:
    explicit LocalRouter(Broker& broker) : _broker(broker) {}
    RouteResult route(WorkerLoop& origin, const core::MessagePtr& message) override;

  private:
    Broker& _broker;
};

}  // namespace tern::net
