// Counters one client loop keeps per kind of web client (SSE, WebSocket), without
// synchronization; merged after the loop threads have stopped.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "latency_histogram.hpp"

namespace tern::bridge_bench {

enum class ClientKind : uint8_t { Sse = 0, Ws = 1 };
inline constexpr std::size_t kKinds = 2;

inline const char* kind_name(ClientKind kind) noexcept {
    return kind == ClientKind::Sse ? "sse" : "ws";
}

struct KindStats {
    uint64_t started = 0;             // TCP connects begun
    uint64_t ready = 0;               // subscribed: SSE 200 head, WebSocket "ok" for the subscribe
    uint64_t failed = 0;              // never ready (refused, HTTP error, handshake error)
    uint64_t cut = 0;                 // ready, then closed by the server or the network
    uint64_t delivered = 0;           // live messages received (envelopes)
    uint64_t no_stamp = 0;            // messages without a readable "t" field
    uint64_t other = 0;               // heartbeats, pings, id-only blocks, answers
    uint64_t bytes = 0;               // bytes read after the response head
    uint64_t last_receive_ns = 0;     // CLOCK_REALTIME of the last message
    bench::LatencyHistogram latency;  // ns from the payload's "t" to the read
    std::map<std::string, uint64_t> failures;  // reason -> clients
    std::map<std::string, uint64_t> cuts;      // reason -> clients

    void merge(const KindStats& other_stats) {
        started += other_stats.started;
        ready += other_stats.ready;
        failed += other_stats.failed;
        cut += other_stats.cut;
        delivered += other_stats.delivered;
        no_stamp += other_stats.no_stamp;
        other += other_stats.other;
        bytes += other_stats.bytes;
        if (other_stats.last_receive_ns > last_receive_ns) {
            last_receive_ns = other_stats.last_receive_ns;
        }
        latency.merge(other_stats.latency);
        for (const auto& [reason, count] : other_stats.failures) {
            failures[reason] += count;
        }
        for (const auto& [reason, count] : other_stats.cuts) {
            cuts[reason] += count;
        }
    }
};

}  // namespace tern::bridge_bench
