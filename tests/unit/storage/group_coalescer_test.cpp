// Tests for group-commit coalescing: which writes of a group the writer can leave out.
#include "storage/group_coalescer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace tern::storage;
using Op = WriteBatch;

namespace {

WriteBatch::PutQueued put(std::string client, uint64_t seq, bool creates) {
    return WriteBatch::PutQueued{std::move(client), seq, "value", creates};
}

std::vector<CommitQueue::Pending> group_of(std::vector<std::vector<WriteBatch::Op>> batches) {
    std::vector<CommitQueue::Pending> group;
    for (auto& ops : batches) {
        WriteBatch batch;
        for (auto& op : ops) {
            batch.add(std::move(op));
        }
        group.push_back(CommitQueue::Pending{std::move(batch), nullptr});
    }
    return group;
}

}  // namespace

TEST_CASE("An entry created and erased within a group writes nothing") {
    GroupCoalescer coalescer;
    auto group = group_of({{put("a", 1, true)}, {Op::EraseQueued{"a", 1}}});
    CHECK(coalescer.plan(group) == std::vector<bool>{true, true});
}

TEST_CASE("An erase of an entry stored before the group is written") {
    GroupCoalescer coalescer;
    // Rewritten, then erased: only the erase matters, and it must reach the database.
    auto group = group_of({{put("a", 1, false), Op::EraseQueued{"a", 1}}});
    CHECK(coalescer.plan(group) == std::vector<bool>{true, false});
}

TEST_CASE("Only the last write of a key counts, and keys never mix") {
    GroupCoalescer coalescer;
    auto group = group_of({
        {put("a", 1, true), put("b", 1, true), Op::PutIncomingQos2{"a", 1}},
        {put("a", 1, false), Op::PutRetained{}, put("a", 2, true)},
        {Op::EraseIncomingQos2{"a", 1}, put("ab", 1, true)},
    });
    // a/1 put twice: the first is skipped, the second (the entry's state now) kept. b/1, a/2 and
    // ab/1 are written once. The QoS 2 id a/1 was put and erased here: nothing. Retained: kept.
    CHECK(coalescer.plan(group) ==
          std::vector<bool>{true, false, true, false, false, false, true, false});
}

TEST_CASE("A group reuses the table of a larger group before it") {
    GroupCoalescer coalescer;
    std::vector<std::vector<WriteBatch::Op>> big(1);
    for (uint64_t seq = 1; seq <= 5000; ++seq) {
        big[0].emplace_back(put("c", seq, true));
    }
    auto first = group_of(std::move(big));
    const std::vector<bool>& plan = coalescer.plan(first);
    CHECK(plan.size() == 5000);
    CHECK(std::count(plan.begin(), plan.end(), true) == 0);
    // Nothing of the first group leaks into the second: seq 7 was put there, not erased here.
    auto second =
        group_of({{Op::EraseQueued{"c", 7}}, {put("c", 9, true), Op::EraseQueued{"c", 9}}});
    CHECK(coalescer.plan(second) == std::vector<bool>{false, true, true});
}
