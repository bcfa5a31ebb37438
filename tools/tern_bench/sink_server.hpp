// --sink: tern-bench as the target. Accepts MQTT connections, answers the handshake, SUBSCRIBE,
// PINGREQ and the QoS 1/2 exchanges minimally, counts every PUBLISH and throws it away. It shows
// how fast the generator can send when the receiver costs almost nothing.
#pragma once

#include "bench_options.hpp"

namespace tern::bench {

// Serves on options.host:options.port until SIGINT/SIGTERM, or for --duration seconds when
// given, printing a progress line per second to stderr and, at the end, a table and one JSON
// line to stdout. Returns the exit status (1 when the port cannot be bound).
int run_sink(const BenchOptions& options);

}  // namespace tern::bench
