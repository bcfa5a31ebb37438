// tern-bench's command line: the scenario, the load shape and the target, validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "codec/protocol.hpp"

namespace tern::bench {

enum class Scenario { FanIn, FanOut, Pairs, Latency, Idle, Publish };

std::string_view scenario_name(Scenario scenario) noexcept;

// --persistent: Session Expiry Interval (seconds) the MQTT 5 subscribers ask for. Long enough
// for any run; finite, so that a session a killed run left behind still ends on its own.
inline constexpr uint32_t kPersistentSessionExpiryS = 3600;

struct BenchOptions {
    bool sink = false;  // be the target: accept MQTT connections, ack and count PUBLISHes
    std::string host = "127.0.0.1";
    uint16_t port = 1883;
    Scenario scenario = Scenario::Pairs;
    uint32_t publishers = 0;   // resolved per scenario by parse_options
    uint32_t subscribers = 0;  // resolved per scenario by parse_options
    uint32_t connections = 0;  // idle scenario
    uint8_t qos = 0;
    uint32_t payload_size = 64;
    double duration_s = 5.0;
    bool duration_given = false;
    double rate = 0.0;  // messages per second over all publishers, 0 = as fast as allowed
    codec::ProtocolVersion version = codec::ProtocolVersion::V311;
    bool open_loop = false;
    uint32_t window = 1000;     // closed loop: messages in flight per publisher
    uint64_t window_bytes = 0;  // closed loop: also cap in-flight payload bytes, 0 = no cap
    uint32_t threads = 1;
    std::optional<int> pid;  // the broker's process, for CPU and memory figures
    uint16_t keep_alive = 60;
    double ramp = 2000.0;      // connections started per second, 0 = unlimited
    uint32_t handshakes = 64;  // per thread: connections between TCP connect and CONNACK/SUBACK
    uint32_t source_ips = 0;   // 0 = let the kernel choose the source address
    std::string source_base = "127.0.0.2";
    double drain_timeout_s = 5.0;
    double connect_timeout_s = 0.0;  // 0 = 30 s plus the ramp time
    uint32_t stall_timeout_ms = 1000;
    std::string topic_prefix = "bench";
    bool progress = true;
    // Subscribers keep persistent sessions (Clean Session 0; MQTT 5: Clean Start 0 and a
    // Session Expiry Interval), wiped with a Clean Session 1 connection before and after the run.
    bool persistent = false;

    // Effective closed-loop window (messages) after the byte cap.
    uint32_t effective_window() const noexcept;
};

// Parses the command line. Returns the options, or an exit code when the program must stop:
// 0 after --help/--version, 2 after a bad argument or a refused (non-loopback) address; the
// message has been printed to stderr.
std::variant<BenchOptions, int> parse_options(int argc, char** argv);

// True when `address` is an IPv4 address in 127.0.0.0/8 (or "localhost"); `normalized` receives
// the dotted form. Anything else is refused: tern-bench only loads the local machine.
bool parse_loopback(const std::string& address, std::string& normalized);

}  // namespace tern::bench
