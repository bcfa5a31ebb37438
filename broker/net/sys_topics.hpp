// The $SYS/broker/... topics: broker statistics published as retained messages.
#pragma once

namespace tern::net {

class Broker;
class WorkerLoop;

// Publishes every $SYS topic once, retained, from `loop`'s thread.
void publish_sys_topics(Broker& broker, WorkerLoop& loop);

}  // namespace tern::net
