// Measures the storage writer: 1-op batches/s committed from 4 threads, per durability mode.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/store.hpp"

namespace {

using namespace tern::storage;

constexpr int kThreads = 4;

class IgnoreLoad : public LoadVisitor {
  public:
    void retained(MessageRecord&&) override {}
    void session(SessionRecord&&) override {}
    void queued(const std::string&, QueuedRecord&&) override {}
    void incoming_qos2(const std::string&, uint16_t) override {}
};

// At most `size` batches of one thread in flight: 1 is one client waiting for each ack, 64 a
// worker loop with many publishing clients.
class Window {
  public:
    explicit Window(int size) : _size(size) {}
    void acquire() {
        std::unique_lock lock(_mutex);
        _changed.wait(lock, [this] { return _in_flight < _size; });
        ++_in_flight;
    }
    void release() {
        {
            std::lock_guard lock(_mutex);
            --_in_flight;
        }
        _changed.notify_one();
    }

  private:
    int _size;
    std::mutex _mutex;
    std::condition_variable _changed;
    int _in_flight = 0;
};

void run(const char* label, Durability durability, const std::string& dir, double seconds,
         int window_size) {
    StorageSettings settings;
    settings.data_dir = dir;
    settings.durability = durability;
    std::unique_ptr<Store> store = open_store(settings);
    IgnoreLoad ignore;
    store->load(ignore);

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> completed{0};
    std::vector<std::thread> threads;
    auto started = std::chrono::steady_clock::now();
    for (int index = 0; index < kThreads; ++index) {
        threads.emplace_back([&, index] {
            Window window(window_size);
            std::string client = "bench-" + std::to_string(index);
            for (uint64_t seq = 1; !stop.load(std::memory_order_relaxed); ++seq) {
                window.acquire();
                WriteBatch batch;
                QueuedRecord entry;
                entry.seq = seq;
                entry.qos = 1;
                entry.message.topic = "bench/topic";
                entry.message.payload = std::string(64, 'x');
                batch.add(WriteBatch::PutQueued{client, std::move(entry)});
                store->submit(std::move(batch), [&] {
                    completed.fetch_add(1, std::memory_order_relaxed);
                    window.release();
                });
            }
            // Every callback must run before `window` goes out of scope.
            for (int slot = 0; slot < window_size; ++slot) {
                window.acquire();
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (std::thread& thread : threads) {
        thread.join();
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    StoreStats stats = store->stats();
    store->close();
    std::printf(
        "%-6s  %10.0f batches/s  avg group %7.1f  largest %5llu  commits %8llu  avg commit %7.0f "
        "us\n",
        label, static_cast<double>(completed.load()) / elapsed,
        stats.commits ? static_cast<double>(stats.batches_committed) / stats.commits : 0.0,
        static_cast<unsigned long long>(stats.largest_group),
        static_cast<unsigned long long>(stats.commits),
        stats.commits ? static_cast<double>(stats.commit_latency_us_sum) / stats.commits : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
    int window = argc > 2 ? std::atoi(argv[2]) : 64;
    std::filesystem::path base =
        argc > 3 ? std::filesystem::path(argv[3]) : std::filesystem::temp_directory_path();
    if (seconds <= 0 || window < 1) {
        std::fprintf(stderr, "usage: tern-storage-bench [SECONDS [IN_FLIGHT_PER_THREAD [DIR]]]\n");
        return 2;
    }
    base /= "tern-storage-bench-" + std::to_string(::getpid());
    std::printf("%d threads, 1-op batches, %d in flight per thread, %.1f s per mode, in %s\n",
                kThreads, window, seconds, base.c_str());
    try {
        run("memory", Durability::Memory, (base / "memory").string(), seconds, window);
        run("async", Durability::Async, (base / "async").string(), seconds, window);
        run("sync", Durability::Sync, (base / "sync").string(), seconds, window);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "storage bench: %s\n", error.what());
        std::filesystem::remove_all(base);
        return 1;
    }
    std::filesystem::remove_all(base);
    return 0;
}
