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
};

}  // namespace tern::net
