// Start-up: rebuilds sessions, queues and retained messages from the durable store.
#pragma once

#include "storage/store.hpp"

namespace tern::net {

class Broker;

// Streams the store's content into the broker's in-memory state. Runs before the worker threads
// start, so it may touch every loop's sessions directly.
storage::LoadSummary load_state(Broker& broker, storage::Store& store);

}  // namespace tern::net
