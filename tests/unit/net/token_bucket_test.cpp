// Tests for the token bucket and the per-connection publish quota built on it.
#include "net/token_bucket.hpp"

#include <doctest/doctest.h>

#include "net/publish_quota.hpp"

using tern::net::PublishQuota;
using tern::net::TokenBucket;

namespace {
constexpr tern::core::MonoMillis kStart = 1'000'000;
}

TEST_CASE("A token bucket starts full and refuses once its burst is spent") {
    TokenBucket bucket(3.0, kStart);
    CHECK(bucket.try_take(1.0, 3.0, 3.0, kStart));
    CHECK(bucket.try_take(1.0, 3.0, 3.0, kStart));
    CHECK(bucket.try_take(1.0, 3.0, 3.0, kStart));
    CHECK_FALSE(bucket.try_take(1.0, 3.0, 3.0, kStart));
}

TEST_CASE("A token bucket refills at its rate and never beyond its burst") {
    TokenBucket bucket(2.0, kStart);
    REQUIRE(bucket.try_take(2.0, 2.0, 2.0, kStart));
    CHECK_FALSE(bucket.try_take(1.0, 2.0, 2.0, kStart + 499));  // 0.998 tokens
    CHECK(bucket.try_take(1.0, 2.0, 2.0, kStart + 500));        // 2 per second: one after 500 ms
    CHECK_FALSE(bucket.try_take(1.0, 2.0, 2.0, kStart + 500));
    // An hour idle still holds only the burst.
    const tern::core::MonoMillis later = kStart + 3'600'000;
    CHECK(bucket.full(2.0, 2.0, later));
    CHECK(bucket.try_take(2.0, 2.0, 2.0, later));
    CHECK_FALSE(bucket.try_take(1.0, 2.0, 2.0, later));
}

TEST_CASE("A refused take leaves the bucket as it was") {
    TokenBucket bucket(10.0, kStart);
    REQUIRE(bucket.try_take(6.0, 10.0, 10.0, kStart));
    CHECK_FALSE(bucket.try_take(5.0, 10.0, 10.0, kStart));
    CHECK(bucket.try_take(4.0, 10.0, 10.0, kStart));
    CHECK(bucket.tokens_at(10.0, 10.0, kStart) == doctest::Approx(0.0));
}

TEST_CASE("A cost larger than the burst passes from a full bucket and leaves it in debt") {
    TokenBucket bucket(10.0, kStart);
    CHECK(bucket.try_take(25.0, 10.0, 10.0, kStart));
    CHECK(bucket.tokens_at(10.0, 10.0, kStart) == doctest::Approx(-15.0));
    CHECK_FALSE(bucket.try_take(1.0, 10.0, 10.0, kStart + 1500));  // back to 0 tokens
    CHECK(bucket.try_take(1.0, 10.0, 10.0, kStart + 1600));
    // From a bucket that is not full, the large cost waits for it to fill.
    CHECK_FALSE(bucket.try_take(25.0, 10.0, 10.0, kStart + 2000));
    CHECK(bucket.try_take(25.0, 10.0, 10.0, kStart + 2600));
}

TEST_CASE("A token bucket ignores a clock that goes backwards") {
    TokenBucket bucket(1.0, kStart);
    REQUIRE(bucket.try_take(1.0, 1.0, 1.0, kStart));
    CHECK_FALSE(bucket.try_take(1.0, 1.0, 1.0, kStart - 5000));
    CHECK_FALSE(bucket.try_take(1.0, 1.0, 1.0, kStart + 999));
    CHECK(bucket.try_take(1.0, 1.0, 1.0, kStart + 1000));
}

TEST_CASE("A publish quota limits messages per second with a burst of one second") {
    PublishQuota quota(3, 0, kStart);
    for (int i = 0; i < 3; ++i) {
        CHECK(quota.try_take(100'000, 3, 0, kStart));  // no byte limit
    }
    CHECK_FALSE(quota.try_take(1, 3, 0, kStart + 10));
    CHECK(quota.try_take(1, 3, 0, kStart + 334));  // one message per 333 ms
    CHECK_FALSE(quota.try_take(1, 3, 0, kStart + 334));
}

TEST_CASE("A publish quota limits bytes per second, and a refusal costs neither bucket") {
    PublishQuota quota(2, 100, kStart);
    CHECK(quota.try_take(100, 2, 100, kStart));            // 1 message and 100 bytes left: 1 and 0
    CHECK_FALSE(quota.try_take(10, 2, 100, kStart));       // refused for bytes: the message stays
    CHECK(quota.try_take(10, 2, 100, kStart + 100));       // 10 bytes refilled; the last message
    CHECK_FALSE(quota.try_take(0, 2, 100, kStart + 100));  // refused for messages (0.2 left)
    CHECK(quota.try_take(0, 2, 100, kStart + 500));
}

TEST_CASE("A publish quota reports refusals at most once per 10 seconds") {
    PublishQuota quota(1, 0, kStart);
    uint64_t refused = 0;
    CHECK(quota.count_refusal(kStart, refused));
    CHECK(refused == 1);
    refused = 0;
    CHECK_FALSE(quota.count_refusal(kStart + 1000, refused));
    CHECK_FALSE(quota.count_refusal(kStart + 9999, refused));
    CHECK(refused == 0);
    CHECK(quota.count_refusal(kStart + 10'000, refused));
    CHECK(refused == 3);
}
