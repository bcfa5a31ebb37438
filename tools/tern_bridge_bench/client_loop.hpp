// An event loop (and its thread) owning a share of the web clients: ramps their connections,
// counts their outcomes, and closes them all when the run ends.
#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "bridge_bench_options.hpp"
#include "client_stats.hpp"

namespace tern::bridge_bench {

class WebClient;

// What the loops and the controller share; every field is atomic.
struct SharedCounters {
    explicit SharedCounters(uint32_t groups) : live(kKinds * groups) {}

    // Clients subscribed and not cut off, per kind and group: the publisher multiplies each
    // message by them to know how many deliveries it owes.
    std::vector<std::atomic<uint32_t>> live;
    std::array<std::atomic<uint64_t>, kKinds> ready{};
    std::array<std::atomic<uint64_t>, kKinds> failed{};
    std::array<std::atomic<uint64_t>, kKinds> cut{};
    std::array<std::atomic<uint64_t>, kKinds> delivered{};
    std::atomic<bool> stop{false};

    std::atomic<uint32_t>& live_of(ClientKind kind, uint32_t group) {
        return live[static_cast<std::size_t>(kind) * (live.size() / kKinds) + group];
    }
};

class ClientLoop {
  public:
    ClientLoop(const Options& options, SharedCounters& shared, uint32_t index, uint32_t loops);
    ~ClientLoop();
    ClientLoop(const ClientLoop&) = delete;
    ClientLoop& operator=(const ClientLoop&) = delete;

    // Creates this loop's clients (global indexes index, index + loops, ...) and starts the
    // thread, which ramps them up and runs until SharedCounters::stop.
    void start();
    void join();

    uv_loop_t* uv() noexcept { return &_loop; }
    SharedCounters& shared() noexcept { return _shared; }
    KindStats& stats(ClientKind kind) noexcept { return _stats[static_cast<std::size_t>(kind)]; }
    const KindStats& stats(ClientKind kind) const noexcept {
        return _stats[static_cast<std::size_t>(kind)];
    }
    std::vector<char>& read_buffer() noexcept { return _read_buffer; }
    uint64_t read_ns() const noexcept { return _read_ns; }
    void set_read_ns(uint64_t ns) noexcept { _read_ns = ns; }
    double thread_cpu_s() const noexcept { return _thread_cpu_s; }
    // The loop thread's handle (0 before start), for its CPU clock.
    pthread_t native_handle() noexcept {
        return _thread.joinable() ? _thread.native_handle() : pthread_t{};
    }

    // A client became ready, failed, or was cut; `group` for the live counts.
    void on_ready(ClientKind kind, uint32_t group);
    void on_failed(ClientKind kind);
    void on_cut(ClientKind kind, uint32_t group);

  private:
    static void on_tick(uv_timer_t* timer) noexcept;
    void run();
    void ramp();
    void stop_all();

    const Options& _options;
    SharedCounters& _shared;
    uint32_t _index;
    uint32_t _loops;
    uv_loop_t _loop{};
    uv_timer_t _timer{};
    std::thread _thread;
    std::vector<std::unique_ptr<WebClient>> _clients;
    std::vector<sockaddr_in> _sources;
    sockaddr_in _target{};
    std::size_t _next = 0;  // next client to start
    uint64_t _ramp_start_ns = 0;
    uint64_t _pending = 0;  // started, not yet ready or failed
    bool _stopping = false;
    std::array<KindStats, kKinds> _stats;
    std::vector<char> _read_buffer;
    uint64_t _read_ns = 0;
    std::array<uint64_t, kKinds> _reported{};  // delivered already added to _shared
    double _thread_cpu_s = 0.0;
};

}  // namespace tern::bridge_bench
