// Gap bookkeeping for SequenceTracker.
#include "sequence_tracker.hpp"

#include <algorithm>

namespace tern::bench {

SequenceTracker::Outcome SequenceTracker::record(uint32_t sequence) {
    if (sequence == _highest + 1) {
        _highest = sequence;
        ++_unique;
        return Outcome::InOrder;
    }
    if (sequence > _highest) {
        if (_gaps.size() == kMaxGaps) {
            _gaps.erase(_gaps.begin());
        }
        _gaps.emplace_back(_highest + 1, sequence - 1);
        _highest = sequence;
        ++_unique;
        return Outcome::AfterGap;
    }
    return fill_gap(sequence);
}

SequenceTracker::Outcome SequenceTracker::fill_gap(uint32_t sequence) {
    // The last gap whose first missing number is <= sequence is the only one that can hold it.
    auto it = std::upper_bound(
        _gaps.begin(), _gaps.end(), sequence,
        [](uint32_t value, const std::pair<uint32_t, uint32_t>& gap) { return value < gap.first; });
    if (sequence == 0 || it == _gaps.begin() || std::prev(it)->second < sequence) {
        ++_duplicates;
        return Outcome::Duplicate;
    }
    auto gap = std::prev(it);
    const auto [first, last] = *gap;
    if (first == last) {
        _gaps.erase(gap);
    } else if (sequence == first) {
        gap->first = first + 1;
    } else if (sequence == last) {
        gap->second = last - 1;
    } else {
        gap->second = sequence - 1;
        _gaps.insert(std::next(gap), {sequence + 1, last});
    }
    ++_unique;
    ++_reordered;
    return Outcome::Late;
}

}  // namespace tern::bench
