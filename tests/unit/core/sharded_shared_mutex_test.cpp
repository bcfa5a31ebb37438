// Tests for ShardedSharedMutex, the subscription tree's readers-writer lock.
#include "core/sharded_shared_mutex.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

using tern::core::ShardedSharedMutex;
using namespace std::chrono_literals;

TEST_CASE("readers on different threads hold the lock at the same time") {
    ShardedSharedMutex mutex;
    std::promise<void> first_holds;
    std::promise<void> second_done;
    std::thread first([&] {
        std::shared_lock lock(mutex);
        first_holds.set_value();
        // Holds its read lock until the second reader got in.
        second_done.get_future().wait();
    });
    first_holds.get_future().wait();
    auto second = std::async(std::launch::async, [&] { std::shared_lock lock(mutex); });
    const bool got_in = second.wait_for(5s) == std::future_status::ready;
    second_done.set_value();
    first.join();
    CHECK(got_in);
}

TEST_CASE("a writer waits for a reader, and readers wait for a writer") {
    ShardedSharedMutex mutex;
    std::atomic<int> stage{0};
    {
        std::shared_lock reader(mutex);
        auto writer = std::async(std::launch::async, [&] {
            std::unique_lock lock(mutex);
            stage = 1;
        });
        CHECK(writer.wait_for(100ms) == std::future_status::timeout);
        CHECK(stage == 0);
        reader.unlock();
        REQUIRE(writer.wait_for(5s) == std::future_status::ready);
        CHECK(stage == 1);
    }
    std::unique_lock writer(mutex);
    // Readers on several threads, so that more than one slot is tried.
    std::vector<std::future<void>> readers;
    for (int i = 0; i < 4; ++i) {
        readers.push_back(std::async(std::launch::async, [&] {
            std::shared_lock lock(mutex);
            CHECK(stage == 2);
        }));
    }
    for (auto& reader : readers) {
        CHECK(reader.wait_for(100ms) == std::future_status::timeout);
    }
    stage = 2;
    writer.unlock();
    for (auto& reader : readers) {
        CHECK(reader.wait_for(5s) == std::future_status::ready);
    }
}

TEST_CASE("readers never see a writer's update half done, and do not starve it") {
    ShardedSharedMutex mutex;
    // The writer keeps both equal; a reader that saw them differ read inside a write.
    int left = 0;
    int right = 0;
    std::atomic<bool> stop{false};
    std::atomic<int> torn{0};
    std::atomic<long> reads{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 20; ++i) {  // more threads than slots: some share one
        readers.emplace_back([&] {
            while (!stop.load()) {
                std::shared_lock lock(mutex);
                if (left != right) {
                    ++torn;
                }
                ++reads;
            }
        });
    }
    // Readers relock at once, all the time: without the writer going first, it would wait for
    // a moment when all of them are out, which may never come.
    auto writer = std::async(std::launch::async, [&] {
        for (int i = 0; i < 2000; ++i) {
            std::unique_lock lock(mutex);
            ++left;
            std::this_thread::yield();
            ++right;
        }
    });
    const bool written = writer.wait_for(30s) == std::future_status::ready;
    stop = true;
    for (auto& reader : readers) {
        reader.join();
    }
    REQUIRE(written);
    CHECK(torn == 0);
    CHECK(reads > 0);
    CHECK(left == 2000);
}
