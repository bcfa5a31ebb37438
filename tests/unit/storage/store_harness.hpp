// Test helpers for the storage tests: temporary directories, a recording visitor, store harnesses.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/rocksdb_store.hpp"
#include "storage/store.hpp"

namespace tern::storage::test {

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
  public:
    TempDir() {
        static std::atomic<int> counter{0};
        _path =
            std::filesystem::temp_directory_path() /
            ("tern-storage-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(_path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return _path; }
    std::string str() const { return _path.string(); }

  private:
    std::filesystem::path _path;
};

// Everything load() visits, and the order of the calls ("retained", "session", "queued:ID",
// "incoming:ID").
struct Loaded : LoadVisitor {
    std::vector<MessageRecord> retained_messages;
    std::vector<SessionRecord> sessions;
    std::vector<std::pair<std::string, QueuedRecord>> queue;
    std::vector<std::pair<std::string, uint16_t>> incoming;
    std::vector<std::string> calls;

    void retained(MessageRecord&& message) override {
        calls.push_back("retained");
        retained_messages.push_back(std::move(message));
    }
    void session(SessionRecord&& record) override {
        calls.push_back("session");
        sessions.push_back(std::move(record));
    }
    void queued(const std::string& client_id, QueuedRecord&& entry) override {
        calls.push_back("queued:" + client_id);
        queue.emplace_back(client_id, std::move(entry));
    }
    void incoming_qos2(const std::string& client_id, uint16_t packet_id) override {
        calls.push_back("incoming:" + client_id);
        incoming.emplace_back(client_id, packet_id);
    }
};

// Submits `batch` and waits until its `done` ran.
inline void commit(Store& store, WriteBatch batch) {
    std::promise<void> committed;
    std::future<void> done = committed.get_future();
    store.submit(std::move(batch), [&committed] { committed.set_value(); });
    done.wait();
}

inline WriteBatch batch_of(WriteBatch::Op op) {
    WriteBatch batch;
    batch.add(std::move(op));
    return batch;
}

// The memory store. restart() keeps the same store (nothing survives a real restart), so load()
// re-applies the start-up rules to what it holds.
struct MemoryHarness {
    static constexpr bool kPersistent = false;
    explicit MemoryHarness(StorageSettings settings_) : settings(std::move(settings_)) {
        settings.durability = Durability::Memory;
        store = make_memory_store(settings);
    }
    void restart() {}
    StorageSettings settings;
    std::unique_ptr<Store> store;
};

// The RocksDB store in a temporary directory; restart() closes and reopens it.
template <Durability kDurability>
struct RocksDbHarness {
    static constexpr bool kPersistent = true;
    explicit RocksDbHarness(StorageSettings settings_) : settings(std::move(settings_)) {
        settings.durability = kDurability;
        settings.data_dir = dir.str();
        store = open_rocksdb_store(settings);
    }
    void restart() {
        store->close();
        store.reset();
        store = open_rocksdb_store(settings);
    }
    TempDir dir;
    StorageSettings settings;
    std::unique_ptr<Store> store;
};

using AsyncHarness = RocksDbHarness<Durability::Async>;
using SyncHarness = RocksDbHarness<Durability::Sync>;

// Runs `action`, which must throw a StorageError, and returns its message.
template <typename Action>
std::string storage_error(Action&& action) {
    try {
        action();
    } catch (const StorageError& error) {
        return error.what();
    }
    FAIL("no StorageError was thrown");
    return {};
}

}  // namespace tern::storage::test

TYPE_TO_STRING_AS("memory", tern::storage::test::MemoryHarness);
TYPE_TO_STRING_AS("rocksdb-async", tern::storage::test::AsyncHarness);
TYPE_TO_STRING_AS("rocksdb-sync", tern::storage::test::SyncHarness);
