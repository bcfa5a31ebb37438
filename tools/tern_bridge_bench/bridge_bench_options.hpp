// Command-line options of tern-bridge-bench: how many web clients of each kind, their filter, and
// the MQTT device load that feeds them.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace tern::bridge_bench {

struct Options {
    std::string host = "127.0.0.1";  // loopback only, like tern-bench
    uint16_t mqtt_port = 1883;
    uint16_t http_port = 8080;
    std::string user;  // HTTP Basic for the web clients; empty = anonymous
    std::string password;

    uint32_t sse_clients = 1000;
    uint32_t ws_clients = 1000;
    // The filter each web client subscribes; "{group}" becomes the client's group number
    // (client index modulo `groups`).
    std::string filter = "devices/#";
    uint32_t groups = 1;
    uint32_t conflate_ms = 0;  // SSE ?conflate=MS (0 = every message)

    uint32_t devices = 1000;   // distinct device topics
    uint32_t publishers = 10;  // MQTT connections the devices publish through
    // Topic of device d; "{group}" becomes d modulo `groups`, "{device}" becomes d.
    std::string topic = "devices/{group}/{device}/telemetry";
    double rate = 10'000.0;           // messages per second over all devices, 0 = no traffic
    uint32_t payload_size = 0;        // pad the JSON payload to at least this many bytes
    double duration_s = 10.0;         // publishing (idle: holding) time
    double drain_s = 2.0;             // waiting for in-flight messages afterwards
    double settle_s = 1.0;            // after every client is ready, before sampling memory
    double connect_timeout_s = 60.0;  // for all clients to be ready

    uint32_t client_loops = 1;  // event loops (threads) for the web clients
    uint32_t ramp = 2000;       // client connections started per second (0 = no limit)
    uint32_t handshakes = 200;  // clients per loop between connect and ready
    uint32_t source_ips = 0;    // bind clients round-robin to this many 127.0.0.x addresses
    std::string source_base = "127.0.0.2";
    int pid = 0;  // the broker's pid: report its CPU and memory
    bool progress = true;
};

// The options, or the exit status when the program should stop (0 after --help, 2 on error).
std::variant<Options, int> parse_options(int argc, char** argv);

}  // namespace tern::bridge_bench
