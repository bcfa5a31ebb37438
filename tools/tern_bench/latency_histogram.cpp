// Log-linear histogram bucket arithmetic and percentile lookup.
#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tern::bench {

namespace {

constexpr unsigned kSubBucketBits = 6;                   // 64 buckets per power of two
constexpr uint64_t kLinearLimit = 2u << kSubBucketBits;  // 128: one bucket per value below
constexpr std::size_t kBucketCount = (64 - kSubBucketBits - 1) * 64 + 128;  // index of 2^64-1, +1

}  // namespace

LatencyHistogram::LatencyHistogram() : _counts(kBucketCount, 0) {}

std::size_t LatencyHistogram::index_of(uint64_t value) noexcept {
    if (value < kLinearLimit) {
        return static_cast<std::size_t>(value);
    }
    // exponent >= 7; the top seven bits of the value pick one of 64 buckets in [2^e, 2^(e+1)).
    const unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(value));
    const unsigned shift = exponent - kSubBucketBits;
    return static_cast<std::size_t>(shift) * 64u + static_cast<std::size_t>(value >> shift);
}

uint64_t LatencyHistogram::lowest_value(std::size_t index) noexcept {
    if (index < kLinearLimit) {
        return index;
    }
    const unsigned shift = static_cast<unsigned>(index / 64u) - 1u;
    const uint64_t mantissa = index % 64u + 64u;
    return mantissa << shift;
}

uint64_t LatencyHistogram::highest_value(std::size_t index) noexcept {
    if (index < kLinearLimit) {
        return index;
    }
    const unsigned shift = static_cast<unsigned>(index / 64u) - 1u;
    return lowest_value(index) + ((uint64_t{1} << shift) - 1u);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < _counts.size(); ++i) {
        _counts[i] += other._counts[i];
    }
    _count += other._count;
    _sum += other._sum;
    _max = std::max(_max, other._max);
    _min = std::min(_min, other._min);
}

uint64_t LatencyHistogram::percentile(double percent) const noexcept {
    if (_count == 0) {
        return 0;
    }
    const double wanted = std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * _count);
    const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(wanted), 1, _count);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < _counts.size(); ++i) {
        seen += _counts[i];
        if (seen >= rank) {
            return std::clamp(highest_value(i), min(), max());
        }
    }
    return max();
}

}  // namespace tern::bench
