// Broker counters: per-loop relaxed atomics written by their own loop, summed for $SYS and metrics.
#pragma once

#include <atomic>
#include <cstdint>

namespace tern::net {

// Written only by the owning loop (relaxed), read by anyone.
struct LoopStats {
    std::atomic<uint64_t> messages_received{0};
    std::atomic<uint64_t> messages_sent{0};
    std::atomic<uint64_t> bytes_received{0};
    std::atomic<uint64_t> bytes_sent{0};
    std::atomic<uint64_t> publish_dropped{0};
    std::atomic<uint64_t> retained_refused{0};  // retained messages over the retained limits
    std::atomic<uint64_t> connections{0};       // sockets open on this loop
    std::atomic<uint64_t> clients{0};           // connected (CONNACK sent) clients on this loop
    std::atomic<uint64_t> sessions{0};          // sessions owned by this loop, online or not
    std::atomic<uint64_t> auth_failures{0};     // CONNECTs refused for credentials or ACL
    std::atomic<uint64_t> refused_per_ip{0};    // sockets reset: max_connections_per_ip
    std::atomic<uint64_t> refused_rate{0};      // sockets reset: connection_rate_per_ip
    std::atomic<uint64_t> refused_memory{0};    // CONNECTs refused while shedding load
    std::atomic<uint64_t> rate_limited{0};      // PUBLISHes over max_publish_(bytes_)rate
    std::atomic<uint64_t> shed{0};              // messages refused or dropped while shedding load
    std::atomic<uint64_t> storage_holds{0};     // times reading paused for the storage backlog
    std::atomic<uint64_t> slow_subscribers{0};  // times an online subscriber fell behind
    std::atomic<uint64_t> publisher_pauses{0};  // times a publisher paused for a slow subscriber
    // PUBLISHes received from clients and sent to them, and their payload bytes, by QoS.
    std::atomic<uint64_t> messages_received_by_qos[3] = {};
    std::atomic<uint64_t> messages_sent_by_qos[3] = {};
    std::atomic<uint64_t> payload_bytes_received_by_qos[3] = {};
    std::atomic<uint64_t> payload_bytes_sent_by_qos[3] = {};
    // TLS handshakes completed, and those that failed or timed out.
    std::atomic<uint64_t> tls_handshakes{0};
    std::atomic<uint64_t> tls_handshake_failures{0};

    static void add(std::atomic<uint64_t>& counter, uint64_t value) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
    }
    static void sub(std::atomic<uint64_t>& counter, uint64_t value) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) - value, std::memory_order_relaxed);
    }
};

// A snapshot of all loops' counters.
struct StatsSnapshot {
    uint64_t messages_received = 0;
    uint64_t messages_sent = 0;
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
    uint64_t publish_dropped = 0;
    uint64_t retained_refused = 0;
    uint64_t connections = 0;
    uint64_t clients = 0;
    uint64_t sessions = 0;
    uint64_t auth_failures = 0;
    uint64_t tls_handshakes = 0;
    uint64_t tls_handshake_failures = 0;
    uint64_t refused_per_ip = 0;
    uint64_t refused_rate = 0;
    uint64_t refused_memory = 0;
    uint64_t storage_holds = 0;
    uint64_t slow_subscribers = 0;
    uint64_t publisher_pauses = 0;
    uint64_t rate_limited = 0;
    uint64_t shed = 0;
    uint64_t messages_received_by_qos[3] = {};
    uint64_t messages_sent_by_qos[3] = {};
    uint64_t payload_bytes_received_by_qos[3] = {};
    uint64_t payload_bytes_sent_by_qos[3] = {};
};

}  // namespace tern::net
