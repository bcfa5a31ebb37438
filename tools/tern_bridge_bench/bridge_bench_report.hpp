// The end-of-run figures of tern-bridge-bench: a human-readable table and one JSON line.
#pragma once

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bridge_bench_options.hpp"
#include "client_stats.hpp"
#include "device_publisher.hpp"
#include "process_stats.hpp"

namespace tern::bridge_bench {

struct BridgeReport {
    const Options* options = nullptr;
    std::array<KindStats, kKinds> kinds;
    PublishTotals published;
    bool connect_timed_out = false;
    double connect_s = 0.0;        // first client connect until every client was ready or failed
    double publish_s = 0.0;        // publishing time (idle: holding)
    double active_s = 0.0;         // publishing start until the last message arrived
    double bench_cpu_s = 0.0;      // the whole tool, publishing and draining
    double publisher_cpu_s = 0.0;  // the publisher thread, publishing and draining
    double clients_cpu_s = 0.0;    // the client loop threads, publishing and draining
    double measured_s = 0.0;       // publishing and draining: the CPU figures' interval
    std::optional<bench::ProcessSample> broker_initial;    // publishers connected, no client
    std::optional<bench::ProcessSample> broker_connected;  // every client ready, settled
    std::optional<bench::ProcessSample> broker_end;        // after draining
    std::string error;                                     // a setup error that ended the run early

    uint64_t ready_clients() const noexcept { return kinds[0].ready + kinds[1].ready; }
    // Broker RSS growth per ready client (bytes), or nullopt without --pid.
    std::optional<double> rss_per_client_bytes() const noexcept;
};

void print_table(std::ostream& out, const BridgeReport& report);

// One line of JSON, no newline; field names are documented in tern-bridge-bench(1).
std::string json_line(const BridgeReport& report);

}  // namespace tern::bridge_bench
