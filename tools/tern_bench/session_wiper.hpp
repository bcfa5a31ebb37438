// Ends the broker's sessions of --persistent subscribers: one short Clean Session 1 connection
// per client identifier, before the run (a clean start) and after it (nothing left behind).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench_options.hpp"

namespace tern::bench {

// For each identifier, in turn: TCP connect to the target, CONNECT with Clean Session 1 (MQTT 5:
// Clean Start 1 and no Session Expiry Interval, i.e. 0), expect an accepting CONNACK, send
// DISCONNECT, half-close and wait until the broker closes its side. Clean Session 1 discards any
// existing session of that identifier (3.1.1 [MQTT-3.1.2-6], 5 [MQTT-3.1.2-4]) and the new one
// ends with the connection, so afterwards the broker holds no session for it. Waiting for the
// broker's close means it has finished with the connection before anyone reuses the identifier.
// Blocking, with `timeout_ms` per step. Returns the first failure, naming the identifier.
std::optional<std::string> wipe_sessions(const BenchOptions& options,
                                         const std::vector<std::string>& client_ids,
                                         uint32_t timeout_ms);

}  // namespace tern::bench
