// tern-bridge-bench: SSE and WebSocket clients of the Tern bridge fed by MQTT devices.
#include <exception>
#include <iostream>
#include <variant>

#include "bridge_bench_options.hpp"
#include "bridge_bench_runner.hpp"

int main(int argc, char** argv) {
    auto parsed = tern::bridge_bench::parse_options(argc, argv);
    if (const int* exit_code = std::get_if<int>(&parsed)) {
        return *exit_code;
    }
    try {
        return tern::bridge_bench::run_bridge_bench(std::get<tern::bridge_bench::Options>(parsed));
    } catch (const std::exception& e) {
        std::cerr << "tern-bridge-bench: " << e.what() << '\n';
        return 1;
    }
}
