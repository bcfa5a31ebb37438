// Tests for the per-address connection limits: parsing peers, counts, rates and forgetting.
#include "net/ip_limiter.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using tern::net::IpLimiter;
using Verdict = tern::net::IpLimiter::Verdict;

namespace {

constexpr tern::core::MonoMillis kStart = 5'000'000;

IpLimiter::Address address(const std::string& peer) {
    const auto parsed = IpLimiter::parse_peer(peer);
    REQUIRE(parsed.has_value());
    return *parsed;
}

IpLimiter::Address numbered(uint32_t n) {
    return address("10." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) +
                   "." + std::to_string(n & 255) + ":1883");
}

}  // namespace

TEST_CASE("Peers are parsed as IPv4-mapped or IPv6 addresses, without their port") {
    const auto v4 = address("192.0.2.7:51234");
    const IpLimiter::Address expected_v4{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    CHECK(v4 == expected_v4);
    CHECK(address("192.0.2.7:1") == v4);
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d: the same address.
    CHECK(address("[::ffff:192.0.2.7]:9") == v4);
    const IpLimiter::Address loopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(address("[::1]:1883") == loopback6);
    CHECK(address("[2001:db8::1]:1883") != address("[2001:db8::2]:1883"));
    CHECK_FALSE(IpLimiter::parse_peer("?").has_value());
    CHECK_FALSE(IpLimiter::parse_peer("").has_value());
    CHECK_FALSE(IpLimiter::parse_peer("[::1:1883").has_value());
    CHECK_FALSE(IpLimiter::parse_peer("host.example:1883").has_value());
}

TEST_CASE("An address may hold at most max_per_address connections") {
    IpLimiter limiter(2, 0);
    REQUIRE(limiter.enabled());
    const auto a = address("198.51.100.1:1000");
    const auto b = address("198.51.100.2:1000");
    CHECK(limiter.try_admit(a, kStart) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart) == Verdict::TooMany);
    CHECK(limiter.try_admit(b, kStart) == Verdict::Admitted);  // other addresses are not affected
    CHECK(limiter.connections(a) == 2);
    limiter.release(a, kStart);
    CHECK(limiter.try_admit(a, kStart) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart) == Verdict::TooMany);
}

TEST_CASE("An address may open rate_per_second connections per second, bursts of one second") {
    IpLimiter limiter(0, 2);
    const auto a = address("203.0.113.9:1");
    CHECK(limiter.try_admit(a, kStart) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart + 10) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart + 20) == Verdict::TooFast);
    CHECK(limiter.try_admit(address("203.0.113.10:1"), kStart + 20) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart + 499) == Verdict::TooFast);
    CHECK(limiter.try_admit(a, kStart + 505) == Verdict::Admitted);  // half a second: one more
    CHECK(limiter.connections(a) == 3);  // the rate limits opening, not holding
}

TEST_CASE("A refusal for the count spends no rate token") {
    IpLimiter limiter(1, 1);
    const auto a = address("203.0.113.20:1");
    CHECK(limiter.try_admit(a, kStart) == Verdict::Admitted);
    CHECK(limiter.try_admit(a, kStart + 1000) == Verdict::TooMany);
    limiter.release(a, kStart + 1000);
    CHECK(limiter.try_admit(a, kStart + 1000) == Verdict::Admitted);  // the token refilled
}

TEST_CASE("Without a rate limit, an address is forgotten with its last connection") {
    IpLimiter limiter(5, 0);
    for (uint32_t i = 0; i < 1000; ++i) {
        REQUIRE(limiter.try_admit(numbered(i), kStart) == Verdict::Admitted);
    }
    CHECK(limiter.remembered() == 1000);
    for (uint32_t i = 0; i < 1000; ++i) {
        limiter.release(numbered(i), kStart);
    }
    CHECK(limiter.remembered() == 0);
}

TEST_CASE("With a rate limit, idle addresses are forgotten once their bucket refilled") {
    IpLimiter limiter(0, 10);  // burst 10, refilled in one second
    for (uint32_t i = 0; i < 1000; ++i) {
        REQUIRE(limiter.try_admit(numbered(i), kStart) == Verdict::Admitted);
        limiter.release(numbered(i), kStart);
    }
    // Still remembered: forgetting them now would hand out fresh bursts.
    CHECK(limiter.remembered() == 1000);
    const auto busy = address("192.0.2.50:1");
    REQUIRE(limiter.try_admit(busy, kStart + 999) == Verdict::Admitted);
    CHECK(limiter.remembered() == 1001);
    REQUIRE(limiter.try_admit(address("192.0.2.51:1"), kStart + 1000) == Verdict::Admitted);
    CHECK(limiter.remembered() == 2);  // only the two with open connections
    CHECK(limiter.connections(busy) == 1);
}

TEST_CASE("An address used again after going idle is not forgotten by its old record") {
    IpLimiter limiter(0, 2);  // burst 2, refilled in one second
    const auto a = address("192.0.2.60:1");
    REQUIRE(limiter.try_admit(a, kStart) == Verdict::Admitted);
    limiter.release(a, kStart);  // idle record due at kStart + 1000
    REQUIRE(limiter.try_admit(a, kStart + 100) == Verdict::Admitted);
    REQUIRE(limiter.try_admit(address("192.0.2.61:1"), kStart + 1000) == Verdict::Admitted);
    CHECK(limiter.connections(a) == 1);  // the due record found it busy
    CHECK(limiter.remembered() == 2);
    limiter.release(a, kStart + 1000);  // a new record, due at kStart + 2000
    REQUIRE(limiter.try_admit(address("192.0.2.62:1"), kStart + 1999) == Verdict::Admitted);
    CHECK(limiter.remembered() == 3);
    REQUIRE(limiter.try_admit(address("192.0.2.63:1"), kStart + 2000) == Verdict::Admitted);
    CHECK(limiter.remembered() == 3);  // a forgotten, 63 added
    CHECK(limiter.connections(a) == 0);
}

TEST_CASE("Releases from several threads keep the counts exact") {
    IpLimiter limiter(1'000'000, 0);
    const auto a = address("192.0.2.70:1");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&limiter, &a] {
            for (int i = 0; i < 20'000; ++i) {
                if (limiter.try_admit(a, kStart) == Verdict::Admitted) {
                    limiter.release(a, kStart);
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(limiter.connections(a) == 0);
    CHECK(limiter.remembered() == 0);
}

TEST_CASE("Refusals are logged at most once per interval, with the number not logged") {
    IpLimiter limiter(1, 0);
    const auto a = address("192.0.2.80:1");
    REQUIRE(limiter.try_admit(a, kStart) == Verdict::Admitted);
    uint64_t suppressed = 99;
    REQUIRE(limiter.try_admit(a, kStart) == Verdict::TooMany);
    CHECK(limiter.should_log_refusal(kStart, 10'000, suppressed));
    CHECK(suppressed == 0);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(limiter.try_admit(a, kStart + 100) == Verdict::TooMany);
        CHECK_FALSE(limiter.should_log_refusal(kStart + 100, 10'000, suppressed));
    }
    REQUIRE(limiter.try_admit(a, kStart + 10'000) == Verdict::TooMany);
    CHECK(limiter.should_log_refusal(kStart + 10'000, 10'000, suppressed));
    CHECK(suppressed == 5);
}

TEST_CASE("Limits of 0 disable the limiter") {
    CHECK_FALSE(IpLimiter(0, 0).enabled());
    CHECK(IpLimiter(1, 0).enabled());
    CHECK(IpLimiter(0, 1).enabled());
}
