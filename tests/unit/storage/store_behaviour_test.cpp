// Behaviour every Store shares, run against the memory store and the RocksDB store (Async, Sync).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/memory_store.hpp"
#include "store_harness.hpp"

using namespace tern::storage;
using tern::storage::test::commit;
using tern::storage::test::Loaded;
using Op = WriteBatch;

#define TERN_STORES test::MemoryHarness, test::AsyncHarness, test::SyncHarness

namespace {

constexpr uint32_t kNever = 0xFFFFFFFF;

MessageRecord message(std::string topic, std::string payload, UnixMillis expires_at = 0) {
    MessageRecord built;
    built.topic = std::move(topic);
    built.payload = std::move(payload);
    built.qos = 1;
    built.retain = true;
    tern::codec::Properties properties;
    properties.content_type = "text/plain";
    properties.user_properties = {{"k", "v"}};
    built.properties = tern::codec::SharedProperties(std::move(properties));
    built.expires_at = expires_at;
    return built;
}

SessionRecord session(std::string client_id, uint32_t expiry_s, UnixMillis disconnected_at) {
    SessionRecord built;
    built.client_id = std::move(client_id);
    built.protocol_version = 5;
    built.expiry_interval_s = expiry_s;
    built.disconnected_at = disconnected_at;
    built.subscriptions.push_back({"sensors/#", {1, false, true, 0, 7}});
    return built;
}

QueuedRecord queued(uint64_t seq, std::string payload,
                    QueuedRecord::State state = QueuedRecord::State::Queued,
                    UnixMillis expires_at = 0) {
    QueuedRecord built;
    built.seq = seq;
    built.qos = 1;
    built.state = state;
    built.packet_id = state == QueuedRecord::State::Queued ? 0 : static_cast<uint16_t>(seq + 100);
    built.subscription_ids = {7};
    built.message = message("q/topic", std::move(payload), expires_at);
    built.message.retain = false;
    return built;
}

HistoryRecord history(std::string topic, uint64_t seq, UnixMillis timestamp) {
    HistoryRecord built;
    built.seq = seq;
    built.timestamp = timestamp;
    built.message = message(std::move(topic), "h" + std::to_string(seq));
    return built;
}

std::vector<uint64_t> seqs(const std::vector<HistoryRecord>& entries) {
    std::vector<uint64_t> found;
    for (const HistoryRecord& entry : entries) {
        found.push_back(entry.seq);
    }
    return found;
}

std::vector<std::string> client_ids(const std::vector<SessionRecord>& sessions) {
    std::vector<std::string> ids;
    for (const SessionRecord& record : sessions) {
        ids.push_back(record.client_id);
    }
    return ids;
}

using Seqs = std::vector<uint64_t>;
using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE_TEMPLATE("Load visits exactly what the committed batches left", H, TERN_STORES) {
    H h{StorageSettings{}};
    UnixMillis now = unix_now_ms();
    WriteBatch first;
    first.add(Op::PutRetained{message("r/1", "one")});
    first.add(Op::PutRetained{message("r/2", "two")});
    first.add(Op::PutRetained{message("r/3", "three")});
    first.add(Op::PutSession{session("alice", 3600, now)});
    first.add(Op::PutSession{session("bob", 3600, now)});
    first.add(Op::PutSession{session("carol", kNever, now)});
    for (uint64_t seq = 1; seq <= 3; ++seq) {
        first.add(Op::PutQueued{"alice", queued(seq, "a" + std::to_string(seq))});
    }
    first.add(Op::PutQueued{"bob", queued(1, "b1")});
    first.add(Op::PutIncomingQos2{"alice", 10});
    first.add(Op::PutIncomingQos2{"alice", 11});
    first.add(Op::PutIncomingQos2{"bob", 7});
    commit(*h.store, std::move(first));

    WriteBatch second;
    second.add(Op::EraseRetained{"r/2"});
    second.add(Op::PutRetained{message("r/3", "three again")});
    second.add(Op::EraseQueued{"alice", 2});
    second.add(Op::EraseIncomingQos2{"alice", 10});
    second.add(Op::EraseSession{"bob"});
    second.add(Op::PutQueued{"carol", queued(5, "c5")});
    second.add(Op::PutQueued{"alice", queued(3, "a3", QueuedRecord::State::AwaitingPuback)});
    commit(*h.store, std::move(second));

    h.restart();
    Loaded loaded;
    LoadSummary summary = h.store->load(loaded);
    CHECK(loaded.retained_messages ==
          std::vector<MessageRecord>{message("r/1", "one"), message("r/3", "three again")});
    CHECK(loaded.sessions ==
          std::vector<SessionRecord>{session("alice", 3600, now), session("carol", kNever, now)});
    using Entry = std::pair<std::string, QueuedRecord>;
    CHECK(loaded.queue ==
          std::vector<Entry>{{"alice", queued(1, "a1")},
                             {"alice", queued(3, "a3", QueuedRecord::State::AwaitingPuback)},
                             {"carol", queued(5, "c5")}});
    CHECK(loaded.incoming == std::vector<std::pair<std::string, uint16_t>>{{"alice", 11}});
    CHECK(loaded.calls == Strings{"retained", "retained", "session", "session", "queued:alice",
                                  "queued:alice", "incoming:alice", "queued:carol"});
    CHECK(summary.retained == 2);
    CHECK(summary.sessions == 2);
    CHECK(summary.queued == 3);
    CHECK(summary.history == 0);
    CHECK(summary.expired_removed == 0);
}

TEST_CASE_TEMPLATE("A queue entry carried as the broker's message is stored like an encoded one", H,
                   TERN_STORES) {
    H h{StorageSettings{}};
    const UnixMillis expires_at = unix_now_ms() + 3'600'000;
    auto source = tern::core::Message::create("borrowed");
    source->topic = "q/topic";
    source->qos = 1;
    tern::codec::Properties properties;
    properties.content_type = "text/plain";
    properties.user_properties = {{"k", "v"}};
    source->set_properties(std::move(properties));
    const Op::PutQueued::Fields fields{expires_at, 109, 1, false,
                                       QueuedRecord::State::AwaitingPuback};
    WriteBatch batch;
    batch.add(Op::PutSession{session("dave", 3600, 0)});
    batch.add(Op::PutQueued{"dave", 9, source, fields, true});
    source.reset();  // the batch keeps the message alive until it is written
    commit(*h.store, std::move(batch));

    h.restart();
    Loaded loaded;
    h.store->load(loaded);
    QueuedRecord expected = queued(9, "borrowed", QueuedRecord::State::AwaitingPuback, expires_at);
    expected.subscription_ids.clear();
    using Entry = std::pair<std::string, QueuedRecord>;
    CHECK(loaded.queue == std::vector<Entry>{{"dave", expected}});
}

TEST_CASE_TEMPLATE("Erasing a session also erases queue entries written earlier in its batch", H,
                   TERN_STORES) {
    H h{StorageSettings{}};
    UnixMillis now = unix_now_ms();
    WriteBatch batch;
    batch.add(Op::PutSession{session("dave", 600, now)});
    batch.add(Op::PutQueued{"dave", queued(1, "old")});
    batch.add(Op::PutIncomingQos2{"dave", 5});
    batch.add(Op::EraseSession{"dave"});
    batch.add(Op::PutSession{session("dave", 900, now)});
    batch.add(Op::PutQueued{"dave", queued(2, "new")});
    // A client id that extends "dave" is a different session and keeps its entries.
    batch.add(Op::PutSession{session("dave2", 600, now)});
    batch.add(Op::PutQueued{"dave2", queued(1, "other")});
    commit(*h.store, std::move(batch));
    commit(*h.store, test::batch_of(Op::EraseSession{"dave"}));
    commit(*h.store, test::batch_of(Op::PutSession{session("dave", 900, now)}));

    h.restart();
    Loaded loaded;
    h.store->load(loaded);
    CHECK(client_ids(loaded.sessions) == Strings{"dave", "dave2"});
    using Entry = std::pair<std::string, QueuedRecord>;
    CHECK(loaded.queue == std::vector<Entry>{{"dave2", queued(1, "other")}});
    CHECK(loaded.incoming.empty());
}

TEST_CASE_TEMPLATE("Batches from four threads are group-committed and each completes once in order",
                   H, TERN_STORES) {
    H h{StorageSettings{}};
    constexpr int kThreads = 4;
    constexpr int kPerThread = 250;
    UnixMillis now = unix_now_ms();
    WriteBatch sessions;
    for (int thread = 0; thread < kThreads; ++thread) {
        sessions.add(Op::PutSession{session("client-" + std::to_string(thread), 600, now)});
    }
    commit(*h.store, std::move(sessions));
    StoreStats before = h.store->stats();

    // Written only by `done`, which runs on the one writer thread.
    std::array<std::vector<int>, kThreads> completed;
    std::atomic<int> remaining{kThreads * kPerThread};
    std::promise<void> all_done;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int thread = 0; thread < kThreads; ++thread) {
        threads.emplace_back([&, thread] {
            start.arrive_and_wait();
            std::string client = "client-" + std::to_string(thread);
            for (int index = 0; index < kPerThread; ++index) {
                WriteBatch batch;
                batch.add(Op::PutQueued{client, queued(index + 1, "p")});
                h.store->submit(std::move(batch), [&, thread, index] {
                    completed[thread].push_back(index);
                    if (--remaining == 0) {
                        all_done.set_value();
                    }
                });
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    all_done.get_future().wait();

    std::vector<int> expected(kPerThread);
    for (int index = 0; index < kPerThread; ++index) {
        expected[index] = index;
    }
    for (int thread = 0; thread < kThreads; ++thread) {
        CHECK(completed[thread] == expected);
    }
    StoreStats stats = h.store->stats();
    uint64_t batches = stats.batches_committed - before.batches_committed;
    uint64_t commits = stats.commits - before.commits;
    CHECK(batches == kThreads * kPerThread);
    CHECK(stats.ops_written - before.ops_written == kThreads * kPerThread);
    CHECK(commits < batches);
    CHECK(stats.largest_group > 1);
    REQUIRE(stats.commit_latency_buckets.size() == StoreStats::latency_bounds_us().size() + 1);
    CHECK(stats.commit_latency_buckets.back() == stats.commits);
    for (std::size_t index = 1; index < stats.commit_latency_buckets.size(); ++index) {
        CHECK(stats.commit_latency_buckets[index - 1] <= stats.commit_latency_buckets[index]);
    }

    h.restart();
    Loaded loaded;
    CHECK(h.store->load(loaded).queued == kThreads * kPerThread);
    for (int thread = 0; thread < kThreads; ++thread) {
        std::vector<uint64_t> stored;
        for (const auto& [client, entry] : loaded.queue) {
            if (client == "client-" + std::to_string(thread)) {
                stored.push_back(entry.seq);
            }
        }
        CHECK(stored.size() == kPerThread);
        CHECK(std::is_sorted(stored.begin(), stored.end()));
    }
}

TEST_CASE_TEMPLATE("Load drops expired sessions and messages but keeps in-flight ones", H,
                   TERN_STORES) {
    H h{StorageSettings{}};
    UnixMillis now = unix_now_ms();
    using State = QueuedRecord::State;
    WriteBatch batch;
    batch.add(Op::PutRetained{message("r/old", "x", now - 1000)});
    batch.add(Op::PutRetained{message("r/new", "y", now + 3'600'000)});
    batch.add(Op::PutSession{session("gone", 5, now - 10'000)});
    batch.add(Op::PutQueued{"gone", queued(1, "g1")});
    batch.add(Op::PutIncomingQos2{"gone", 3});
    batch.add(Op::PutSession{session("zero", 0, now - 1)});
    batch.add(Op::PutSession{session("forever", kNever, 1)});
    batch.add(Op::PutSession{session("crashed", 60, 0)});
    batch.add(Op::PutSession{session("live", 3600, now)});
    batch.add(Op::PutQueued{"live", queued(1, "expired", State::Queued, now - 1)});
    batch.add(Op::PutQueued{"live", queued(2, "in flight", State::AwaitingPuback, now - 1)});
    batch.add(Op::PutQueued{"live", queued(3, "released", State::AwaitingPubcomp, now - 1)});
    batch.add(Op::PutQueued{"live", queued(4, "fresh", State::Queued, now + 60'000)});
    commit(*h.store, std::move(batch));

    h.restart();
    Loaded loaded;
    UnixMillis before_load = unix_now_ms();
    LoadSummary summary = h.store->load(loaded);
    UnixMillis after_load = unix_now_ms();
    CHECK(loaded.retained_messages ==
          std::vector<MessageRecord>{message("r/new", "y", now + 3'600'000)});
    REQUIRE(client_ids(loaded.sessions) == Strings{"crashed", "forever", "live"});
    UnixMillis crash_time = loaded.sessions[0].disconnected_at;
    CHECK(crash_time >= before_load);
    CHECK(crash_time <= after_load);
    Seqs live;
    for (const auto& [client, entry] : loaded.queue) {
        CHECK(client == "live");
        live.push_back(entry.seq);
    }
    CHECK(live == Seqs{2, 3, 4});
    CHECK(loaded.incoming.empty());
    CHECK(summary.expired_removed == 4);  // r/old, gone, zero, live #1

    // What load removed is gone for good, and the crash time it set was stored.
    h.restart();
    Loaded again;
    summary = h.store->load(again);
    CHECK(summary.expired_removed == 0);
    CHECK(again.sessions == loaded.sessions);
    CHECK(again.queue == loaded.queue);
    CHECK(again.sessions[0].disconnected_at == crash_time);
}

TEST_CASE_TEMPLATE("History keeps the newest max_messages entries of each topic", H, TERN_STORES) {
    StorageSettings settings;
    // First match wins; "#" does not match "$SYS/..." topics [MQTT-4.7.2-1]: no history there.
    settings.history = {{"h/#", 3, 0}, {"#", 1, 0}};
    H h{settings};
    CHECK(h.store->next_history_seq() == 1);
    UnixMillis now = unix_now_ms();
    for (uint64_t seq = 1; seq <= 5; ++seq) {
        commit(*h.store, test::batch_of(Op::AppendHistory{history("h/a", seq, now)}));
    }
    WriteBatch batch;
    batch.add(Op::AppendHistory{history("h/b", 6, now)});
    batch.add(Op::AppendHistory{history("h/b", 7, now)});
    batch.add(Op::AppendHistory{history("other/t", 8, now)});
    batch.add(Op::AppendHistory{history("other/t", 9, now)});
    batch.add(Op::AppendHistory{history("$SYS/x", 10, now)});
    commit(*h.store, std::move(batch));

    auto check_contents = [&] {
        CHECK(seqs(h.store->read_history("h/a", 0, 100)) == Seqs{3, 4, 5});
        CHECK(seqs(h.store->read_history("h/a", 3, 100)) == Seqs{4, 5});
        CHECK(seqs(h.store->read_history("h/a", 0, 2)) == Seqs{3, 4});
        CHECK(h.store->read_history("h/a", 5, 100).empty());
        CHECK(h.store->read_history("h/a", UINT64_MAX, 100).empty());
        CHECK(seqs(h.store->read_history("h/b", 0, 100)) == Seqs{6, 7});
        CHECK(seqs(h.store->read_history("other/t", 0, 100)) == Seqs{9});
        CHECK(h.store->read_history("$SYS/x", 0, 100).empty());
        CHECK(h.store->read_history("h", 0, 100).empty());
        CHECK(h.store->read_history("h/a", 3, 1) ==
              std::vector<HistoryRecord>{history("h/a", 4, now)});
        CHECK(h.store->history_topics("h/+") == Strings{"h/a", "h/b"});
        CHECK(h.store->history_topics("#") == Strings{"h/a", "h/b", "other/t"});
        CHECK(h.store->history_topics("other/t") == Strings{"other/t"});
        CHECK(h.store->history_topics("$SYS/#").empty());
        CHECK(h.store->history_topics("nothing/+").empty());
        // What was trimmed is known, so that a reader resuming before it hears of the gap.
        CHECK(h.store->history_trimmed_through("h/a") == 2);
        CHECK(h.store->history_trimmed_through("h/b") == 0);
        CHECK(h.store->history_trimmed_through("other/t") == 8);
        CHECK(h.store->history_trimmed_through("$SYS/x") == 0);
        CHECK(h.store->history_trimmed_through("never/seen") == 0);
    };
    check_contents();

    h.restart();
    check_contents();
    Loaded loaded;
    LoadSummary summary = h.store->load(loaded);
    CHECK(summary.history == 6);
    CHECK(h.store->next_history_seq() == 10);
    check_contents();
}

TEST_CASE_TEMPLATE("History older than max_age_s is neither returned nor kept", H, TERN_STORES) {
    StorageSettings settings;
    settings.history = {{"#", 100, 60}};
    H h{settings};
    UnixMillis now = unix_now_ms();
    WriteBatch batch;
    batch.add(Op::AppendHistory{history("t", 1, now - 120'000)});
    batch.add(Op::AppendHistory{history("t", 2, now - 30'000)});
    batch.add(Op::AppendHistory{history("t", 3, now)});
    batch.add(Op::AppendHistory{history("u", 4, now - 120'000)});
    commit(*h.store, std::move(batch));
    CHECK(seqs(h.store->read_history("t", 0, 10)) == Seqs{2, 3});
    CHECK(h.store->read_history("u", 0, 10).empty());
    // "u" lost its only entry: still listed, so that its trim mark reports the gap.
    CHECK(h.store->history_topics("#") == Strings{"t", "u"});
    CHECK(h.store->history_trimmed_through("t") == 1);
    CHECK(h.store->history_trimmed_through("u") == 4);

    h.restart();
    Loaded loaded;
    CHECK(h.store->load(loaded).history == 2);
    CHECK(seqs(h.store->read_history("t", 0, 10)) == Seqs{2, 3});
    CHECK(h.store->history_trimmed_through("t") == 1);
    CHECK(h.store->history_trimmed_through("u") == 4);
}

TEST_CASE_TEMPLATE("An entry that ages out while stored counts as trimmed", H, TERN_STORES) {
    StorageSettings settings;
    settings.history = {{"#", 100, 60}};
    H h{settings};
    UnixMillis now = unix_now_ms();
    // 59 s old when appended; 1.2 s later it is past max_age: reads skip it and, although it
    // still waits for lazy trimming, it counts as trimmed.
    commit(*h.store, test::batch_of(Op::AppendHistory{history("t", 1, now - 59'000)}));
    CHECK(h.store->history_trimmed_through("t") == 0);
    CHECK(seqs(h.store->read_history("t", 0, 10)) == Seqs{1});
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK(h.store->read_history("t", 0, 10).empty());
    CHECK(h.store->history_trimmed_through("t") == 1);
}

TEST_CASE_TEMPLATE("The epoch increments on every load and survives a restart", H, TERN_STORES) {
    H h{StorageSettings{}};
    CHECK(h.store->epoch() == 0);
    Loaded loaded;
    h.store->load(loaded);
    CHECK(h.store->epoch() == 1);
    h.restart();
    CHECK(h.store->epoch() == 1);
    h.store->load(loaded);
    CHECK(h.store->epoch() == 2);
    h.restart();
    h.store->load(loaded);
    CHECK(h.store->epoch() == 3);
}

TEST_CASE_TEMPLATE("Stats count the retained messages and their bytes", H, TERN_STORES) {
    H h{StorageSettings{}};
    Loaded loaded;
    h.store->load(loaded);
    commit(*h.store, test::batch_of(Op::PutRetained{message("r/1", "abc")}));
    commit(*h.store, test::batch_of(Op::PutRetained{message("r/2", "hello")}));
    CHECK(h.store->stats().retained_messages == 2);
    CHECK(h.store->stats().retained_bytes == 6 + 8);
    WriteBatch batch;
    batch.add(Op::PutRetained{message("r/1", "x")});
    batch.add(Op::EraseRetained{"r/2"});
    batch.add(Op::EraseRetained{"r/9"});
    commit(*h.store, std::move(batch));
    StoreStats stats = h.store->stats();
    CHECK(stats.retained_messages == 1);
    CHECK(stats.retained_bytes == 4);
    CHECK(stats.batches_committed == 3);
    CHECK(stats.ops_written == 5);
    CHECK(stats.write_errors == 0);

    h.restart();
    h.store->load(loaded);
    CHECK(h.store->stats().retained_messages == 1);
    CHECK(h.store->stats().retained_bytes == 4);
}

TEST_CASE_TEMPLATE("Done runs on the writer thread and submit after close throws", H, TERN_STORES) {
    H h{StorageSettings{}};
    std::promise<std::thread::id> ran_on;
    h.store->submit(test::batch_of(Op::EraseRetained{"x"}),
                    [&] { ran_on.set_value(std::this_thread::get_id()); });
    CHECK(ran_on.get_future().get() != std::this_thread::get_id());

    // close() waits for what is queued.
    std::atomic<int> completed{0};
    for (int index = 0; index < 20; ++index) {
        h.store->submit(test::batch_of(Op::EraseRetained{"x"}), [&] { ++completed; });
    }
    h.store->close();
    CHECK(completed == 20);
    h.store->close();
    CHECK_THROWS_AS(h.store->submit(WriteBatch{}, [] {}), StorageError);
}

TEST_CASE_TEMPLATE("Writes superseded within a group leave the same result", H, TERN_STORES) {
    H h{StorageSettings{}};
    // Submitted without waiting, so that the writer takes many batches per group.
    std::vector<std::future<void>> done;
    auto submit = [&](WriteBatch batch) {
        auto promise = std::make_shared<std::promise<void>>();
        done.push_back(promise->get_future());
        h.store->submit(std::move(batch), [promise] { promise->set_value(); });
    };
    submit(test::batch_of(Op::PutSession{session("c", kNever, 0)}));
    submit(test::batch_of(Op::PutSession{session("d", kNever, 0)}));
    // Created in an earlier group, updated and erased in a later one: the erase must be written.
    submit(test::batch_of(Op::PutQueued{"c", queued(1000, "early"), true}));
    done.back().wait();
    submit(test::batch_of(
        Op::PutQueued{"c", queued(1000, "early", QueuedRecord::State::AwaitingPuback)}));
    submit(test::batch_of(Op::EraseQueued{"c", 1000}));
    constexpr uint64_t kMessages = 300;
    for (uint64_t seq = 1; seq <= kMessages; ++seq) {
        submit(test::batch_of(Op::PutQueued{"c", queued(seq, "m"), true}));
        submit(test::batch_of(Op::PutIncomingQos2{"c", static_cast<uint16_t>(seq)}));
        submit(test::batch_of(
            Op::PutQueued{"c", queued(seq, "m", QueuedRecord::State::AwaitingPuback)}));
        if (seq % 2 == 1) {  // acknowledged: gone; the others stay in flight
            submit(test::batch_of(Op::EraseQueued{"c", seq}));
            submit(test::batch_of(Op::EraseIncomingQos2{"c", static_cast<uint16_t>(seq)}));
        }
    }
    // A session erased between two writes of one key keeps the later write.
    submit(test::batch_of(Op::PutQueued{"d", queued(1, "old"), true}));
    submit(test::batch_of(Op::EraseSession{"d"}));
    submit(test::batch_of(Op::PutSession{session("d", kNever, 0)}));
    submit(test::batch_of(Op::PutQueued{"d", queued(1, "new")}));
    for (auto& future : done) {
        future.wait();
    }
    h.restart();
    Loaded loaded;
    h.store->load(loaded);
    std::vector<uint64_t> kept;
    std::vector<std::string> d_payloads;
    for (const auto& [client_id, entry] : loaded.queue) {
        if (client_id == "c") {
            CHECK(entry.state == QueuedRecord::State::AwaitingPuback);
            kept.push_back(entry.seq);
        } else {
            d_payloads.push_back(entry.message.payload);
        }
    }
    CHECK(kept.size() == kMessages / 2);
    CHECK(std::all_of(kept.begin(), kept.end(), [](uint64_t seq) { return seq % 2 == 0; }));
    CHECK(loaded.incoming.size() == kMessages / 2);
    CHECK(d_payloads == std::vector<std::string>{"new"});
}

TEST_CASE("MemoryStore::apply_now makes a history entry readable before it returns") {
    // The memory-only history's contract with the publisher's PUBACK (net/history.cpp): no
    // writer thread in between, so there is no moment where the entry is acknowledged but
    // unreadable.
    StorageSettings settings;
    settings.durability = Durability::Memory;
    settings.history = {{"h/#", 10, 0}};
    MemoryStore store(settings);
    const UnixMillis now = unix_now_ms();
    for (uint64_t seq = 1; seq <= 100; ++seq) {
        const std::string topic = "h/t" + std::to_string(seq);
        store.apply_now(test::batch_of(Op::AppendHistory{history(topic, seq, now)}));
        CHECK(seqs(store.read_history(topic, 0, 10)) == Seqs{seq});
    }
    CHECK(store.history_topics("h/+").size() == 100);
}
