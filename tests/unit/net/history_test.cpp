// The message history: stream positions, sequence numbers, merged reads and gap detection, with
// the memory-only history and with RocksDB across restarts.
#include "net/history.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "net/broker.hpp"
#include "net/worker_loop.hpp"
#include "storage/store.hpp"

using namespace tern;
using net::History;
using net::StreamPosition;

namespace {

std::vector<uint64_t> seqs_of(const net::HistoryRead& read) {
    std::vector<uint64_t> seqs;
    for (const net::HistoryEntry& entry : read.entries) {
        CHECK(entry.message->seq == entry.seq);
        seqs.push_back(entry.seq);
    }
    return seqs;
}

core::MessagePtr publish_on(History& history, net::WorkerLoop& loop, std::string topic,
                            std::string payload) {
    auto message = std::const_pointer_cast<core::Message>(net::Broker::make_message(
        std::move(topic), std::move(payload), 1, false, {}, 7, loop.now()));
    history.record(loop, *message);
    return message;
}

core::StorageConfig config_with(std::vector<core::HistoryConfig> policies) {
    core::StorageConfig config;
    config.history = std::move(policies);
    return config;
}

// The memory history commits on its writer thread: wait until the entry numbered `seq` is
// readable (waiting for a count is not enough: a trimmed history reaches it before the last
// entry lands).
void wait_for_seq(const History& history, std::string_view filter, uint64_t seq) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const net::HistoryRead read = history.read(filter, {history.epoch(), 0}, 1000);
        if (!read.entries.empty() && read.entries.back().seq >= seq) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("the history never held entry ", seq);
}

}  // namespace

TEST_CASE("stream positions read and write <epoch>-<seq>") {
    StreamPosition position;
    CHECK(StreamPosition::parse("12-34", position));
    CHECK(position.epoch == 12);
    CHECK(position.seq == 34);
    CHECK(position.to_string() == "12-34");
    for (const char* bad : {"", "12", "-3", "a-1", "1-", "1-2x", "1--2", " 1-2", "1-2-3"}) {
        INFO(bad);
        StreamPosition untouched{5, 6};
        CHECK_FALSE(StreamPosition::parse(bad, untouched));
        CHECK(untouched.seq == 6);
    }
}

TEST_CASE("a memory history numbers every message and keeps what its policies cover") {
    core::BrokerSettings settings;
    settings.workers = 1;
    net::Broker broker(settings);
    History history(config_with({{"s/#", 3, 0}}), nullptr);
    REQUIRE(history.enabled());
    const uint64_t epoch = history.epoch();
    CHECK(history.head().seq == 0);

    for (int i = 1; i <= 5; ++i) {
        auto message = publish_on(history, broker.loop(0), "s/a", "v" + std::to_string(i));
        CHECK(message->seq == static_cast<uint64_t>(i));
        CHECK(message->published_unix_ms > 0);
    }
    // Not covered by a policy: numbered (live events carry ids) but not kept.
    CHECK(publish_on(history, broker.loop(0), "x/y", "z")->seq == 6);
    CHECK(history.head().to_string() == std::to_string(epoch) + "-6");
    wait_for_seq(history, "s/#", 5);

    net::HistoryRead all = history.read("s/#", {epoch, 0}, 100);
    CHECK(seqs_of(all) == std::vector<uint64_t>{3, 4, 5});
    CHECK(all.gap);  // 1 and 2 were trimmed
    CHECK(all.entries.back().message->payload == "v5");
    CHECK(all.entries.back().message->topic == "s/a");

    net::HistoryRead resumed = history.read("s/#", {epoch, 2}, 100);
    CHECK(seqs_of(resumed) == std::vector<uint64_t>{3, 4, 5});
    CHECK_FALSE(resumed.gap);
    CHECK(seqs_of(history.read("s/#", {epoch, 4}, 100)) == std::vector<uint64_t>{5});
    CHECK_FALSE(history.read("s/#", {epoch, 5}, 100).gap);
    CHECK(history.read("x/#", {epoch, 0}, 100).entries.empty());

    net::HistoryRead limited = history.read("s/#", {epoch, 2}, 2);
    CHECK(seqs_of(limited) == std::vector<uint64_t>{4, 5});  // the newest, with the gap said
    CHECK(limited.gap);

    // A position from another run: its memory history is gone.
    net::HistoryRead other_run = history.read("s/#", {epoch - 1, 4}, 100);
    CHECK(seqs_of(other_run) == std::vector<uint64_t>{3, 4, 5});
    CHECK(other_run.gap);
}

TEST_CASE("a RocksDB history continues its sequence across restarts") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("tern-history-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    storage::StorageSettings storage_settings;
    storage_settings.data_dir = dir.string();
    storage_settings.history = {{"#", 10, 0}};
    const core::StorageConfig config = config_with({{"#", 10, 0}});

    struct NoVisitor : storage::LoadVisitor {
        void retained(storage::MessageRecord&&) override {}
        void session(storage::SessionRecord&&) override {}
        void queued(const std::string&, storage::QueuedRecord&&) override {}
        void incoming_qos2(const std::string&, uint16_t) override {}
    } visitor;
    auto append = [](storage::Store& store, uint64_t seq, std::string topic) {
        storage::HistoryRecord entry;
        entry.seq = seq;
        entry.timestamp = storage::unix_now_ms();
        entry.message.topic = std::move(topic);
        entry.message.payload = "p" + std::to_string(seq);
        storage::WriteBatch batch;
        batch.add(storage::WriteBatch::AppendHistory{std::move(entry)});
        std::promise<void> done;
        store.submit(std::move(batch), [&] { done.set_value(); });
        done.get_future().wait();
    };

    uint64_t first_epoch = 0;
    {
        auto store = storage::open_rocksdb_store(storage_settings);
        store->load(visitor);
        History history(config, store.get());
        first_epoch = history.epoch();
        append(*store, 1, "a/1");
        append(*store, 2, "a/2");
        append(*store, 3, "b/1");
        net::HistoryRead read = history.read("a/+", {first_epoch, 0}, 100);
        CHECK(seqs_of(read) == std::vector<uint64_t>{1, 2});
        CHECK_FALSE(read.gap);
        store->close();
    }
    auto store = storage::open_rocksdb_store(storage_settings);
    store->load(visitor);
    History history(config, store.get());
    CHECK(history.epoch() == first_epoch + 1);
    CHECK(history.head().seq == 3);  // the next message gets 4
    append(*store, 4, "a/1");
    // A reader of the first run that saw up to seq 1 gets 2 (first run) and 4 (this run).
    CHECK(seqs_of(history.read("a/+", {first_epoch, 1}, 100)) == std::vector<uint64_t>{2, 4});
    // One that saw seq 9 of the first run (handed out, then lost in a crash) gets this run's.
    net::HistoryRead after_crash = history.read("a/+", {first_epoch, 9}, 100);
    CHECK(seqs_of(after_crash) == std::vector<uint64_t>{4});
    CHECK_FALSE(after_crash.gap);
    // A position from a run this database never had.
    CHECK(history.read("a/+", {first_epoch + 5, 2}, 100).gap);
    store->close();
    std::filesystem::remove_all(dir);
}
