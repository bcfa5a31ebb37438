// Tests for the global memory cap: per-loop counters, the shedding flag and its hysteresis.
#include "net/memory_budget.hpp"

#include <doctest/doctest.h>

using tern::net::MemoryBudget;

TEST_CASE("A memory budget of 0 is off") {
    MemoryBudget budget(0, 2);
    CHECK_FALSE(budget.enabled());
    budget.evaluate();
    CHECK_FALSE(budget.shedding());
}

TEST_CASE("Shedding starts over the limit and stops below 90% of it") {
    MemoryBudget budget(1000, 1);
    REQUIRE(budget.enabled());
    budget.add(0, 1000);
    budget.end_of_iteration(0);
    CHECK(budget.tracked() == 1000);
    CHECK_FALSE(budget.shedding());  // at the limit is not over it
    budget.add(0, 1);
    budget.end_of_iteration(0);
    CHECK(budget.shedding());
    budget.add(0, -101);  // 900: not below 90%
    budget.end_of_iteration(0);
    CHECK(budget.shedding());
    budget.add(0, -1);  // 899
    budget.end_of_iteration(0);
    CHECK_FALSE(budget.shedding());
    budget.add(0, 100);  // 999: under the limit again, no shedding
    budget.end_of_iteration(0);
    CHECK_FALSE(budget.shedding());
}

TEST_CASE("The memory budget sums every loop's counter") {
    MemoryBudget budget(1000, 3);
    budget.add(0, 400);
    budget.add(1, 400);
    budget.add(2, 300);
    CHECK(budget.tracked() == 1100);
    budget.add(2, -300);
    budget.add(1, -100);
    CHECK(budget.tracked() == 700);
}

TEST_CASE("A loop re-evaluates at the end of an iteration only when its own counter moved") {
    MemoryBudget budget(1000, 2);
    budget.add(1, 2000);
    budget.end_of_iteration(0);  // loop 0 saw no change: the flag is not recomputed
    CHECK_FALSE(budget.shedding());
    budget.end_of_iteration(1);
    CHECK(budget.shedding());
    budget.add(1, -2000);
    budget.end_of_iteration(1);
    CHECK_FALSE(budget.shedding());
    // The tick re-evaluates regardless, settling racing evaluations.
    budget.add(0, 5000);
    budget.tick(1'000'000);
    CHECK(budget.shedding());
}
