// The monotonic nanosecond clock that stamps payloads and measures every interval in tern-bench.
#pragma once

#include <cstdint>
#include <ctime>

namespace tern::bench {

// CLOCK_MONOTONIC is system-wide, so a stamp taken by one thread (or process) can be compared
// with one taken by another; it never jumps with wall-clock changes.
inline uint64_t monotonic_ns() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
}

inline constexpr uint64_t kNanosPerSecond = 1'000'000'000u;
inline constexpr uint64_t kNanosPerMilli = 1'000'000u;

}  // namespace tern::bench
