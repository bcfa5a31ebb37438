// Unit tests for tern-bench's LatencyHistogram: bucket bounds, percentiles, merging.
#include "latency_histogram.hpp"

#include <doctest/doctest.h>

using tern::bench::LatencyHistogram;

TEST_CASE("every value falls inside the bounds of its bucket, within 1/64") {
    const uint64_t values[] = {0,         1,         127,         128,
                               129,       255,       256,         1000,
                               65'535,    1'000'000, 123'456'789, (uint64_t{1} << 40) + 12345,
                               UINT64_MAX};
    for (const uint64_t value : values) {
        const auto index = LatencyHistogram::index_of(value);
        CHECK(LatencyHistogram::lowest_value(index) <= value);
        CHECK(LatencyHistogram::highest_value(index) >= value);
        const auto width =
            LatencyHistogram::highest_value(index) - LatencyHistogram::lowest_value(index);
        CHECK(width <= value / 64);
    }
}

TEST_CASE("bucket indexes are contiguous: each bucket starts one past the previous one") {
    for (std::size_t index = 1; index < LatencyHistogram::index_of(UINT64_MAX); ++index) {
        REQUIRE(LatencyHistogram::lowest_value(index) ==
                LatencyHistogram::highest_value(index - 1) + 1);
    }
}

TEST_CASE("percentiles of 1..1000 are the exact ranks, rounded up to the bucket bound") {
    LatencyHistogram histogram;
    for (uint64_t value = 1; value <= 1000; ++value) {
        histogram.record(value);
    }
    CHECK(histogram.count() == 1000);
    CHECK(histogram.min() == 1);
    CHECK(histogram.max() == 1000);
    CHECK(histogram.mean() == doctest::Approx(500.5));
    // 500 lies in the bucket [500, 503] (width 4 for 256..511): the bound reported is 503.
    CHECK(histogram.percentile(50) == 503);
    CHECK(histogram.percentile(90) ==
          LatencyHistogram::highest_value(LatencyHistogram::index_of(900)));
    CHECK(histogram.percentile(100) == 1000);
    CHECK(histogram.percentile(0) == 1);
    CHECK(histogram.percentile(10) == 100);  // exact: below 128 every value has its own bucket
}

TEST_CASE("an empty histogram reports zeros") {
    LatencyHistogram histogram;
    CHECK(histogram.count() == 0);
    CHECK(histogram.percentile(99) == 0);
    CHECK(histogram.max() == 0);
    CHECK(histogram.min() == 0);
    CHECK(histogram.mean() == 0.0);
}

TEST_CASE("merging two histograms equals recording everything in one") {
    LatencyHistogram a;
    LatencyHistogram b;
    LatencyHistogram all;
    for (uint64_t value = 0; value < 5000; value += 7) {
        (value % 2 == 0 ? a : b).record(value * 1000);
        all.record(value * 1000);
    }
    a.merge(b);
    CHECK(a.count() == all.count());
    CHECK(a.max() == all.max());
    CHECK(a.min() == all.min());
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
        CHECK(a.percentile(p) == all.percentile(p));
    }
}
