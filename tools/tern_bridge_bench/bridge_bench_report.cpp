// Formatting of the report: per-kind delivery and latency, the devices' rate, CPU and memory.
#include "bridge_bench_report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace tern::bridge_bench {

namespace {

constexpr double kPercentiles[] = {50.0, 90.0, 99.0, 99.9};
constexpr const char* kPercentileNames[] = {"p50", "p90", "p99", "p999"};

double ms(uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

double percent(double part, double whole) {
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

std::string reasons_text(const std::map<std::string, uint64_t>& reasons) {
    std::string out;
    for (const auto& [reason, count] : reasons) {
        out += (out.empty() ? "" : "; ") + std::to_string(count) + " x " + reason;
    }
    return out;
}

std::string format(const char* pattern, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}

}  // namespace

std::optional<double> BridgeReport::rss_per_client_bytes() const noexcept {
    if (!broker_initial || !broker_connected || ready_clients() == 0) {
        return std::nullopt;
    }
    const double grown =
        static_cast<double>(broker_connected->rss_kb) - static_cast<double>(broker_initial->rss_kb);
    return grown * 1024.0 / static_cast<double>(ready_clients());
}

void print_table(std::ostream& out, const BridgeReport& r) {
    const Options& o = *r.options;
    out << "tern-bridge-bench: " << o.sse_clients << " SSE + " << o.ws_clients
        << " WebSocket clients on '" << o.filter << "' (" << o.groups << " group(s)"
        << (o.conflate_ms ? ", SSE conflate " + std::to_string(o.conflate_ms) + " ms" : "") << "), "
        << o.devices << " devices at " << o.rate << " msg/s for " << o.duration_s << " s\n";
    if (!r.error.empty()) {
        out << "  ERROR: " << r.error << '\n';
    }
    out << "  connect: " << format("%.2f", r.connect_s) << " s"
        << (r.connect_timed_out ? " (timed out)" : "") << '\n';
    out << "  devices: sent " << r.published.sent << " in " << format("%.2f", r.publish_s)
        << " s = " << format("%.0f", r.publish_s > 0 ? r.published.sent / r.publish_s : 0.0)
        << " msg/s; late pacing ticks " << r.published.late_ticks << "; max queued "
        << r.published.max_queued << " B\n";
    for (std::size_t k = 0; k < kKinds; ++k) {
        const KindStats& s = r.kinds[k];
        if (s.started == 0) {
            continue;
        }
        const auto expected = static_cast<double>(r.published.expected[k]);
        out << "  " << kind_name(static_cast<ClientKind>(k)) << ": ready " << s.ready << '/'
            << s.started << ", failed " << s.failed << ", cut off " << s.cut << '\n';
        if (!s.failures.empty()) {
            out << "      failed: " << reasons_text(s.failures) << '\n';
        }
        if (!s.cuts.empty()) {
            out << "      cut off: " << reasons_text(s.cuts) << '\n';
        }
        const bool conflated = o.conflate_ms != 0 && static_cast<ClientKind>(k) == ClientKind::Sse;
        out << "      delivered " << s.delivered << " of " << r.published.expected[k]
            << (conflated ? " published (conflated: at most one per topic and interval)"
                          : " expected")
            << " (" << format("%.1f", percent(static_cast<double>(s.delivered), expected))
            << " %), " << format("%.0f", r.active_s > 0 ? s.delivered / r.active_s : 0.0)
            << " msg/s, " << format("%.1f", s.bytes / 1e6) << " MB read";
        if (s.no_stamp != 0) {
            out << ", " << s.no_stamp << " without \"t\"";
        }
        out << '\n';
        out << "      latency ms:";
        for (std::size_t i = 0; i < 4; ++i) {
            out << ' ' << kPercentileNames[i] << ' '
                << format("%.2f", ms(s.latency.percentile(kPercentiles[i])));
        }
        out << " max " << format("%.2f", ms(s.latency.max())) << '\n';
    }
    const double span = r.measured_s > 0 ? r.measured_s : 1.0;
    out << "  bench CPU: " << format("%.0f", percent(r.bench_cpu_s, span)) << " % (publisher "
        << format("%.0f", percent(r.publisher_cpu_s, span)) << " %, clients "
        << format("%.0f", percent(r.clients_cpu_s, span)) << " %) over "
        << format("%.1f", r.measured_s) << " s\n";
    if (r.broker_initial && r.broker_connected && r.broker_end) {
        out << "  broker CPU: "
            << format("%.0f", percent(r.broker_end->cpu_s - r.broker_connected->cpu_s, span))
            << " %; RSS " << r.broker_initial->rss_kb / 1024 << " MiB without clients, "
            << r.broker_connected->rss_kb / 1024 << " MiB with them, "
            << r.broker_end->rss_kb / 1024 << " MiB at the end (peak "
            << r.broker_end->hwm_kb / 1024 << " MiB)\n";
        out << "  RSS per bridge client: "
            << format("%.1f", r.rss_per_client_bytes().value_or(0.0) / 1024.0) << " KiB\n";
    }
}

std::string json_line(const BridgeReport& r) {
    const Options& o = *r.options;
    nlohmann::ordered_json j;
    j["tool"] = "tern-bridge-bench";
    j["sse_clients"] = o.sse_clients;
    j["ws_clients"] = o.ws_clients;
    j["filter"] = o.filter;
    j["groups"] = o.groups;
    j["conflate_ms"] = o.conflate_ms;
    j["devices"] = o.devices;
    j["rate"] = o.rate;
    j["duration_s"] = o.duration_s;
    j["error"] = r.error.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.error);
    j["connect_s"] = r.connect_s;
    j["connect_timed_out"] = r.connect_timed_out;
    j["sent"] = r.published.sent;
    j["publish_s"] = r.publish_s;
    j["rate_sent"] = r.publish_s > 0 ? r.published.sent / r.publish_s : 0.0;
    j["late_ticks"] = r.published.late_ticks;
    j["active_s"] = r.active_s;
    for (std::size_t k = 0; k < kKinds; ++k) {
        const KindStats& s = r.kinds[k];
        nlohmann::ordered_json kind;
        kind["started"] = s.started;
        kind["ready"] = s.ready;
        kind["failed"] = s.failed;
        kind["cut"] = s.cut;
        kind["failures"] = s.failures;
        kind["cuts"] = s.cuts;
        kind["expected"] = r.published.expected[k];
        kind["delivered"] = s.delivered;
        kind["rate_delivered"] = r.active_s > 0 ? s.delivered / r.active_s : 0.0;
        kind["bytes"] = s.bytes;
        kind["no_stamp"] = s.no_stamp;
        for (std::size_t i = 0; i < 4; ++i) {
            kind[std::string("latency_") + kPercentileNames[i] + "_ms"] =
                ms(s.latency.percentile(kPercentiles[i]));
        }
        kind["latency_max_ms"] = ms(s.latency.max());
        j[kind_name(static_cast<ClientKind>(k))] = std::move(kind);
    }
    j["measured_s"] = r.measured_s;
    const double span = r.measured_s > 0 ? r.measured_s : 1.0;
    j["bench_cpu_s"] = r.bench_cpu_s;
    j["bench_cpu_pct"] = percent(r.bench_cpu_s, span);
    j["publisher_cpu_s"] = r.publisher_cpu_s;
    j["clients_cpu_s"] = r.clients_cpu_s;
    if (r.broker_initial && r.broker_connected && r.broker_end) {
        j["broker_cpu_s"] = r.broker_end->cpu_s - r.broker_connected->cpu_s;
        j["broker_cpu_pct"] = percent(j["broker_cpu_s"].get<double>(), span);
        j["broker_rss_initial_kb"] = r.broker_initial->rss_kb;
        j["broker_rss_connected_kb"] = r.broker_connected->rss_kb;
        j["broker_rss_end_kb"] = r.broker_end->rss_kb;
        j["broker_hwm_kb"] = r.broker_end->hwm_kb;
        j["rss_per_client_bytes"] = r.rss_per_client_bytes().value_or(0.0);
    }
    return j.dump();
}

}  // namespace tern::bridge_bench
