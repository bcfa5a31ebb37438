// Phase control for a load run: connect, run, drain, close, report.
#include "bench_runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "bench_clock.hpp"
#include "bench_report.hpp"
#include "load_loop.hpp"
#include "process_stats.hpp"
#include "run_state.hpp"
#include "session_wiper.hpp"
#include "topology.hpp"

namespace tern::bench {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr uint64_t kDrainQuietNs = kNanosPerSecond;  // drain ends after 1 s without progress
constexpr uint32_t kWipeStepTimeoutMs = 10'000;      // per connect, CONNACK and close

struct Totals {
    uint64_t sent = 0, expected = 0, acked = 0, received = 0, unique = 0;
    uint64_t ready = 0, failed = 0, pings = 0, pongs = 0, last_receive_ns = 0, unwritten = 0;
    uint64_t last_ack_ns = 0;
    bool all_draining = true;  // every loop has seen the Draining phase
};

Totals sum_live(const RunState& state) {
    Totals t;
    constexpr auto relaxed = std::memory_order_relaxed;
    for (const auto& live : state.live) {
        t.sent += live->sent.load(relaxed);
        t.expected += live->expected.load(relaxed);
        t.acked += live->acked.load(relaxed);
        t.received += live->received.load(relaxed);
        t.unique += live->unique.load(relaxed);
        t.ready += live->ready.load(relaxed);
        t.failed += live->failed.load(relaxed);
        t.pings += live->pings.load(relaxed);
        t.pongs += live->pongs.load(relaxed);
        t.all_draining =
            t.all_draining && live->phase.load(std::memory_order_acquire) == Phase::Draining;
        t.unwritten += live->unwritten.load(relaxed);
        t.last_receive_ns = std::max(t.last_receive_ns, live->last_receive_ns.load(relaxed));
        t.last_ack_ns = std::max(t.last_ack_ns, live->last_ack_ns.load(relaxed));
    }
    return t;
}

class Runner {
  public:
    explicit Runner(const BenchOptions& options)
        : _options(options),
          _topology(build_topology(options, static_cast<uint32_t>(getpid()))),
          _state(options.threads) {
        for (const auto& [publisher, subscriber] : _topology.links) {
            auto link = std::make_unique<Link>();
            link->publisher = publisher;
            link->subscriber = subscriber;
            _state.links.push_back(std::move(link));
        }
        for (uint32_t i = 0; i < options.threads; ++i) {
            _loops.push_back(std::make_unique<LoadLoop>(i, options, _state));
            _loops.back()->set_publisher_count(_topology.publishers);
        }
        for (const ClientSpec& spec : _topology.clients) {
            _loops[spec.loop]->add_client(spec);
        }
        for (auto& loop : _loops) {
            std::vector<LoadLoop*> peers;
            for (auto& other : _loops) {
                if (other != loop) {
                    peers.push_back(other.get());
                }
            }
            loop->set_peers(std::move(peers));
        }
    }

    int run();

  private:
    bool connect_all();
    bool wipe_persistent_sessions(const char* when);
    void run_phase();
    void drain();
    void set_phase(Phase phase);
    void progress(const char* label, uint64_t now_ns);
    std::optional<ProcessSample> sample_broker() const;

    const BenchOptions& _options;
    Topology _topology;
    RunState _state;
    std::vector<std::unique_ptr<LoadLoop>> _loops;
    std::vector<std::thread> _threads;
    BenchReport _report;
    uint64_t _next_progress_ns = 0;
    uint64_t _phase_start_ns = 0;
    Totals _last_progress;
};

std::optional<ProcessSample> Runner::sample_broker() const {
    return _options.pid ? sample_process(*_options.pid) : std::nullopt;
}

void Runner::set_phase(Phase phase) {
    _state.phase.store(phase, std::memory_order_release);
    for (auto& loop : _loops) {
        loop->wake();
    }
}

void Runner::progress(const char* label, uint64_t now_ns) {
    if (now_ns < _next_progress_ns) {
        return;
    }
    const Totals t = sum_live(_state);
    const double seconds = static_cast<double>(now_ns - _phase_start_ns) / 1e9;
    if (_options.progress) {
        if (_options.scenario == Scenario::Idle || _state.phase.load() == Phase::Connecting) {
            std::fprintf(stderr, "[%5.1fs] %-10s ready %llu/%zu  failed %llu  ping %llu/%llu\n",
                         seconds, label, static_cast<unsigned long long>(t.ready),
                         _topology.clients.size(), static_cast<unsigned long long>(t.failed),
                         static_cast<unsigned long long>(t.pongs),
                         static_cast<unsigned long long>(t.pings));
        } else {
            const uint64_t in_flight = t.expected > t.unique ? t.expected - t.unique : 0;
            std::fprintf(stderr,
                         "[%5.1fs] %-10s sent %llu (+%llu)  recv %llu (+%llu)  acked %llu  "
                         "in flight %llu\n",
                         seconds, label, static_cast<unsigned long long>(t.sent),
                         static_cast<unsigned long long>(t.sent - _last_progress.sent),
                         static_cast<unsigned long long>(t.received),
                         static_cast<unsigned long long>(t.received - _last_progress.received),
                         static_cast<unsigned long long>(t.acked),
                         static_cast<unsigned long long>(in_flight));
        }
    }
    _last_progress = t;
    _next_progress_ns = now_ns + kNanosPerSecond;
}

bool Runner::connect_all() {
    const std::size_t total = _topology.clients.size();
    double timeout_s = _options.connect_timeout_s;
    if (timeout_s == 0.0) {
        timeout_s = 30.0 + (_options.ramp > 0 ? static_cast<double>(total) / _options.ramp : 0.0);
    }
    _phase_start_ns = monotonic_ns();
    _next_progress_ns = _phase_start_ns + kNanosPerSecond;
    const uint64_t deadline = _phase_start_ns + static_cast<uint64_t>(timeout_s * 1e9);
    while (true) {
        std::this_thread::sleep_for(kPollInterval);
        const uint64_t now = monotonic_ns();
        const Totals t = sum_live(_state);
        if (t.ready + t.failed >= total) {
            _report.connect_s = static_cast<double>(now - _phase_start_ns) / 1e9;
            // Idle runs measure what the broker holds: partial success is still a result.
            return t.failed == 0 || (_options.scenario == Scenario::Idle && t.ready > 0);
        }
        if (now >= deadline) {
            _state.report_error("only " + std::to_string(t.ready) + " of " + std::to_string(total) +
                                " clients ready after " +
                                std::to_string(static_cast<int>(timeout_s)) + " s");
            return false;
        }
        progress("connecting", now);
    }
}

void Runner::run_phase() {
    _report.broker_start = sample_broker();
    const double cpu_before = self_cpu_seconds();
    const uint64_t start = monotonic_ns();
    _state.start_ns.store(start, std::memory_order_release);
    _phase_start_ns = start;
    _next_progress_ns = start + kNanosPerSecond;
    _last_progress = sum_live(_state);
    set_phase(Phase::Running);
    const uint64_t end = start + static_cast<uint64_t>(_options.duration_s * 1e9);
    for (uint64_t now = start; now < end; now = monotonic_ns()) {
        std::this_thread::sleep_for(
            std::min<std::chrono::nanoseconds>(kPollInterval, std::chrono::nanoseconds(end - now)));
        progress(_options.scenario == Scenario::Idle ? "holding" : "running", monotonic_ns());
    }
    _report.duration_s = static_cast<double>(monotonic_ns() - start) / 1e9;
    drain();
    const uint64_t finish = monotonic_ns();
    _report.broker_end = sample_broker();
    _report.bench_cpu_s = self_cpu_seconds() - cpu_before;
    _report.elapsed_s = static_cast<double>(finish - start) / 1e9;
}

void Runner::drain() {
    set_phase(Phase::Draining);
    const uint64_t start = monotonic_ns();
    const uint64_t deadline = start + static_cast<uint64_t>(_options.drain_timeout_s * 1e9);
    const bool acks = _options.qos > 0;
    Totals last = sum_live(_state);
    uint64_t last_change = start;
    for (uint64_t now = start; now < deadline; now = monotonic_ns()) {
        const Totals t = sum_live(_state);
        const bool delivered = t.unique >= t.expected && (!acks || t.acked >= t.sent);
        if (t.all_draining && delivered && t.pongs >= t.pings && t.unwritten == 0) {
            break;
        }
        if (t.unique != last.unique || t.acked != last.acked || t.pongs != last.pongs ||
            t.unwritten != last.unwritten) {
            last = t;
            last_change = now;
        } else if (now - last_change >= kDrainQuietNs) {
            break;  // nothing moves any more: what is missing is lost
        }
        progress("draining", now);
        std::this_thread::sleep_for(kPollInterval);
    }
    const Totals t = sum_live(_state);
    _report.active_s = t.last_receive_ns > _state.start_ns.load()
                           ? static_cast<double>(t.last_receive_ns - _state.start_ns.load()) / 1e9
                           : 0.0;
    _report.acked_s = t.last_ack_ns > _state.start_ns.load()
                          ? static_cast<double>(t.last_ack_ns - _state.start_ns.load()) / 1e9
                          : 0.0;
}

bool Runner::wipe_persistent_sessions(const char* when) {
    std::vector<std::string> client_ids;
    for (const ClientSpec& spec : _topology.clients) {
        if (spec.role == Role::Subscriber) {
            client_ids.push_back(spec.client_id);
        }
    }
    const uint64_t start = monotonic_ns();
    const auto error = wipe_sessions(_options, client_ids, kWipeStepTimeoutMs);
    _report.wipe_s += static_cast<double>(monotonic_ns() - start) / 1e9;
    if (error) {
        _state.report_error(std::string(when) + ": " + *error);
        return false;
    }
    return true;
}

int Runner::run() {
    _report.options = &_options;
    _report.publishers = _topology.publishers;
    _report.subscribers = _topology.subscribers;
    _report.clients = _topology.clients.size();
    _report.broker_initial = sample_broker();
    if (_options.pid && !_report.broker_initial) {
        std::cerr << "tern-bench: process " << *_options.pid << " is gone\n";
        return 1;
    }
    // --persistent: start from no session at all for the subscribers' fixed identifiers.
    const bool wiped = !_options.persistent || wipe_persistent_sessions("before the run");
    if (!wiped) {
        set_phase(Phase::Closing);  // the loops close their clients before connecting any
    }
    for (auto& loop : _loops) {
        _threads.emplace_back([&loop] { loop->run(); });
    }
    const bool connected = wiped && connect_all();
    if (connected) {
        run_phase();
    }
    set_phase(Phase::Closing);
    for (auto& thread : _threads) {
        thread.join();
    }
    if (_options.persistent && wiped) {
        // The subscribers have sent DISCONNECT, which keeps their sessions: end them, so that
        // the broker does not go on queueing this run's topics for nobody.
        wipe_persistent_sessions("after the run");
    }
    for (const auto& loop : _loops) {
        _report.totals.merge(loop->stats());
    }
    _report.error_count = _state.error_count();
    _report.errors = _state.first_errors();
    if (!connected) {
        std::cerr << "tern-bench: "
                  << (wiped ? "the clients could not all connect"
                            : "no run: the persistent sessions could not be wiped")
                  << ":\n";
        for (const auto& error : _report.errors) {
            std::cerr << "  " << error << '\n';
        }
    }
    print_table(std::cout, _report);
    std::cout << json_line(_report) << std::endl;
    return connected && _report.error_count == 0 ? 0 : 1;
}

}  // namespace

int run_load(const BenchOptions& options) {
    raise_file_limit();
    Runner runner(options);
    return runner.run();
}

}  // namespace tern::bench
