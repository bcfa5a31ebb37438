// Unit tests for tern-bench's SequenceTracker: order, gaps, late arrivals and duplicates.
#include "sequence_tracker.hpp"

#include <doctest/doctest.h>

using tern::bench::SequenceTracker;
using Outcome = SequenceTracker::Outcome;

TEST_CASE("in-order sequences are unique and advance the highest") {
    SequenceTracker tracker;
    for (uint32_t s = 1; s <= 100; ++s) {
        REQUIRE(tracker.record(s) == Outcome::InOrder);
    }
    CHECK(tracker.highest() == 100);
    CHECK(tracker.unique() == 100);
    CHECK(tracker.duplicates() == 0);
    CHECK(tracker.reordered() == 0);
}

TEST_CASE("a repeated sequence is a duplicate") {
    SequenceTracker tracker;
    tracker.record(1);
    tracker.record(2);
    CHECK(tracker.record(2) == Outcome::Duplicate);
    CHECK(tracker.record(1) == Outcome::Duplicate);
    CHECK(tracker.duplicates() == 2);
    CHECK(tracker.unique() == 2);
}

TEST_CASE("a gap filled later counts as reordered once, then as duplicate") {
    SequenceTracker tracker;
    tracker.record(1);
    CHECK(tracker.record(5) == Outcome::AfterGap);  // 2, 3, 4 missing
    CHECK(tracker.highest() == 5);
    CHECK(tracker.record(3) == Outcome::Late);  // splits the gap into 2 and 4
    CHECK(tracker.record(2) == Outcome::Late);
    CHECK(tracker.record(4) == Outcome::Late);
    CHECK(tracker.record(3) == Outcome::Duplicate);
    CHECK(tracker.record(6) == Outcome::InOrder);
    CHECK(tracker.unique() == 6);
    CHECK(tracker.reordered() == 3);
    CHECK(tracker.duplicates() == 1);
}

TEST_CASE("a message never delivered leaves unique below highest (loss)") {
    SequenceTracker tracker;
    for (uint32_t s : {1u, 2u, 4u, 5u, 9u, 10u}) {
        tracker.record(s);
    }
    CHECK(tracker.highest() == 10);
    CHECK(tracker.unique() == 6);
    CHECK(tracker.reordered() == 0);
}

TEST_CASE("sequence 0 is never valid and counts as a duplicate") {
    SequenceTracker tracker;
    tracker.record(3);
    CHECK(tracker.record(0) == Outcome::Duplicate);
}

TEST_CASE("beyond kMaxGaps the oldest gap is forgotten") {
    SequenceTracker tracker;
    uint32_t s = 1;
    for (std::size_t i = 0; i < SequenceTracker::kMaxGaps + 2; ++i) {  // kMaxGaps + 1 gaps
        tracker.record(s);
        s += 2;  // every even number is missing
    }
    CHECK(tracker.record(2) == Outcome::Duplicate);  // its gap was dropped
    CHECK(tracker.record(4) == Outcome::Late);
}
