// Unit tests for tern-bench's PublisherFlow: window, stall, rate and packet identifiers.
#include "publisher_flow.hpp"

#include <doctest/doctest.h>

using tern::bench::FlowLimits;
using tern::bench::PublisherFlow;

namespace {

constexpr uint64_t kMs = 1'000'000;

void send(PublisherFlow& flow, uint32_t count) {
    for (uint32_t i = 0; i < count; ++i) {
        flow.on_sent();
    }
}

}  // namespace

TEST_CASE("a closed-loop window allows at most W messages in flight") {
    PublisherFlow flow(FlowLimits{.window = 10, .stall_timeout_ns = 1000 * kMs});
    flow.start(1);
    CHECK(flow.allowance(1, 0, 100) == 10);
    send(flow, 10);
    CHECK(flow.allowance(2, 0, 100) == 0);
    CHECK(flow.allowance(3, 4, 100) == 4);  // the subscriber got 1..4
    CHECK(flow.allowance(3, 4, 3) == 3);    // the batch limit wins
    CHECK(flow.in_flight(4) == 6);
    CHECK(flow.next_sequence() == 11);
}

TEST_CASE("a full window with no delivery for the stall timeout is abandoned once") {
    PublisherFlow flow(FlowLimits{.window = 5, .stall_timeout_ns = 100 * kMs});
    flow.start(1);
    flow.allowance(1, 0, 100);
    send(flow, 5);
    CHECK(flow.allowance(50 * kMs, 0, 100) == 0);
    CHECK(flow.allowance(101 * kMs, 0, 100) == 5);  // 1..5 given up
    CHECK(flow.stalls() == 1);
    send(flow, 5);
    CHECK(flow.allowance(150 * kMs, 0, 100) == 0);  // the new window waits again
    CHECK(flow.allowance(160 * kMs, 7, 100) == 2);  // 6, 7 delivered
    CHECK(flow.stalls() == 1);
}

TEST_CASE("the rate allows floor(rate x elapsed) + 1 messages") {
    PublisherFlow flow(FlowLimits{.rate = 1000.0});
    flow.start(0);
    CHECK(flow.allowance(0, 0, 100) == 1);
    send(flow, 1);
    CHECK(flow.allowance(500'000, 0, 100) == 0);    // 0.5 ms: still the first message's slot
    CHECK(flow.allowance(10 * kMs, 0, 100) == 10);  // 10 ms at 1000/s: 11 due, 1 sent
    send(flow, 10);
    CHECK(flow.sent() == 11);
    CHECK(flow.allowance(10 * kMs, 0, 100) == 0);
}

TEST_CASE("open loop at QoS 0 only has the batch limit") {
    PublisherFlow flow(FlowLimits{});
    flow.start(0);
    CHECK(flow.allowance(0, 0, 777) == 777);
    CHECK_FALSE(flow.on_sent().has_value());
}

TEST_CASE("packet identifiers are 1..65535, unique while unacknowledged, reused after") {
    PublisherFlow flow(FlowLimits{.max_unacked = 3});
    flow.start(0);
    CHECK(flow.allowance(0, 0, 100) == 3);
    CHECK(flow.on_sent() == 1);
    CHECK(flow.on_sent() == 2);
    CHECK(flow.on_sent() == 3);
    CHECK(flow.unacked() == 3);
    CHECK(flow.allowance(0, 0, 100) == 0);  // Receive Maximum reached [MQTT-3.3.4-7]
    CHECK(flow.release(2));
    CHECK_FALSE(flow.release(2));  // not in flight any more
    CHECK_FALSE(flow.release(0));
    CHECK(flow.allowance(0, 0, 100) == 1);
    CHECK(flow.on_sent() == 4);
}

TEST_CASE("identifiers wrap after 65535 and skip 0 and those still in use") {
    PublisherFlow flow(FlowLimits{.max_unacked = 65535});
    flow.start(0);
    for (uint32_t id = 1; id <= 65535; ++id) {
        REQUIRE(flow.on_sent() == id);
    }
    CHECK(flow.allowance(0, 0, 100) == 0);
    CHECK(flow.release(2));
    CHECK(flow.release(3));
    CHECK(flow.allowance(0, 0, 100) == 0);  // 1 is next and still in use: wait for it
    CHECK(flow.release(1));
    CHECK(flow.allowance(0, 0, 100) == 3);
    CHECK(flow.on_sent() == 1);
    CHECK(flow.on_sent() == 2);
    CHECK(flow.on_sent() == 3);
}
