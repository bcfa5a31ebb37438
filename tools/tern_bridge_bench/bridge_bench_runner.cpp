// The controller: a state machine on the publisher loop (main thread) driving the phases, with
// the web clients on their own loops (threads).
#include "bridge_bench_runner.hpp"

#include <pthread.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <vector>

#include "bench_clock.hpp"
#include "bridge_bench_report.hpp"
#include "client_loop.hpp"
#include "device_publisher.hpp"
#include "process_stats.hpp"

namespace tern::bridge_bench {

namespace {

enum class Phase : uint8_t { Publishers, Clients, Settle, Publish, Drain, Closing };

double thread_cpu_s(clockid_t clock) {
    timespec cpu{};
    if (clock_gettime(clock, &cpu) != 0) {
        return 0.0;
    }
    return static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
}

double seconds_between(uint64_t from_ns, uint64_t to_ns) {
    return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}

class Controller {
  public:
    explicit Controller(const Options& options)
        : _options(options), _io(&_loop_storage), _shared(options.groups) {
        uv_loop_init(&_loop_storage);
        _fleet = std::make_unique<DeviceFleet>(options, _io, _shared);
        for (uint32_t i = 0; i < options.client_loops; ++i) {
            _loops.push_back(
                std::make_unique<ClientLoop>(options, _shared, i, options.client_loops));
        }
        _report.options = &options;
    }

    ~Controller() {
        _shared.stop = true;
        _loops.clear();  // joins
        _fleet.reset();
        uv_loop_close(&_loop_storage);
    }

    int run() {
        uv_timer_init(&_loop_storage, &_control);
        uv_timer_init(&_loop_storage, &_pacer);
        uv_timer_init(&_loop_storage, &_progress);
        uv_check_init(&_loop_storage, &_flush);
        _control.data = _pacer.data = _progress.data = this;
        _flush.data = this;
        uv_check_start(&_flush, [](uv_check_t* check) {
            static_cast<Controller*>(check->data)->_io.flush_dirty();
        });
        _phase_ns = bench::monotonic_ns();
        std::string error;
        _fleet->connect(error);
        if (!error.empty()) {
            _report.error = error;
            finish();
        }
        uv_timer_start(
            &_control, [](uv_timer_t* t) { static_cast<Controller*>(t->data)->step(); }, 10, 10);
        if (_options.progress) {
            uv_timer_start(
                &_progress, [](uv_timer_t* t) { static_cast<Controller*>(t->data)->progress(); },
                1000, 1000);
        }
        uv_run(&_loop_storage, UV_RUN_DEFAULT);
        for (auto& loop : _loops) {
            loop->join();
            for (std::size_t k = 0; k < kKinds; ++k) {
                _report.kinds[k].merge(loop->stats(static_cast<ClientKind>(k)));
            }
        }
        _report.published = _fleet->totals();
        const uint64_t last =
            std::max(_report.kinds[0].last_receive_ns, _report.kinds[1].last_receive_ns);
        _report.active_s =
            last > _publish_realtime_ns ? seconds_between(_publish_realtime_ns, last) : 0.0;
        print_table(std::cout, _report);
        std::cout << json_line(_report) << std::endl;
        // Cut-offs are a result (how the bridge sheds); a client that never got in is an error.
        const bool failed = _report.kinds[0].failed + _report.kinds[1].failed != 0;
        return _report.error.empty() && !failed ? 0 : 1;
    }

  private:
    uint64_t total_clients() const { return uint64_t{_options.sse_clients} + _options.ws_clients; }

    uint64_t settled_clients() const {
        uint64_t settled = 0;
        for (std::size_t k = 0; k < kKinds; ++k) {
            settled += _shared.ready[k].load() + _shared.failed[k].load();
        }
        return settled;
    }

    double clients_cpu() const {
        double total = 0.0;
        for (const auto& loop : _loops) {
            clockid_t clock{};
            if (loop->native_handle() != 0 &&
                pthread_getcpuclockid(loop->native_handle(), &clock) == 0) {
                total += thread_cpu_s(clock);
            }
        }
        return total;
    }

    void enter(Phase phase) {
        _phase = phase;
        _phase_ns = bench::monotonic_ns();
    }

    void step() {
        const uint64_t now = bench::monotonic_ns();
        const double in_phase = seconds_between(_phase_ns, now);
        std::string error;
        if (_phase != Phase::Closing && !_fleet->all_ready(error) && !error.empty()) {
            _report.error = "publisher: " + error;
            finish();
            return;
        }
        switch (_phase) {
            case Phase::Publishers:
                if (_fleet->all_ready(error)) {
                    _report.broker_initial = sample();
                    for (auto& loop : _loops) {
                        loop->start();
                    }
                    enter(Phase::Clients);
                } else if (in_phase > 10.0) {
                    _report.error = "publishers got no CONNACK within 10 s";
                    finish();
                }
                return;
            case Phase::Clients:
                if (settled_clients() == total_clients() || in_phase > _options.connect_timeout_s) {
                    _report.connect_timed_out = settled_clients() != total_clients();
                    _report.connect_s = in_phase;
                    enter(Phase::Settle);
                }
                return;
            case Phase::Settle:
                if (in_phase >= _options.settle_s) {
                    start_publishing();
                }
                return;
            case Phase::Publish:
                if (in_phase >= _options.duration_s) {
                    uv_timer_stop(&_pacer);
                    if (_options.rate > 0) {
                        _fleet->publish_due(_phase_ns, now);
                    }
                    _report.publish_s = in_phase;
                    enter(Phase::Drain);
                }
                return;
            case Phase::Drain:
                if (in_phase >= (_options.rate > 0 ? _options.drain_s : 0.0)) {
                    _report.measured_s = seconds_between(_publish_ns, now);
                    _report.bench_cpu_s = bench::self_cpu_seconds() - _bench_cpu_start;
                    _report.publisher_cpu_s =
                        thread_cpu_s(CLOCK_THREAD_CPUTIME_ID) - _publisher_cpu_start;
                    _report.clients_cpu_s = clients_cpu() - _clients_cpu_start;
                    _report.broker_end = sample();
                    finish();
                }
                return;
            case Phase::Closing:
                if (_fleet->all_closed()) {
                    uv_close(reinterpret_cast<uv_handle_t*>(&_control), nullptr);
                    uv_close(reinterpret_cast<uv_handle_t*>(&_pacer), nullptr);
                    uv_close(reinterpret_cast<uv_handle_t*>(&_progress), nullptr);
                    uv_close(reinterpret_cast<uv_handle_t*>(&_flush), nullptr);
                }
                return;
        }
    }

    void start_publishing() {
        _report.broker_connected = sample();
        _bench_cpu_start = bench::self_cpu_seconds();
        _publisher_cpu_start = thread_cpu_s(CLOCK_THREAD_CPUTIME_ID);
        _clients_cpu_start = clients_cpu();
        timespec wall{};
        clock_gettime(CLOCK_REALTIME, &wall);
        _publish_realtime_ns = static_cast<uint64_t>(wall.tv_sec) * 1'000'000'000u +
                               static_cast<uint64_t>(wall.tv_nsec);
        enter(Phase::Publish);
        _publish_ns = _phase_ns;
        if (_options.rate > 0) {
            uv_timer_start(
                &_pacer,
                [](uv_timer_t* t) {
                    auto* self = static_cast<Controller*>(t->data);
                    self->_fleet->publish_due(self->_publish_ns, bench::monotonic_ns());
                },
                1, 1);
        }
    }

    void finish() {
        _shared.stop = true;
        uv_timer_stop(&_pacer);
        _fleet->disconnect();
        enter(Phase::Closing);
    }

    void progress() {
        uint64_t delivered = 0;
        for (const auto& count : _shared.delivered) {
            delivered += count.load(std::memory_order_relaxed);
        }
        static constexpr const char* kNames[] = {"publishers", "connecting", "settling",
                                                 "publishing", "draining",   "closing"};
        std::fprintf(stderr,
                     "[%s] sse ready %llu failed %llu cut %llu | ws ready %llu failed %llu cut "
                     "%llu | sent %llu delivered %llu (+%llu/s)\n",
                     kNames[static_cast<int>(_phase)],
                     static_cast<unsigned long long>(_shared.ready[0].load()),
                     static_cast<unsigned long long>(_shared.failed[0].load()),
                     static_cast<unsigned long long>(_shared.cut[0].load()),
                     static_cast<unsigned long long>(_shared.ready[1].load()),
                     static_cast<unsigned long long>(_shared.failed[1].load()),
                     static_cast<unsigned long long>(_shared.cut[1].load()),
                     static_cast<unsigned long long>(_fleet->totals().sent),
                     static_cast<unsigned long long>(delivered),
                     static_cast<unsigned long long>(delivered - _last_delivered));
        _last_delivered = delivered;
    }

    std::optional<bench::ProcessSample> sample() const {
        return _options.pid > 0 ? bench::sample_process(_options.pid) : std::nullopt;
    }

    const Options& _options;
    uv_loop_t _loop_storage{};
    bench::IoContext _io;
    SharedCounters _shared;
    std::unique_ptr<DeviceFleet> _fleet;
    std::vector<std::unique_ptr<ClientLoop>> _loops;
    uv_timer_t _control{};
    uv_timer_t _pacer{};
    uv_timer_t _progress{};
    uv_check_t _flush{};
    Phase _phase = Phase::Publishers;
    uint64_t _phase_ns = 0;
    uint64_t _publish_ns = 0;
    uint64_t _publish_realtime_ns = 0;
    double _bench_cpu_start = 0.0;
    double _publisher_cpu_start = 0.0;
    double _clients_cpu_start = 0.0;
    uint64_t _last_delivered = 0;
    BridgeReport _report;
};

}  // namespace

int run_bridge_bench(const Options& options) {
    bench::raise_file_limit();
    Controller controller(options);
    return controller.run();
}

}  // namespace tern::bridge_bench
