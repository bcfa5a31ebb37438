// The global memory cap (limits.max_memory): tracks the broker's big buffers and says when to
// shed load.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/message.hpp"

namespace tern::net {

// What is tracked: bytes waiting in connections' output buffers (slow consumers), partial
// packets waiting in their input buffers, and messages waiting in session queues. These are
// what an abusive or unlucky workload grows without bound; the rest of the broker (sessions,
// subscriptions, retained messages) has its own count limits.
//
// Each loop adds to its own counter (a relaxed store on a cache line no other thread writes),
// and only when a buffer's size changed between two points: a connection that writes all its
// output at once costs nothing. Once per loop iteration, a loop whose counter moved sums all
// counters and sets the shared "shedding" flag, which the hot paths read with a relaxed load.
// Loop 0 also re-evaluates on its tick (so that racing evaluations settle) and logs.
//
// While shedding (tracked bytes over the limit, until they fall below 90% of it): new clients
// are refused (CONNACK 0x89 Server busy / 3.1.1 0x03 Server unavailable) unless they resume a
// stored session, whose queue they will drain; new QoS 1/2 PUBLISHes are refused (MQTT 5
// PUBACK/PUBREC 0x97 Quota exceeded); QoS 0 messages are no longer queued, and slow consumers
// lose QoS 0 messages past a small output buffer. Connected clients keep working.
class MemoryBudget {
  public:
    // `limit` in bytes, 0 = off (nothing is tracked); `loops` worker loops.
    MemoryBudget(uint64_t limit, uint32_t loops);

    bool enabled() const noexcept { return _limit != 0; }
    uint64_t limit() const noexcept { return _limit; }

    // Owning loop only: `delta` bytes were allocated (> 0) or released (< 0) on `loop`.
    void add(uint32_t loop, int64_t delta) noexcept {
        Slot& slot = _slots[loop];
        slot.bytes.store(slot.bytes.load(std::memory_order_relaxed) + delta,
                         std::memory_order_relaxed);
        slot.changed = true;
    }

    // Hot path, any thread: whether load is being shed.
    bool shedding() const noexcept { return _shedding.load(std::memory_order_relaxed); }

    // Owning loop, once per iteration: re-evaluates when this loop's counter changed.
    void end_of_iteration(uint32_t loop) noexcept {
        Slot& slot = _slots[loop];
        if (slot.changed) {
            slot.changed = false;
            evaluate();
        }
    }
    // Sums every loop's counter and updates the shedding flag. Any thread.
    void evaluate() noexcept;
    // Loop 0's housekeeping tick: evaluates and logs when shedding starts, every 10 s while it
    // lasts, and when it ends.
    void tick(core::MonoMillis now);

    // Bytes tracked now (sum over loops). Any thread.
    uint64_t tracked() const noexcept;

  private:
    struct alignas(64) Slot {
        std::atomic<int64_t> bytes{0};
        bool changed = false;
    };

    const uint64_t _limit;
    const uint64_t _resume_below;  // hysteresis: shedding stops below this
    const uint32_t _loops;
    std::unique_ptr<Slot[]> _slots;
    std::atomic<bool> _shedding{false};
    // Loop 0's tick only.
    bool _reported = false;
    core::MonoMillis _reported_at = 0;
};

}  // namespace tern::net
