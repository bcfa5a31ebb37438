// Classifies the sequence numbers one subscriber receives from one publisher: in order, after a
// gap, late (reordered) or duplicate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tern::bench {

// Sequences start at 1. A jump forward records the skipped range as a gap; a number at or below
// the highest seen is "late" (counted as reordered) when it fills a gap and a duplicate otherwise.
// At most kMaxGaps gap ranges are remembered: past that the oldest are forgotten and a late
// arrival inside them is counted as a duplicate (only under heavy loss with reordering).
// Single-threaded: owned by the subscriber's loop.
class SequenceTracker {
  public:
    enum class Outcome { InOrder, AfterGap, Late, Duplicate };

    static constexpr std::size_t kMaxGaps = 4096;

    Outcome record(uint32_t sequence);

    uint32_t highest() const noexcept { return _highest; }
    uint64_t unique() const noexcept { return _unique; }
    uint64_t duplicates() const noexcept { return _duplicates; }
    uint64_t reordered() const noexcept { return _reordered; }

  private:
    Outcome fill_gap(uint32_t sequence);

    uint32_t _highest = 0;
    uint64_t _unique = 0;
    uint64_t _duplicates = 0;
    uint64_t _reordered = 0;
    std::vector<std::pair<uint32_t, uint32_t>> _gaps;  // [first, last] missing, ascending
};

}  // namespace tern::bench
