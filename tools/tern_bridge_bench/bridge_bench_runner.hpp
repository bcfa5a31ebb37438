// Runs one tern-bridge-bench measurement: publishers, then the web clients, settle, publish,
// drain, and the report.
#pragma once

#include "bridge_bench_options.hpp"

namespace tern::bridge_bench {

// Prints the table and the JSON line; returns the exit status (0, or 1 after a setup error).
int run_bridge_bench(const Options& options);

}  // namespace tern::bridge_bench
