// Command-line definition and cross-checks for tern-bridge-bench (CLI11).
#include "bridge_bench_options.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "bench_options.hpp"

namespace tern::bridge_bench {

namespace {

constexpr const char* kDescription =
    "tern-bridge-bench: Server-Sent Events and WebSocket clients of the Tern bridge, fed by MQTT "
    "devices publishing at a fixed rate.";

constexpr const char* kFooter =
    R"(Each web client subscribes --filter ("{group}" = its index modulo --groups): SSE
clients with GET /events?topic=FILTER, WebSocket clients on /ws with {"id":1,"op":"subscribe",
"filter":FILTER}. Devices publish QoS 0 JSON payloads {"t":<send time, ns since the epoch>,...}
on --topic at --rate messages per second in total (open loop, paced every millisecond); each
client reads the "t" field of every message it receives for the latency.

Output: a progress line per second on stderr, a table and one JSON line (last) on stdout.
Exit status: 0 done, 1 setup or connection error, 2 bad command line.)";

void define_flags(CLI::App& app, Options& o) {
    app.add_option("-H,--host", o.host, "Broker address, 127.0.0.0/8 only");
    app.add_option("-p,--mqtt-port", o.mqtt_port, "Broker MQTT port")->check(CLI::Range(1, 65535));
    app.add_option("-P,--http-port", o.http_port, "Bridge HTTP port")->check(CLI::Range(1, 65535));
    app.add_option("-u,--user", o.user, "HTTP Basic user name for the web clients");
    app.add_option("--password", o.password, "HTTP Basic password");
    app.add_option("--sse", o.sse_clients, "Server-Sent Events clients")
        ->check(CLI::Range(0u, 1000000u));
    app.add_option("--ws", o.ws_clients, "WebSocket (/ws) clients")
        ->check(CLI::Range(0u, 1000000u));
    app.add_option("-f,--filter", o.filter, "Filter of each client; {group} = index % groups");
    app.add_option("-g,--groups", o.groups, "Groups of clients and devices")
        ->check(CLI::Range(1u, 1000000u));
    app.add_option("--conflate", o.conflate_ms, "SSE clients ask ?conflate=MS (0 = no)")
        ->check(CLI::Range(0u, 3'600'000u));
    app.add_option("--devices", o.devices, "Distinct device topics")
        ->check(CLI::Range(1u, 10'000'000u));
    app.add_option("--publishers", o.publishers, "MQTT connections of the devices")
        ->check(CLI::Range(1u, 10000u));
    app.add_option("-t,--topic", o.topic, "Device topic; {group} = device % groups, {device}");
    app.add_option("-r,--rate", o.rate, "Messages per second over all devices (0 = idle)")
        ->check(CLI::Range(0.0, 1e8));
    app.add_option("-s,--payload", o.payload_size, "Pad each JSON payload to this many bytes")
        ->check(CLI::Range(0u, 1024u * 1024u));
    app.add_option("-d,--duration", o.duration_s, "Seconds of publishing (idle: holding)")
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option("--drain", o.drain_s, "Seconds to wait for in-flight messages")
        ->check(CLI::Range(0.0, 600.0));
    app.add_option("--settle", o.settle_s, "Seconds between the last client ready and sampling")
        ->check(CLI::Range(0.0, 600.0));
    app.add_option("--connect-timeout", o.connect_timeout_s, "Seconds for every client to be ready")
        ->check(CLI::Range(1.0, 3600.0));
    app.add_option("--client-loops", o.client_loops, "Event loops (threads) of the web clients")
        ->check(CLI::Range(1u, 16u));
    app.add_option("--ramp", o.ramp, "Client connections started per second (0 = no limit)")
        ->check(CLI::Range(0u, 10'000'000u));
    app.add_option("--handshakes", o.handshakes, "Clients per loop between connect and ready")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--source-ips", o.source_ips,
                   "Bind web clients round-robin to this many source addresses from --source-base")
        ->check(CLI::Range(0u, 250u));
    app.add_option("--source-base", o.source_base, "First source address (127.0.0.0/8)");
    app.add_option("--pid", o.pid, "Broker process id: report its CPU and memory");
    app.add_flag("!--no-progress", o.progress, "No progress line on stderr");
}

std::string resolve(Options& o) {
    std::string normalized;
    if (!bench::parse_loopback(o.host, normalized)) {
        return "refusing target '" + o.host + "': only loopback addresses (127.0.0.0/8)";
    }
    o.host = normalized;
    if (!bench::parse_loopback(o.source_base, normalized)) {
        return "refusing source address '" + o.source_base + "': only 127.0.0.0/8";
    }
    o.source_base = normalized;
    if (o.sse_clients + o.ws_clients == 0) {
        return "give at least one client (--sse or --ws)";
    }
    if (o.filter.empty() || o.topic.empty()) {
        return "--filter and --topic must not be empty";
    }
    return {};
}

}  // namespace

std::variant<Options, int> parse_options(int argc, char** argv) {
    CLI::App app{kDescription, "tern-bridge-bench"};
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("tern-bridge-bench ") + TERN_VERSION);
    Options options;
    define_flags(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (const std::string error = resolve(options); !error.empty()) {
        std::cerr << "tern-bridge-bench: " << error << '\n';
        return 2;
    }
    return options;
}

}  // namespace tern::bridge_bench
