// Counters one load loop keeps without synchronization; merged by the runner after the threads end.
#pragma once

#include <cstdint>

#include "latency_histogram.hpp"

namespace tern::bench {

struct LoopStats {
    uint64_t sent = 0;
    uint64_t expected = 0;  // deliveries owed: each message times its subscribers
    uint64_t acked = 0;     // PUBACK (QoS 1) or PUBCOMP (QoS 2) received by publishers
    uint64_t rejected = 0;  // MQTT 5 acks with a failure reason code
    uint64_t received = 0;  // PUBLISHes received by subscribers, duplicates included
    uint64_t unique = 0;
    uint64_t duplicates = 0;
    uint64_t reordered = 0;
    uint64_t unexpected = 0;  // not a tern-bench payload, or from a publisher not linked here
    uint64_t pings = 0;
    uint64_t pongs = 0;
    uint64_t stalls = 0;
    uint64_t ready = 0;
    uint64_t failed = 0;
    uint64_t sessions_resumed = 0;  // CONNACKs with Session Present (only with --persistent)
    uint64_t last_receive_ns = 0;
    uint64_t last_ack_ns = 0;  // when the last PUBACK/PUBCOMP arrived
    LatencyHistogram latency;  // nanoseconds from the payload's stamp to the read

    void merge(const LoopStats& other) {
        sent += other.sent;
        expected += other.expected;
        acked += other.acked;
        rejected += other.rejected;
        received += other.received;
        unique += other.unique;
        duplicates += other.duplicates;
        reordered += other.reordered;
        unexpected += other.unexpected;
        pings += other.pings;
        pongs += other.pongs;
        stalls += other.stalls;
        ready += other.ready;
        failed += other.failed;
        sessions_resumed += other.sessions_resumed;
        last_receive_ns =
            last_receive_ns > other.last_receive_ns ? last_receive_ns : other.last_receive_ns;
        last_ack_ns = last_ack_ns > other.last_ack_ns ? last_ack_ns : other.last_ack_ns;
        latency.merge(other.latency);
    }
};

}  // namespace tern::bench
