// One generator thread: a libuv loop running a share of the clients, batching their writes once
// per iteration and following the run's phases.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "bench_client.hpp"
#include "bench_options.hpp"
#include "loop_stats.hpp"
#include "packet_writer.hpp"
#include "run_state.hpp"
#include "stream_connection.hpp"

namespace tern::bench {

// Construct, add clients and peers from the runner thread, then call run() from the loop's own
// thread. Afterwards (thread joined) stats() may be read. wake() is the only thread-safe call.
class LoadLoop {
  public:
    LoadLoop(uint32_t index, const BenchOptions& options, RunState& state);
    ~LoadLoop();
    LoadLoop(const LoadLoop&) = delete;
    LoadLoop& operator=(const LoadLoop&) = delete;

    void add_client(const ClientSpec& spec);
    void set_peers(std::vector<LoadLoop*> peers) { _peers = std::move(peers); }

    // Runs until the Closing phase has closed every handle.
    void run();

    // Thread-safe: makes the loop look at the phase and at its publishers' windows.
    void wake() { uv_async_send(&_async); }

    const LoopStats& stats() const noexcept { return _stats; }

    // For the loop's clients.
    IoContext& io() noexcept { return _io; }
    RunState& state() noexcept { return _state; }
    const BenchOptions& options() const noexcept { return _options; }
    const PacketWriter& writer() const noexcept { return _writer; }
    LoopStats& mutable_stats() noexcept { return _stats; }
    Link* link(uint32_t index) noexcept { return _state.links[index].get(); }
    uint32_t publisher_count() const noexcept { return _publisher_count; }
    void set_publisher_count(uint32_t count) noexcept { _publisher_count = count; }
    void request_iteration() noexcept { _spin = true; }
    void note_delivery() noexcept { _delivered = true; }
    void client_settled(bool ok);
    void client_error(const BenchClient& client, const std::string& reason);

  private:
    static void on_check(uv_check_t* handle) noexcept;
    static void on_idle(uv_idle_t* handle) noexcept;
    static void on_async(uv_async_t* handle) noexcept;
    static void on_timer(uv_timer_t* handle) noexcept;

    void iterate();
    void follow_phase();
    void ramp_connections(uint64_t now_ns);
    void publish_live();
    void close_everything();

    uint32_t _index;
    const BenchOptions& _options;
    RunState& _state;
    PacketWriter _writer;
    uv_loop_t _loop{};
    IoContext _io;
    uv_check_t _check{};
    uv_idle_t _idle{};
    uv_async_t _async{};
    uv_timer_t _timer{};
    sockaddr_in _target{};
    std::vector<sockaddr_in> _sources;
    std::vector<std::unique_ptr<BenchClient>> _clients;
    std::vector<BenchClient*> _publishers;
    std::vector<LoadLoop*> _peers;
    LoopStats _stats;
    Phase _phase = Phase::Connecting;
    std::size_t _next_connect = 0;
    uint32_t _connecting = 0;
    uint64_t _ramp_start_ns = 0;
    uint64_t _last_keep_alive_ns = 0;
    uint32_t _publisher_count = 0;
    bool _publishing = false;
    bool _spin = false;
    bool _idle_active = false;
    bool _delivered = false;
    bool _closed = false;
};

}  // namespace tern::bench
