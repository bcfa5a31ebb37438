// State shared by the runner thread and the load loops: the phase, the publisher-to-subscriber
// links that close the loop, live counters for the progress line, and the first errors.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sequence_tracker.hpp"

namespace tern::bench {

enum class Phase : int {
    Connecting,  // connections ramp up, subscribers subscribe
    Running,     // publishers publish (idle: connections are held)
    Draining,    // publishers stopped; waiting for in-flight messages and acks
    Closing,     // DISCONNECT and close everything
};

// One publisher -> subscriber delivery path. The tracker belongs to the subscriber's loop; the
// publisher's loop (maybe another thread) reads only `highest`.
struct Link {
    uint32_t publisher = 0;
    uint32_t subscriber = 0;
    SequenceTracker tracker;
    std::atomic<uint32_t> highest{0};
};

// Counters a loop republishes once per iteration (relaxed: a progress line may lag a little).
struct LiveCounters {
    std::atomic<uint64_t> sent{0};
    std::atomic<uint64_t> expected{0};  // sent x subscribers of each message
    std::atomic<uint64_t> acked{0};
    std::atomic<uint64_t> received{0};
    std::atomic<uint64_t> unique{0};
    std::atomic<uint64_t> last_receive_ns{0};
    std::atomic<uint64_t> last_ack_ns{0};
    std::atomic<uint64_t> ready{0};
    std::atomic<uint64_t> failed{0};
    std::atomic<uint64_t> pings{0};
    std::atomic<uint64_t> pongs{0};
    std::atomic<uint64_t> unwritten{0};           // publishers' bytes not yet taken by the socket
    std::atomic<Phase> phase{Phase::Connecting};  // the phase the loop has acted on
};

class RunState {
  public:
    explicit RunState(std::size_t loop_count);

    std::atomic<Phase> phase{Phase::Connecting};
    std::atomic<uint64_t> start_ns{0};  // when Running began
    std::vector<std::unique_ptr<Link>> links;
    std::vector<std::unique_ptr<LiveCounters>> live;  // one per loop

    // Records an error (thread-safe). The first few are kept verbatim for the report.
    void report_error(const std::string& message);
    uint64_t error_count() const;
    std::vector<std::string> first_errors() const;

  private:
    static constexpr std::size_t kKeptErrors = 8;
    mutable std::mutex _mutex;
    uint64_t _error_count = 0;
    std::vector<std::string> _errors;
};

}  // namespace tern::bench
