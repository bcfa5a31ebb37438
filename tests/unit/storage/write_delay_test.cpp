// The store's write delay: queue entries acknowledged while they wait are never written, and
// everything else is as durable, and completes in the same order, as without it.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "storage/commit_queue.hpp"
#include "storage/group_coalescer.hpp"
#include "store_harness.hpp"

using namespace tern::storage;
using tern::storage::test::Loaded;
using Op = WriteBatch;
using namespace std::chrono_literals;

#define TERN_STORES test::MemoryHarness, test::AsyncHarness, test::SyncHarness

namespace {

QueuedRecord entry(uint64_t seq) {
    QueuedRecord built;
    built.seq = seq;
    built.qos = 1;
    built.message.topic = "t";
    built.message.payload = "payload " + std::to_string(seq);
    built.message.qos = 1;
    return built;
}

WriteBatch waiting(std::vector<WriteBatch::Op> ops) {
    WriteBatch batch;
    for (auto& op : ops) {
        batch.add(std::move(op));
    }
    batch.allow_delay();
    return batch;
}

Op::PutQueued created(std::string client, uint64_t seq) {
    return Op::PutQueued{std::move(client), entry(seq), true};
}

// Records the order in which batches complete, and when.
struct Completions {
    std::mutex mutex;
    std::vector<int> order;
    std::vector<std::promise<void>> done;
    std::vector<std::shared_future<void>> finished;
    explicit Completions(std::size_t count) : done(count) {
        for (auto& promise : done) {
            finished.push_back(promise.get_future().share());
        }
    }

    std::function<void()> callback(int index) {
        return [this, index] {
            {
                std::lock_guard lock(mutex);
                order.push_back(index);
            }
            done[index].set_value();
        };
    }
    // Whether batch `index` completed within `timeout`.
    bool wait(int index, std::chrono::milliseconds timeout) {
        return finished[index].wait_for(timeout) == std::future_status::ready;
    }
};

// A session that never expires, for the queue entries to belong to (load drops orphans).
void put_session(Store& store, std::string client) {
    SessionRecord record;
    record.client_id = std::move(client);
    record.protocol_version = 5;
    record.expiry_interval_s = 0xFFFFFFFF;
    test::commit(store, test::batch_of(Op::PutSession{std::move(record)}));
}

// A started store (loaded) with a session "c" for the queue entries.
void start_with_session(Store& store) {
    Loaded loaded;
    store.load(loaded);
    put_session(store, "c");
}

std::vector<uint64_t> stored_seqs(Store& store) {
    Loaded loaded;
    store.load(loaded);
    std::vector<uint64_t> seqs;
    for (const auto& [client, queued] : loaded.queue) {
        seqs.push_back(queued.seq);
    }
    return seqs;
}

}  // namespace

TEST_CASE_TEMPLATE("An entry erased while it waits is never written, and completes at once", H,
                   TERN_STORES) {
    StorageSettings settings;
    settings.write_delay = 30s;  // never reached: the test would time out
    Completions completions(2);  // outlives the store, whose close may complete batches
    H h{settings};
    Loaded loaded;
    h.store->load(loaded);
    const auto started = std::chrono::steady_clock::now();
    h.store->submit(waiting({created("c", 1), created("c", 2)}), completions.callback(0));
    h.store->submit(waiting({Op::EraseQueued{"c", 1}}), completions.callback(1));
    // c/2 still waits, so its batch does; the erase's batch has nothing left but waits its turn.
    CHECK_FALSE(completions.wait(1, 200ms));
    h.store->submit(waiting({Op::EraseQueued{"c", 2}}), nullptr);
    REQUIRE(completions.wait(0, 5s));
    REQUIRE(completions.wait(1, 5s));
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    CHECK(completions.order == std::vector<int>{0, 1});
    const StoreStats stats = h.store->stats();
    CHECK(stats.ops_written == 0);
    CHECK(stats.ops_cancelled == 4);
    CHECK(h.store->backlog_ops() == 0);
    h.restart();
    CHECK(stored_seqs(*h.store).empty());
}

TEST_CASE_TEMPLATE("An entry still queued when its delay passes is written", H, TERN_STORES) {
    StorageSettings settings;
    settings.write_delay = 100ms;
    Completions completions(1);  // outlives the store, whose close may complete batches
    H h{settings};
    start_with_session(*h.store);
    const uint64_t written_before = h.store->stats().ops_written;
    const auto started = std::chrono::steady_clock::now();
    h.store->submit(waiting({created("c", 7)}), completions.callback(0));
    REQUIRE(completions.wait(0, 5s));
    CHECK(std::chrono::steady_clock::now() - started >= 100ms);
    CHECK(h.store->stats().ops_written - written_before == 1);
    // Written: its erase must be written too.
    test::commit(*h.store, waiting({Op::EraseQueued{"c", 8}, created("c", 9)}));
    h.restart();
    if (H::kPersistent) {
        CHECK(stored_seqs(*h.store) == std::vector<uint64_t>{7, 9});
    }
}

TEST_CASE_TEMPLATE("A batch that may not wait writes the waiting ones before it, in order", H,
                   TERN_STORES) {
    StorageSettings settings;
    settings.write_delay = 30s;
    Completions completions(4);  // outlives the store, whose close may complete batches
    H h{settings};
    start_with_session(*h.store);
    h.store->submit(waiting({created("c", 1)}), completions.callback(0));
    h.store->submit(waiting({created("c", 2)}), completions.callback(1));
    SUBCASE("not allowed to wait") {
        WriteBatch urgent;
        urgent.add(created("c", 3));
        h.store->submit(std::move(urgent), completions.callback(2));
    }
    SUBCASE("holds more than new and erased queue entries") {
        // A rewrite of an entry (a QoS 2 packet id recorded before its PUBLISH leaves).
        h.store->submit(waiting({Op::PutQueued{"c", entry(3), false}}), completions.callback(2));
    }
    h.store->submit(waiting({created("c", 4)}), completions.callback(3));
    REQUIRE(completions.wait(0, 5s));
    REQUIRE(completions.wait(1, 5s));
    REQUIRE(completions.wait(2, 5s));
    CHECK_FALSE(completions.wait(3, 200ms));  // after it: waits
    CHECK(completions.order == std::vector<int>{0, 1, 2});
    // Closing writes what still waits.
    h.restart();
    if (H::kPersistent) {
        CHECK(stored_seqs(*h.store) == std::vector<uint64_t>{1, 2, 3, 4});
    }
}

TEST_CASE_TEMPLATE("An entry the writer cannot keep track of is written at once, before its erase",
                   H, TERN_STORES) {
    StorageSettings settings;
    settings.write_delay = 30s;
    Completions completions(2);  // outlives the store, whose close may complete batches
    H h{settings};
    start_with_session(*h.store);
    // Two waiting entries whose seqs share a slot of the writer's ring at its largest: it
    // forgets the first, so both batches are written now instead of waiting 30 s.
    const uint64_t apart = GroupCoalescer::kMaxRingSlots;
    h.store->submit(waiting({created("c", 1)}), completions.callback(0));
    h.store->submit(waiting({created("c", 1 + apart)}), completions.callback(1));
    REQUIRE(completions.wait(0, 5s));
    REQUIRE(completions.wait(1, 5s));
    // The first one's erase is written after it: the entry does not come back.
    test::commit(*h.store, waiting({Op::EraseQueued{"c", 1}}));
    h.restart();
    if (H::kPersistent) {
        CHECK(stored_seqs(*h.store) == std::vector<uint64_t>{1 + apart});
    }
}

TEST_CASE_TEMPLATE("The oldest waiting batches are written early when the window is full", H,
                   test::MemoryHarness, test::AsyncHarness) {
    StorageSettings settings;
    settings.write_delay = 30s;
    constexpr std::size_t kBatches = 300;
    constexpr std::size_t kPerBatch = 1000;  // 300k operations: over CommitQueue::kMaxWindowOps
    static_assert(kBatches * kPerBatch > CommitQueue::kMaxWindowOps + 2 * kPerBatch);
    Completions completions(kBatches);
    H h{settings};
    Loaded loaded;
    h.store->load(loaded);
    for (std::size_t batch = 0; batch < kBatches; ++batch) {
        std::vector<WriteBatch::Op> ops;
        for (std::size_t n = 0; n < kPerBatch; ++n) {
            ops.emplace_back(Op::PutQueued{"c", batch * kPerBatch + n + 1, "v", true});
        }
        h.store->submit(waiting(std::move(ops)), completions.callback(static_cast<int>(batch)));
    }
    // The first batches leave the window, written, long before their delay is over; the
    // newest (within the bound) still wait.
    CHECK(completions.wait(0, 10s));
    CHECK(completions.wait(static_cast<int>(kBatches - CommitQueue::kMaxWindowOps / kPerBatch) - 2,
                           10s));
    CHECK_FALSE(completions.wait(static_cast<int>(kBatches) - 1, 200ms));
    CHECK(h.store->stats().ops_written >= (kBatches * kPerBatch) - CommitQueue::kMaxWindowOps);
}
