// PublisherFlow: window, rate, stall and packet-identifier bookkeeping.
#include "publisher_flow.hpp"

#include <algorithm>
#include <cmath>

namespace tern::bench {

PublisherFlow::PublisherFlow(FlowLimits limits) : _limits(limits), _ids(1024, 0) {}

uint32_t PublisherFlow::in_flight(uint32_t delivered) const noexcept {
    const uint32_t base = std::max(delivered, _abandoned);
    const uint32_t last_sent = _next_sequence - 1u;
    return last_sent > base ? last_sent - base : 0u;
}

uint32_t PublisherFlow::allowance(uint64_t now_ns, uint32_t delivered,
                                  uint32_t max_batch) noexcept {
    uint64_t allowed = std::min<uint64_t>(max_batch, UINT32_MAX - _next_sequence);
    if (delivered != _last_delivered || _last_progress_ns == 0) {
        _last_delivered = delivered;
        _last_progress_ns = now_ns;
    }
    if (_limits.window != 0) {
        uint32_t flying = in_flight(delivered);
        if (flying >= _limits.window && now_ns - _last_progress_ns >= _limits.stall_timeout_ns) {
            // Nothing arrived for a whole stall period: the window's messages are lost (they
            // show as loss in the report); start a fresh window instead of stopping for good.
            _abandoned = _next_sequence - 1u;
            _last_progress_ns = now_ns;
            ++_stalls;
            flying = 0;
        }
        allowed =
            std::min<uint64_t>(allowed, flying >= _limits.window ? 0 : _limits.window - flying);
    }
    if (_limits.rate > 0.0) {
        const double elapsed_s = static_cast<double>(now_ns - _start_ns) / 1e9;
        const auto due = static_cast<uint64_t>(std::floor(_limits.rate * elapsed_s)) + 1u;
        allowed = std::min<uint64_t>(allowed, due > sent() ? due - sent() : 0);
    }
    if (_limits.max_unacked != 0) {
        allowed = std::min<uint64_t>(allowed, _limits.max_unacked - _unacked);
        // Identifiers are handed out in order; stop before one that is still unacknowledged.
        uint64_t free_ids = 0;
        for (uint16_t id = _next_id; free_ids < allowed && !id_in_use(id); ++free_ids) {
            id = id == UINT16_MAX ? 1 : static_cast<uint16_t>(id + 1);
        }
        allowed = free_ids;
    }
    return static_cast<uint32_t>(allowed);
}

std::optional<uint16_t> PublisherFlow::on_sent() noexcept {
    ++_next_sequence;
    if (_limits.max_unacked == 0) {
        return std::nullopt;
    }
    const uint16_t id = _next_id;
    set_id(id, true);
    ++_unacked;
    _next_id = _next_id == UINT16_MAX ? 1 : static_cast<uint16_t>(_next_id + 1);
    return id;
}

bool PublisherFlow::release(uint16_t packet_id) noexcept {
    if (packet_id == 0 || !id_in_use(packet_id)) {
        return false;
    }
    set_id(packet_id, false);
    --_unacked;
    return true;
}

void PublisherFlow::set_id(uint16_t id, bool used) noexcept {
    const uint64_t bit = uint64_t{1} << (id & 63);
    if (used) {
        _ids[id >> 6] |= bit;
    } else {
        _ids[id >> 6] &= ~bit;
    }
}

}  // namespace tern::bench
