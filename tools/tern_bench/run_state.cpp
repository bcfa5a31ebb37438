// RunState: the thread-safe error log.
#include "run_state.hpp"

namespace tern::bench {

RunState::RunState(std::size_t loop_count) {
    for (std::size_t i = 0; i < loop_count; ++i) {
        live.push_back(std::make_unique<LiveCounters>());
    }
}

void RunState::report_error(const std::string& message) {
    const std::lock_guard lock(_mutex);
    ++_error_count;
    if (_errors.size() < kKeptErrors) {
        _errors.push_back(message);
    }
}

uint64_t RunState::error_count() const {
    const std::lock_guard lock(_mutex);
    return _error_count;
}

std::vector<std::string> RunState::first_errors() const {
    const std::lock_guard lock(_mutex);
    return _errors;
}

}  // namespace tern::bench
