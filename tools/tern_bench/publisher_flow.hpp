// How many messages one publisher may send right now: the closed-loop window, the rate and the
// QoS 1/2 packet identifiers still unacknowledged. Pure logic, driven by its publisher's loop.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace tern::bench {

struct FlowLimits {
    uint32_t window = 0;            // messages sent but not yet delivered; 0 = open loop
    uint32_t max_unacked = 0;       // QoS 1/2 PUBLISHes awaiting PUBACK/PUBCOMP; 0 = QoS 0
    double rate = 0.0;              // messages per second for this publisher; 0 = unlimited
    uint64_t stall_timeout_ns = 0;  // full window without delivery this long: count it as lost
};

class PublisherFlow {
  public:
    explicit PublisherFlow(FlowLimits limits);

    // Rate accounting starts at `now_ns`.
    void start(uint64_t now_ns) noexcept { _start_ns = now_ns; }

    // Messages that may be sent now, at most `max_batch`. `delivered` is the highest sequence
    // every subscriber has received (the slowest subscriber's). Sequences run out at 2^32 - 1.
    uint32_t allowance(uint64_t now_ns, uint32_t delivered, uint32_t max_batch) noexcept;

    // The sequence number of the next message; the first is 1.
    uint32_t next_sequence() const noexcept { return _next_sequence; }
    uint64_t sent() const noexcept { return _next_sequence - 1u; }

    // Records one sent message and, at QoS 1/2, takes its packet identifier (never 0
    // [MQTT-2.2.1-3], never one still in use [MQTT-2.2.1-4]). nullopt at QoS 0.
    std::optional<uint16_t> on_sent() noexcept;

    // The broker acknowledged `packet_id` (PUBACK, or PUBCOMP at QoS 2); false when it was not
    // in use (a protocol error on the broker's side).
    bool release(uint16_t packet_id) noexcept;

    uint32_t unacked() const noexcept { return _unacked; }
    uint32_t in_flight(uint32_t delivered) const noexcept;
    uint64_t stalls() const noexcept { return _stalls; }

  private:
    bool id_in_use(uint16_t id) const noexcept { return (_ids[id >> 6] >> (id & 63)) & 1u; }
    void set_id(uint16_t id, bool used) noexcept;

    FlowLimits _limits;
    uint64_t _start_ns = 0;
    uint32_t _next_sequence = 1;
    uint32_t _abandoned = 0;  // sequences up to here were given up by a stall
    uint32_t _last_delivered = 0;
    uint64_t _last_progress_ns = 0;
    uint64_t _stalls = 0;
    uint32_t _unacked = 0;
    uint16_t _next_id = 1;
    std::vector<uint64_t> _ids;  // bitmap of packet identifiers in use
};

}  // namespace tern::bench
