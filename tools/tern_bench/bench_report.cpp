// Formatting of the final report: table for people, JSON for scripts.
#include "bench_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "topology.hpp"

namespace tern::bench {

namespace {

using Json = nlohmann::ordered_json;

double round_to(double value, int digits) {
    const double scale = std::pow(10.0, digits);
    return std::round(value * scale) / scale;
}

double micros(uint64_t nanos) {
    return round_to(static_cast<double>(nanos) / 1000.0, 1);
}

std::string fmt(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

std::string human_rate(double value) {
    if (value >= 1e6) {
        return fmt("%.2fM", value / 1e6);
    }
    if (value >= 1e3) {
        return fmt("%.1fk", value / 1e3);
    }
    return fmt("%.0f", value);
}

Json optional_number(bool present, double value) {
    return present ? Json(value) : Json(nullptr);
}

std::optional<double> broker_cpu_s(const BenchReport& r) {
    if (!r.broker_start || !r.broker_end) {
        return std::nullopt;
    }
    return r.broker_end->cpu_s - r.broker_start->cpu_s;
}

// Idle runs: memory the broker gained per connection between "before connecting" and "after".
std::optional<double> rss_per_connection(const BenchReport& r) {
    if (!r.broker_initial || !r.broker_end || r.totals.ready == 0) {
        return std::nullopt;
    }
    const double grown =
        static_cast<double>(r.broker_end->rss_kb) - static_cast<double>(r.broker_initial->rss_kb);
    return grown * 1024.0 / static_cast<double>(r.totals.ready);
}

}  // namespace

uint64_t BenchReport::loss() const noexcept {
    return totals.expected > totals.unique ? totals.expected - totals.unique : 0;
}

double BenchReport::rate_sent() const noexcept {
    return duration_s > 0.0 ? static_cast<double>(totals.sent) / duration_s : 0.0;
}

double BenchReport::rate_received() const noexcept {
    // A backlog delivered while draining counts at the pace it arrived; never divide by less
    // than the publishing time (a stalled run must not look fast).
    const double span = std::max(active_s, duration_s);
    return span > 0.0 ? static_cast<double>(totals.unique) / span : 0.0;
}

double BenchReport::rate_acked() const noexcept {
    // Like rate_received: acknowledgements that trail the publishing (a broker that stores
    // before acknowledging) count at the pace they came.
    const double span = std::max(acked_s, duration_s);
    return span > 0.0 ? static_cast<double>(totals.acked) / span : 0.0;
}

void print_table(std::ostream& out, const BenchReport& r) {
    const BenchOptions& o = *r.options;
    const auto& t = r.totals;
    const bool idle = o.scenario == Scenario::Idle;
    out << "tern-bench " << scenario_name(o.scenario) << "  target " << o.host << ':' << o.port
        << "  MQTT " << (o.version == codec::ProtocolVersion::V5 ? "5" : "3.1.1") << '\n';
    if (idle) {
        out << fmt("  connections     %.0f ready", static_cast<double>(t.ready))
            << fmt(", %.0f failed", static_cast<double>(t.failed))
            << fmt(", ramp %.2f s", r.connect_s) << fmt(", held %.1f s\n", r.duration_s);
        out << fmt("  keepalive       %.0f PINGREQ", static_cast<double>(t.pings))
            << fmt(", %.0f PINGRESP\n", static_cast<double>(t.pongs));
    } else {
        out << "  shape           " << r.publishers << " pub -> " << r.subscribers << " sub, QoS "
            << int{o.qos} << ", " << o.payload_size << " B, "
            << (o.open_loop ? std::string("open loop")
                            : "closed loop (window " + std::to_string(o.effective_window()) + ")")
            << (o.rate > 0 ? ", rate " + human_rate(o.rate) + "/s" : std::string()) << ", "
            << o.threads << " thread(s)\n";
        out << fmt("  sent            %.0f", static_cast<double>(t.sent)) << "  ("
            << human_rate(r.rate_sent()) << " msg/s)"
            << fmt("  acked %.0f", static_cast<double>(t.acked))
            << (o.qos > 0 ? "  (" + human_rate(r.rate_acked()) + " msg/s)\n" : std::string("\n"));
        out << fmt("  received        %.0f", static_cast<double>(t.received)) << "  ("
            << human_rate(r.rate_received()) << " msg/s)"
            << fmt("  expected %.0f\n", static_cast<double>(t.expected));
        out << fmt("  loss            %.0f", static_cast<double>(r.loss()))
            << fmt("  duplicates %.0f", static_cast<double>(t.duplicates))
            << fmt("  reordered %.0f", static_cast<double>(t.reordered))
            << fmt("  stalls %.0f\n", static_cast<double>(t.stalls));
        out << fmt("  latency us      p50 %.1f", micros(t.latency.percentile(50)))
            << fmt("  p90 %.1f", micros(t.latency.percentile(90)))
            << fmt("  p99 %.1f", micros(t.latency.percentile(99)))
            << fmt("  p99.9 %.1f", micros(t.latency.percentile(99.9)))
            << fmt("  max %.1f\n", micros(t.latency.max()));
    }
    if (o.persistent && !idle) {
        out << "  sessions        persistent, client ids " << persistent_client_id_prefix(o)
            << "N, wiped in " << fmt("%.2f s", r.wipe_s)
            << fmt(", %.0f resumed\n", static_cast<double>(t.sessions_resumed));
    }
    out << fmt("  tern-bench CPU  %.2f s", r.bench_cpu_s)
        << fmt(" (%.0f%% of a core)\n", r.elapsed_s > 0 ? 100.0 * r.bench_cpu_s / r.elapsed_s : 0);
    if (const auto cpu = broker_cpu_s(r)) {
        out << fmt("  broker CPU      %.2f s", *cpu)
            << fmt(" (%.0f%% of a core)", r.elapsed_s > 0 ? 100.0 * *cpu / r.elapsed_s : 0)
            << fmt("  peak RSS %.1f MiB\n", static_cast<double>(r.broker_end->hwm_kb) / 1024.0);
    }
    if (const auto per = rss_per_connection(r); per && idle) {
        out << fmt("  broker RSS      %.1f MiB", r.broker_initial->rss_kb / 1024.0)
            << fmt(" -> %.1f MiB", r.broker_end->rss_kb / 1024.0)
            << fmt("  (%.0f bytes per connection)\n", *per);
    }
    if (r.error_count > 0) {
        out << "  errors          " << r.error_count << '\n';
        for (const auto& error : r.errors) {
            out << "    " << error << '\n';
        }
    }
}

std::string json_line(const BenchReport& r) {
    const BenchOptions& o = *r.options;
    const auto& t = r.totals;
    const auto cpu = broker_cpu_s(r);
    const auto per_connection = rss_per_connection(r);
    Json j;
    j["tool"] = "tern-bench";
    j["scenario"] = scenario_name(o.scenario);
    j["target"] = o.host + ":" + std::to_string(o.port);
    j["mqtt"] = o.version == codec::ProtocolVersion::V5 ? "5" : "3.1.1";
    j["qos"] = o.qos;
    j["payload"] = o.payload_size;
    j["publishers"] = r.publishers;
    j["subscribers"] = r.subscribers;
    j["connections"] = r.clients;
    j["load"] = o.open_loop ? "open" : "closed";
    j["window"] = o.open_loop ? 0 : o.effective_window();
    j["rate_limit"] = o.rate;
    j["threads"] = o.threads;
    j["persistent"] = o.persistent;
    j["session_client_id_prefix"] = o.persistent ? Json(persistent_client_id_prefix(o)) : Json();
    j["sessions_resumed"] = t.sessions_resumed;
    j["wipe_s"] = round_to(r.wipe_s, 3);
    j["duration_s"] = round_to(r.duration_s, 3);
    j["elapsed_s"] = round_to(r.elapsed_s, 3);
    j["sent"] = t.sent;
    j["expected"] = t.expected;
    j["received"] = t.received;
    j["unique"] = t.unique;
    j["acked"] = t.acked;
    j["rejected"] = t.rejected;
    j["loss"] = r.loss();
    j["loss_pct"] = t.expected > 0 ? round_to(100.0 * r.loss() / t.expected, 4) : 0.0;
    j["duplicates"] = t.duplicates;
    j["reordered"] = t.reordered;
    j["unexpected"] = t.unexpected;
    j["stalls"] = t.stalls;
    j["rate_sent"] = round_to(r.rate_sent(), 1);
    j["rate_received"] = round_to(r.rate_received(), 1);
    j["rate_acked"] = round_to(r.rate_acked(), 1);
    j["latency_us"] = Json{{"p50", micros(t.latency.percentile(50))},
                           {"p90", micros(t.latency.percentile(90))},
                           {"p99", micros(t.latency.percentile(99))},
                           {"p99_9", micros(t.latency.percentile(99.9))},
                           {"max", micros(t.latency.max())},
                           {"mean", round_to(t.latency.mean() / 1000.0, 1)}};
    j["bench_cpu_s"] = round_to(r.bench_cpu_s, 3);
    j["bench_cpu_pct"] = r.elapsed_s > 0 ? round_to(100.0 * r.bench_cpu_s / r.elapsed_s, 1) : 0.0;
    j["broker_pid"] = o.pid ? Json(*o.pid) : Json(nullptr);
    j["broker_cpu_s"] = optional_number(cpu.has_value(), cpu ? round_to(*cpu, 3) : 0);
    j["broker_cpu_pct"] = optional_number(cpu.has_value() && r.elapsed_s > 0,
                                          cpu ? round_to(100.0 * *cpu / r.elapsed_s, 1) : 0);
    j["broker_rss_before_kb"] = optional_number(r.broker_initial.has_value(),
                                                r.broker_initial ? r.broker_initial->rss_kb : 0);
    j["broker_rss_after_kb"] =
        optional_number(r.broker_end.has_value(), r.broker_end ? r.broker_end->rss_kb : 0);
    j["broker_peak_rss_kb"] =
        optional_number(r.broker_end.has_value(), r.broker_end ? r.broker_end->hwm_kb : 0);
    j["broker_rss_per_conn_bytes"] = optional_number(
        per_connection.has_value(), per_connection ? std::round(*per_connection) : 0);
    j["ready"] = t.ready;
    j["connect_failures"] = t.failed;
    j["connect_s"] = round_to(r.connect_s, 3);
    j["pings"] = t.pings;
    j["pongs"] = t.pongs;
    j["errors"] = r.error_count;
    j["first_errors"] = r.errors;
    return j.dump();
}

}  // namespace tern::bench
