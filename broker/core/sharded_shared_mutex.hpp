// A readers-writer lock for data every PUBLISH reads and only SUBSCRIBE writes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>

namespace tern::core {

// Meets the SharedMutex requirements (std::shared_lock, std::unique_lock). A reader locks a
// mutex of its own thread's slot, on a cache line of its own; a writer locks every slot, in
// order. A pthread rwlock counts its readers in one shared word instead, which the loops' cores
// then pass back and forth on every match (2.2% of the broker with 2 loops in pairs QoS 1).
// Writers do not starve: a reader finding a writer waiting lets it go first, so a writer waits
// for at most one match per slot (a busy loop relocks its slot before a woken writer runs).
// Threads beyond kSlots share slots, which only makes their matches take turns.
class ShardedSharedMutex {
  public:
    static constexpr std::size_t kSlots = 16;

    void lock() {
        _writer_gate.lock();  // one writer at a time; readers that see it waiting queue here
        _writer_waiting.store(true, std::memory_order_relaxed);
        for (Slot& slot : _slots) {
            slot.mutex.lock();
        }
    }
    void unlock() {
        for (Slot& slot : _slots) {
            slot.mutex.unlock();
        }
        _writer_waiting.store(false, std::memory_order_relaxed);
        _writer_gate.unlock();
    }
    void lock_shared() {
        if (_writer_waiting.load(std::memory_order_relaxed)) {
            // Only fairness hangs on this (the slot alone excludes the writer): wait for it.
            std::lock_guard wait_for_writer(_writer_gate);
        }
        _slots[thread_slot()].mutex.lock();
    }
    void unlock_shared() { _slots[thread_slot()].mutex.unlock(); }

    // The slot this thread reads through: given out round-robin at its first read.
    static std::size_t thread_slot() noexcept {
        static std::atomic<std::size_t> next{0};
        thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
        return slot;
    }

  private:
    struct alignas(64) Slot {
        std::mutex mutex;
    };
    std::array<Slot, kSlots> _slots;
    // Written only by writers: readers keep their copy of this line as long as nobody writes.
    alignas(64) std::atomic<bool> _writer_waiting{false};
    std::mutex _writer_gate;
};

}  // namespace tern::core
