// Runs one load scenario: starts the loops, steps through the phases, prints progress and the
// final report. The runner's thread only watches; the load loops do the work.
#pragma once

#include "bench_options.hpp"

namespace tern::bench {

// Returns the exit status: 0 when the run completed without errors, 1 otherwise (connection
// failures, the broker closing connections, protocol errors).
int run_load(const BenchOptions& options);

}  // namespace tern::bench
