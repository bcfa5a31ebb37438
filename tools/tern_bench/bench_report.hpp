// The end-of-run figures: a human-readable table and one machine-readable JSON line.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "loop_stats.hpp"
#include "process_stats.hpp"

namespace tern::bench {

struct BenchReport {
    const BenchOptions* options = nullptr;
    uint32_t publishers = 0;
    uint32_t subscribers = 0;
    uint64_t clients = 0;
    LoopStats totals;
    double connect_s = 0.0;   // first connect until every client was ready
    double duration_s = 0.0;  // publishing (idle: holding) time
    double elapsed_s = 0.0;   // publishing plus draining
    double active_s = 0.0;    // start until the last message arrived
    double acked_s = 0.0;     // start until the last acknowledgement arrived
    double bench_cpu_s = 0.0;
    double wipe_s = 0.0;  // --persistent: Clean Session 1 connections before and after
    std::optional<ProcessSample> broker_initial;  // before the first connection
    std::optional<ProcessSample> broker_start;    // when publishing (holding) began
    std::optional<ProcessSample> broker_end;      // after draining
    uint64_t error_count = 0;
    std::vector<std::string> errors;

    uint64_t loss() const noexcept;
    double rate_sent() const noexcept;
    double rate_received() const noexcept;
    double rate_acked() const noexcept;
};

void print_table(std::ostream& out, const BenchReport& report);

// One line of JSON, no newline; field names are documented in tern-bench(1).
std::string json_line(const BenchReport& report);

}  // namespace tern::bench
