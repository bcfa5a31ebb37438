// The global memory cap: summing the loops' counters, the shedding flag and its log lines.
#include "memory_budget.hpp"

#include <spdlog/spdlog.h>

namespace tern::net {

namespace {

constexpr core::MonoMillis kLogIntervalMs = 10'000;

}  // namespace

MemoryBudget::MemoryBudget(uint64_t limit, uint32_t loops)
    : _limit(limit),
      _resume_below(limit - limit / 10),
      _loops(loops == 0 ? 1 : loops),
      _slots(std::make_unique<Slot[]>(_loops)) {}

uint64_t MemoryBudget::tracked() const noexcept {
    int64_t total = 0;
    for (uint32_t i = 0; i < _loops; ++i) {
        total += _slots[i].bytes.load(std::memory_order_relaxed);
    }
    return total > 0 ? static_cast<uint64_t>(total) : 0;
}

void MemoryBudget::evaluate() noexcept {
    if (_limit == 0) {
        return;
    }
    const uint64_t total = tracked();
    const bool shedding = _shedding.load(std::memory_order_relaxed);
    if (!shedding && total > _limit) {
        _shedding.store(true, std::memory_order_relaxed);
    } else if (shedding && total < _resume_below) {
        _shedding.store(false, std::memory_order_relaxed);
    }
}

void MemoryBudget::tick(core::MonoMillis now) {
    if (_limit == 0) {
        return;
    }
    evaluate();
    const bool shedding = this->shedding();
    if (shedding && (!_reported || now - _reported_at >= kLogIntervalMs)) {
        spdlog::warn(
            "memory cap reached: {} bytes tracked (limits.max_memory = {}); refusing new "
            "clients and QoS 1/2 publishes, dropping QoS 0 to slow consumers",
            tracked(), _limit);
        _reported = true;
        _reported_at = now;
    } else if (!shedding && _reported) {
        spdlog::info("memory back under the cap: {} bytes tracked (limits.max_memory = {})",
                     tracked(), _limit);
        _reported = false;
    }
}

}  // namespace tern::net
