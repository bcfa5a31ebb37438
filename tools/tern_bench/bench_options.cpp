// Command-line definition and cross-checks for tern-bench (CLI11).
#include "bench_options.hpp"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <map>

namespace tern::bench {

namespace {

constexpr const char* kDescription =
    "tern-bench: MQTT load generator for the Tern broker (and any MQTT broker on this machine).";

constexpr const char* kFooter = R"(Scenarios:
  fan-in    P publishers (--publishers, default 8) -> 1 subscriber on PREFIX/#
  fan-out   1 publisher -> M subscribers (--subscribers, default 100)
  pairs     N publisher/subscriber pairs, one topic each (--pairs, default 50)
  latency   pairs (default 10) at a fixed --rate (default 10000 msg/s in total)
  idle      N connections (--connections, default 1000) that only answer keepalive
  publish   P publishers and no subscriber (for --sink runs)

Closed loop (default): a publisher keeps at most --window messages sent but not yet received by
its subscriber; with several subscribers, by the slowest one. --open-loop sends as fast as the
socket takes. Only loopback targets (127.0.0.0/8) are accepted.

--persistent: subscribers connect with Clean Session 0 (MQTT 5: Clean Start 0, Session Expiry
Interval 3600 s), so the broker keeps (and may store) their sessions and queues. Their client ids
are fixed per --topic-prefix (tbpHHHHHHHH-sN, HHHHHHHH a hash of the prefix). Before the run each
id first connects once with Clean Session 1, which discards whatever session an earlier or killed
run left; after the run, once the subscribers have disconnected, each id connects once more with
Clean Session 1 so the broker is left without them. A subscriber whose CONNACK still says
"session present" is counted (sessions_resumed). Publishers always use clean sessions. In a
closed loop the window also caps each publisher's unacknowledged QoS 1/2 PUBLISHes, so a broker
that acknowledges only once a message is stored runs at the pace it stores (rate_acked).

Output: a progress line per second on stderr, a table and one JSON line (last) on stdout.
Exit status: 0 done, 1 connection or protocol error, 2 bad command line.)";

const std::map<std::string, Scenario> kScenarios{
    {"fan-in", Scenario::FanIn},    {"fan-out", Scenario::FanOut}, {"pairs", Scenario::Pairs},
    {"latency", Scenario::Latency}, {"idle", Scenario::Idle},      {"publish", Scenario::Publish},
};

struct RawFlags {
    std::string scenario = "pairs";
    std::string version = "3.1.1";
    std::optional<uint32_t> publishers;
    std::optional<uint32_t> subscribers;
    std::optional<uint32_t> pairs;
    std::optional<uint32_t> connections;
    std::optional<double> rate;
    std::optional<uint32_t> source_ips;
    int qos = 0;
};

void define_flags(CLI::App& app, BenchOptions& o, RawFlags& raw) {
    app.add_flag("--sink", o.sink, "Be the target: accept MQTT, ack and count PUBLISHes, discard");
    app.add_option("-H,--host", o.host, "Broker (or sink listen) address, 127.0.0.0/8 only");
    app.add_option("-p,--port", o.port, "Broker (or sink listen) port")
        ->check(CLI::Range(1, 65535));
    app.add_option("--scenario", raw.scenario, "fan-in, fan-out, pairs, latency, idle or publish")
        ->check(CLI::IsMember({"fan-in", "fan-out", "pairs", "latency", "idle", "publish"}));
    app.add_option("--publishers", raw.publishers, "fan-in/publish: publishers")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--subscribers", raw.subscribers, "fan-out: subscribers")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--pairs", raw.pairs, "pairs/latency: publisher/subscriber pairs")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--connections", raw.connections, "idle: connections to hold")
        ->check(CLI::Range(1u, 1000000u));
    app.add_option("-q,--qos", raw.qos, "QoS 0, 1 or 2")->check(CLI::Range(0, 2));
    app.add_option("-s,--payload", o.payload_size, "Payload bytes (>= 16: id, sequence, time)")
        ->check(CLI::Range(16u, 64u * 1024u * 1024u));
    app.add_option("-d,--duration", o.duration_s, "Seconds of load (sink: stop after, else never)")
        ->check(CLI::Range(0.001, 86400.0));
    app.add_option("-r,--rate", raw.rate, "Messages per second over all publishers, 0 = max")
        ->check(CLI::Range(0.0, 1e9));
    app.add_option("-V,--mqtt-version", raw.version, "3.1.1 or 5")
        ->check(CLI::IsMember({"3.1.1", "311", "4", "5", "5.0"}));
    app.add_flag("--open-loop", o.open_loop, "Publish as fast as the socket takes it");
    app.add_option("-w,--window", o.window, "Closed loop: messages in flight per publisher")
        ->check(CLI::Range(1u, 10'000'000u));
    app.add_option("--window-bytes", o.window_bytes,
                   "Closed loop: also cap in-flight payload bytes per publisher (0 = no cap)");
    app.add_option("-t,--threads", o.threads, "Generator threads (event loops)")
        ->check(CLI::Range(1u, 2u));
    app.add_option("--pid", o.pid, "Broker process id: report its CPU and memory");
    app.add_option("-k,--keepalive", o.keep_alive, "Keep alive seconds in CONNECT (0 = off)");
    app.add_option("--ramp", o.ramp, "Connections started per second (0 = no limit)")
        ->check(CLI::Range(0.0, 1e7));
    app.add_option("--handshakes", o.handshakes,
                   "Connections per thread allowed between TCP connect and CONNACK/SUBACK")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--source-ips", raw.source_ips,
                   "Bind connections round-robin to this many source addresses from "
                   "--source-base (idle default: 2 per 10,000 connections, at least 2)")
        ->check(CLI::Range(0u, 1000u));
    app.add_option("--source-base", o.source_base, "First source address (127.0.0.0/8)");
    app.add_option("--drain-timeout", o.drain_timeout_s, "Seconds to wait for in-flight messages")
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--connect-timeout", o.connect_timeout_s,
                   "Seconds for all connections to be ready (0 = 30 + ramp time)")
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--stall-timeout", o.stall_timeout_ms,
                   "Closed loop: ms without delivery before a full window counts as lost")
        ->check(CLI::Range(1u, 3'600'000u));
    app.add_option("--topic-prefix", o.topic_prefix, "First topic level");
    app.add_flag("!--no-progress", o.progress, "No progress line on stderr");
    app.add_flag("--persistent", o.persistent,
                 "Subscribers keep persistent sessions (Clean Session 0), wiped before and after "
                 "the run (see below)");
}

// Cross-flag rules CLI11 cannot express; returns an error message or "".
std::string resolve(BenchOptions& o, const RawFlags& raw, const CLI::App& app) {
    std::string normalized;
    if (!parse_loopback(o.host, normalized)) {
        return "refusing target '" + o.host + "': only loopback addresses (127.0.0.0/8)";
    }
    o.host = normalized;
    if (!parse_loopback(o.source_base, normalized)) {
        return "refusing source address '" + o.source_base + "': only 127.0.0.0/8";
    }
    o.source_base = normalized;
    o.scenario = kScenarios.at(raw.scenario);
    o.qos = static_cast<uint8_t>(raw.qos);
    o.version =
        raw.version.starts_with('5') ? codec::ProtocolVersion::V5 : codec::ProtocolVersion::V311;
    o.duration_given = app.count("--duration") > 0;
    o.rate = raw.rate.value_or(0.0);
    const auto reject = [&](const char* flag, bool allowed) {
        return allowed || app.count(flag) == 0
                   ? std::string()
                   : std::string(flag) + " does not apply to " + raw.scenario;
    };
    const Scenario s = o.scenario;
    for (const auto& error :
         {reject("--publishers", s == Scenario::FanIn || s == Scenario::Publish),
          reject("--subscribers", s == Scenario::FanOut),
          reject("--pairs", s == Scenario::Pairs || s == Scenario::Latency),
          reject("--connections", s == Scenario::Idle), reject("--rate", s != Scenario::Idle),
          reject("--persistent", s != Scenario::Idle && s != Scenario::Publish)}) {
        if (!error.empty()) {
            return error;
        }
    }
    switch (s) {
        case Scenario::FanIn:
            o.publishers = raw.publishers.value_or(8);
            o.subscribers = 1;
            break;
        case Scenario::FanOut:
            o.publishers = 1;
            o.subscribers = raw.subscribers.value_or(100);
            break;
        case Scenario::Pairs:
        case Scenario::Latency:
            o.publishers = o.subscribers = raw.pairs.value_or(s == Scenario::Latency ? 10 : 50);
            if (s == Scenario::Latency && !raw.rate) {
                o.rate = 10'000.0;
            }
            if (s == Scenario::Latency && o.rate <= 0.0) {
                return "latency needs a --rate above 0";
            }
            break;
        case Scenario::Idle:
            o.connections = raw.connections.value_or(1000);
            break;
        case Scenario::Publish:
            o.publishers = raw.publishers.value_or(1);
            o.subscribers = 0;
            if (!o.open_loop && o.rate == 0.0) {
                // Nothing ever comes back to close the loop: publish is open loop by nature.
                o.open_loop = true;
            }
            break;
    }
    o.source_ips = raw.source_ips.value_or(
        s == Scenario::Idle ? std::max<uint32_t>(2, (o.connections + 9'999) / 10'000 * 2) : 0);
    const uint32_t base = ntohl(inet_addr(o.source_base.c_str()));
    if (o.source_ips > 0 && ((base + o.source_ips - 1) >> 24) != 127) {
        return "--source-base + --source-ips leaves 127.0.0.0/8";
    }
    if (o.pid && *o.pid <= 0) {
        return "--pid must be a process id";
    }
    if (o.sink && o.persistent) {
        return "--persistent does not apply to --sink";
    }
    return {};
}

}  // namespace

std::string_view scenario_name(Scenario scenario) noexcept {
    for (const auto& [name, value] : kScenarios) {
        if (value == scenario) {
            return name;
        }
    }
    return "?";
}

uint32_t BenchOptions::effective_window() const noexcept {
    if (window_bytes == 0) {
        return window;
    }
    const uint64_t by_bytes = std::max<uint64_t>(1, window_bytes / payload_size);
    return static_cast<uint32_t>(std::min<uint64_t>(window, by_bytes));
}

bool parse_loopback(const std::string& address, std::string& normalized) {
    const std::string candidate = address == "localhost" ? "127.0.0.1" : address;
    in_addr parsed{};
    if (inet_pton(AF_INET, candidate.c_str(), &parsed) != 1) {
        return false;
    }
    if ((ntohl(parsed.s_addr) >> 24) != 127) {
        return false;
    }
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &parsed, text, sizeof text);
    normalized = text;
    return true;
}

std::variant<BenchOptions, int> parse_options(int argc, char** argv) {
    CLI::App app(kDescription, "tern-bench");
    app.footer(kFooter);
    app.set_version_flag("--version", "tern-bench " TERN_VERSION);
    BenchOptions options;
    RawFlags raw;
    define_flags(app, options, raw);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "tern-bench: " << e.what() << "\nRun with --help for more information.\n";
        return 2;
    }
    if (const std::string error = resolve(options, raw, app); !error.empty()) {
        std::cerr << "tern-bench: " << error << '\n';
        return 2;
    }
    return options;
}

}  // namespace tern::bench
