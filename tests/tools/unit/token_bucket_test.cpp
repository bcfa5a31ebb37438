// Tests of tern-pub --rate pacing arithmetic.
#include "token_bucket.hpp"

#include <doctest/doctest.h>

using namespace tern::tools;
using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST_CASE("a full bucket gives tokens at once, then one per period") {
    Clock::time_point start{};
    TokenBucket bucket(10.0, 1.0, start);
    CHECK(bucket.take(start) == Clock::duration::zero());
    CHECK(bucket.take(start) == std::chrono::duration_cast<Clock::duration>(100ms));
    // The second token was owed; the third waits for two periods from the start.
    CHECK(bucket.take(start) == std::chrono::duration_cast<Clock::duration>(200ms));
}

TEST_CASE("tokens refill with time up to the burst size") {
    Clock::time_point start{};
    TokenBucket bucket(10.0, 3.0, start);
    for (int i = 0; i < 3; ++i) {
        CHECK(bucket.take(start) == Clock::duration::zero());
    }
    CHECK(bucket.take(start) > Clock::duration::zero());
    // After ten seconds the bucket holds its burst of 3 again, not 100.
    Clock::time_point later = start + 10s;
    for (int i = 0; i < 3; ++i) {
        CHECK(bucket.take(later) == Clock::duration::zero());
    }
    CHECK(bucket.take(later) == std::chrono::duration_cast<Clock::duration>(100ms));
}

TEST_CASE("callers that wait as told keep exactly the rate") {
    Clock::time_point now{};
    TokenBucket bucket(4.0, 1.0, now);
    for (int i = 0; i < 9; ++i) {
        now += bucket.take(now);
    }
    // Nine messages at 4/s: eight gaps of 250 ms.
    CHECK(now - Clock::time_point{} == std::chrono::duration_cast<Clock::duration>(2s));
}
