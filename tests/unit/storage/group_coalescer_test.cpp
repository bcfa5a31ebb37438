// Tests for write avoidance: which writes of the waiting batches the writer can leave out.
#include "storage/group_coalescer.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

using namespace tern::storage;
using Op = WriteBatch;

namespace {

WriteBatch::PutQueued put(std::string client, uint64_t seq, bool creates) {
    return WriteBatch::PutQueued{std::move(client), seq, "value", creates};
}

// The writer's window: batches that do not move while the coalescer knows them.
struct Window {
    std::deque<CommitQueue::Pending> batches;
    GroupCoalescer coalescer;

    // Admits a batch; returns how many operations that cancelled.
    std::size_t add(std::vector<WriteBatch::Op> ops) {
        WriteBatch batch;
        for (auto& op : ops) {
            batch.add(std::move(op));
        }
        CommitQueue::Pending& pending = batches.emplace_back();
        pending.batch = std::move(batch);
        pending.skip.assign(pending.batch.size(), false);
        pending.live = pending.batch.size();
        return coalescer.add(pending);
    }
    std::vector<bool> skip(std::size_t batch) const { return batches[batch].skip; }
    // The first `count` batches leave to be written, as one group.
    std::vector<CommitQueue::Pending> take(std::size_t count) {
        std::vector<CommitQueue::Pending> group;
        for (std::size_t n = 0; n < count; ++n) {
            coalescer.remove(batches.front());
            group.push_back(std::move(batches.front()));
            batches.pop_front();
        }
        coalescer.plan_group(group);
        return group;
    }
};

}  // namespace

TEST_CASE("An entry created and erased while waiting writes nothing, in any two batches") {
    Window window;
    CHECK(window.add({put("a", 1, true), put("a", 2, true)}) == 0);
    CHECK(window.add({Op::EraseRetained{"t"}}) == 0);
    CHECK(window.add({Op::EraseQueued{"a", 1}}) == 2);
    CHECK(window.skip(0) == std::vector<bool>{true, false});
    CHECK(window.batches[0].live == 1);
    CHECK(window.skip(2) == std::vector<bool>{true});
    CHECK(window.batches[2].live == 0);   // may complete without writing
    CHECK(window.coalescer.size() == 1);  // a/2 still waits for its erase
}

TEST_CASE("An erase of an entry stored before it waited is written") {
    Window window;
    // A rewrite of a stored entry (creates = false), then its erase: both reach the database,
    // or a crash in between would leave the old value; within one group only the erase counts.
    CHECK(window.add({put("a", 1, false)}) == 0);
    CHECK(window.add({Op::EraseQueued{"a", 1}}) == 0);
    CHECK(window.skip(0) == std::vector<bool>{false});
    auto group = window.take(2);
    CHECK(group[0].skip == std::vector<bool>{true});
    CHECK(group[1].skip == std::vector<bool>{false});
    CHECK(group[0].live == 0);
    CHECK(group[1].live == 1);
}

TEST_CASE("Once its batch is written, an entry's erase must be written too") {
    Window window;
    window.add({put("a", 1, true)});
    auto first = window.take(1);
    CHECK(first[0].skip == std::vector<bool>{false});
    CHECK(window.coalescer.size() == 0);
    CHECK(window.add({Op::EraseQueued{"a", 1}}) == 0);
    CHECK(window.skip(0) == std::vector<bool>{false});
}

TEST_CASE("Keys never mix, and a rewritten entry is no longer cancelled while it waits") {
    Window window;
    // A QoS 2 delivery: created, its packet id recorded (a rewrite), then completed. Client a's
    // QoS 2 id 1 and its queue entry 1 are different keys.
    window.add({put("a", 1, true), put("b", 2, true), Op::PutIncomingQos2{"a", 1}});
    window.add({put("a", 1, false), Op::PutRetained{}, put("ab", 3, true)});
    CHECK(window.coalescer.size() == 3);  // b/2, ab/3 and the QoS 2 id a/1
    CHECK(window.add({Op::EraseIncomingQos2{"a", 1}, Op::EraseQueued{"a", 1}}) == 2);
    CHECK(window.skip(0) == std::vector<bool>{false, false, true});
    CHECK(window.skip(1) == std::vector<bool>{false, false, false});
    CHECK(window.skip(2) == std::vector<bool>{true, false});
    CHECK(window.coalescer.size() == 2);
    // Written as one group, the entry created and erased there writes nothing after all.
    auto group = window.take(3);
    CHECK(group[0].skip == std::vector<bool>{true, false, true});
    CHECK(group[1].skip == std::vector<bool>{true, false, false});
    CHECK(group[2].skip == std::vector<bool>{true, true});
    CHECK(window.coalescer.size() == 0);
}

TEST_CASE("A seq is one client's: another client's erase of it cancels nothing") {
    Window window;
    window.add({put("a", 5, true)});
    CHECK(window.add({Op::EraseQueued{"b", 5}}) == 0);
    CHECK(window.coalescer.size() == 1);
    CHECK(window.add({Op::EraseQueued{"a", 5}}) == 2);
}

TEST_CASE("The window's queue entries grow the ring, and every one is found on the way") {
    Window window;
    // Seqs spread wider than the first ring, cancelled in an order unlike their creation.
    std::vector<WriteBatch::Op> created;
    for (uint64_t seq = 1; seq <= 3000; ++seq) {
        created.emplace_back(put("c", seq * 7, true));
    }
    window.add(std::move(created));
    CHECK(window.coalescer.size() == 3000);
    std::size_t cancelled = 0;
    for (uint64_t seq = 3000; seq >= 2; seq -= 2) {
        cancelled += window.add({Op::EraseQueued{"c", seq * 7}});
    }
    CHECK(cancelled == 2 * 1500);
    CHECK(window.coalescer.size() == 1500);
    for (uint64_t seq = 1; seq <= 3000; seq += 2) {
        CHECK(window.add({Op::EraseQueued{"c", seq * 7}}) == 2);
    }
    CHECK(window.coalescer.size() == 0);
    CHECK(window.batches[0].live == 0);
}

TEST_CASE("Past the ring's largest size, an entry that shares a slot is written, not lost") {
    Window window;
    const uint64_t apart = GroupCoalescer::kMaxRingSlots;
    window.add({put("c", 1, true)});
    window.add({put("c", 1 + apart, true)});  // the same slot at any ring size
    CHECK(window.coalescer.size() == 1);
    // The older entry was forgotten: its batch and the newer one are written now, before any
    // erase of it, which is then written too.
    CHECK_FALSE(window.batches[0].must_write);
    CHECK(window.batches[1].must_write);
    auto first = window.take(1);
    CHECK(first[0].skip == std::vector<bool>{false});
    CHECK(window.add({Op::EraseQueued{"c", 1}}) == 0);
    CHECK(window.add({Op::EraseQueued{"c", 1 + apart}}) == 2);
    CHECK(window.skip(1) == std::vector<bool>{false});
}

TEST_CASE("Incoming QoS 2 ids grow their table, shrink by erases and are found on the way") {
    Window window;
    // Many ids, cancelled in an order unlike their insertion, so that backward-shift deletion
    // moves entries around in probe runs of many lengths.
    std::vector<WriteBatch::Op> created;
    for (uint16_t id = 1; id <= 3000; ++id) {
        created.emplace_back(Op::PutIncomingQos2{"c" + std::to_string(id % 7), id});
    }
    window.add(std::move(created));
    CHECK(window.coalescer.size() == 3000);
    std::size_t cancelled = 0;
    for (uint16_t id = 3000; id >= 2; id -= 2) {
        cancelled += window.add({Op::EraseIncomingQos2{"c" + std::to_string(id % 7), id}});
    }
    CHECK(cancelled == 2 * 1500);
    for (uint16_t id = 1; id <= 3000; id += 2) {
        CHECK(window.add({Op::EraseIncomingQos2{"c" + std::to_string(id % 7), id}}) == 2);
    }
    CHECK(window.coalescer.size() == 0);
}

TEST_CASE("A group reuses the table of a larger group before it") {
    Window window;
    std::vector<WriteBatch::Op> big;
    for (uint64_t seq = 1; seq <= 5000; ++seq) {
        big.emplace_back(put("c", seq, true));
    }
    window.add(std::move(big));
    auto first = window.take(1);
    CHECK(first[0].live == 5000);
    // Nothing of the first group leaks into the second: seq 7 was put there, not erased here.
    window.add({Op::EraseQueued{"c", 7}});
    CHECK(window.add({put("c", 9, true), Op::EraseQueued{"c", 9}}) == 2);
    auto second = window.take(2);
    CHECK(second[0].skip == std::vector<bool>{false});
    CHECK(second[1].skip == std::vector<bool>{true, true});
}
