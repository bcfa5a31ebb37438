// A log-linear latency histogram: constant-time record, mergeable, percentiles within 1.6%.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tern::bench {

// Values (nanoseconds) below 128 have a bucket each; above, every power of two is split into 64
// equal buckets, so a reported percentile is at most 1/64 above the true value. One histogram is
// about 30 KiB; each loop owns one and the runner merges them after the threads have stopped.
class LatencyHistogram {
  public:
    LatencyHistogram();

    void record(uint64_t value) noexcept {
        ++_counts[index_of(value)];
        ++_count;
        _sum += value;
        if (value > _max) {
            _max = value;
        }
        if (value < _min) {
            _min = value;
        }
    }

    void merge(const LatencyHistogram& other);

    uint64_t count() const noexcept { return _count; }
    uint64_t max() const noexcept { return _count == 0 ? 0 : _max; }
    uint64_t min() const noexcept { return _count == 0 ? 0 : _min; }
    double mean() const noexcept { return _count == 0 ? 0.0 : static_cast<double>(_sum) / _count; }

    // The smallest recorded bucket bound at or below which `percent` % of the values fall
    // (the bucket's highest value, clamped to the exact min/max). 0 when empty.
    uint64_t percentile(double percent) const noexcept;

    static std::size_t index_of(uint64_t value) noexcept;
    static uint64_t lowest_value(std::size_t index) noexcept;
    static uint64_t highest_value(std::size_t index) noexcept;

  private:
    std::vector<uint64_t> _counts;
    uint64_t _count = 0;
    uint64_t _sum = 0;
    uint64_t _max = 0;
    uint64_t _min = UINT64_MAX;
};

}  // namespace tern::bench
