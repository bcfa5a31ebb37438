// tern-bench: MQTT load generator (libuv + tern_codec) and minimal MQTT sink.
#include <exception>
#include <iostream>
#include <variant>

#include "bench_options.hpp"
#include "bench_runner.hpp"
#include "sink_server.hpp"

int main(int argc, char** argv) {
    auto parsed = tern::bench::parse_options(argc, argv);
    if (const int* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    const auto& options = std::get<tern::bench::BenchOptions>(parsed);
    try {
        return options.sink ? tern::bench::run_sink(options) : tern::bench::run_load(options);
    } catch (const std::exception& e) {
        std::cerr << "tern-bench: " << e.what() << '\n';
        return 1;
    }
}
