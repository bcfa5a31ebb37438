// Group-commit coalescing: the last write of each key wins; created-then-erased writes nothing.
#include "group_coalescer.hpp"

#include <bit>
#include <functional>
#include <variant>

namespace tern::storage {

namespace {

struct KeyedOp {
    bool keyed = false;  // a queue entry or an incoming QoS 2 id
    bool queue = false;
    std::string_view client_id;
    uint64_t number = 0;
    bool creates = false;
    bool erases = false;
};

KeyedOp keyed(const WriteBatch::Op& op) {
    if (const auto* put = std::get_if<WriteBatch::PutQueued>(&op)) {
        return {true, true, put->client_id, put->seq, put->creates, false};
    }
    if (const auto* erase = std::get_if<WriteBatch::EraseQueued>(&op)) {
        return {true, true, erase->client_id, erase->seq, false, true};
    }
    // An incoming QoS 2 id is put only while it is not pending, and erased before it is put
    // again: a put that comes first in a group finds nothing stored.
    if (const auto* put = std::get_if<WriteBatch::PutIncomingQos2>(&op)) {
        return {true, false, put->client_id, put->packet_id, true, false};
    }
    if (const auto* erase = std::get_if<WriteBatch::EraseIncomingQos2>(&op)) {
        return {true, false, erase->client_id, erase->packet_id, false, true};
    }
    return {};
}

}  // namespace

GroupCoalescer::Slot& GroupCoalescer::find(bool queue, std::string_view client_id,
                                           uint64_t number) {
    const std::size_t mask = _slots.size() - 1;
    std::size_t index = (std::hash<std::string_view>{}(client_id) ^
                         (number * 0x9E3779B97F4A7C15ULL) ^ (queue ? 1 : 0)) &
                        mask;
    for (;; index = (index + 1) & mask) {
        Slot& slot = _slots[index];
        if (!slot.used ||
            (slot.number == number && slot.queue == queue && slot.client_id == client_id)) {
            return slot;
        }
    }
}

const std::vector<bool>& GroupCoalescer::plan(const std::vector<CommitQueue::Pending>& group) {
    std::size_t total = 0;
    for (const CommitQueue::Pending& pending : group) {
        total += pending.batch.size();
    }
    _skip.assign(total, false);
    // At most half full, so a probe ends soon; assign() keeps the capacity of earlier groups.
    _slots.assign(std::bit_ceil(std::max<std::size_t>(2 * total, 16)), Slot{});
    uint32_t index = 0;
    for (const CommitQueue::Pending& pending : group) {
        for (const WriteBatch::Op& op : pending.batch.ops()) {
            const KeyedOp key = keyed(op);
            if (key.keyed) {
                Slot& slot = find(key.queue, key.client_id, key.number);
                if (slot.used) {
                    _skip[slot.last] = true;
                } else {
                    slot = Slot{key.client_id, key.number, 0, true, key.queue, key.creates, false};
                }
                slot.last = index;
                slot.last_erases = key.erases;
            }
            ++index;
        }
    }
    for (const Slot& slot : _slots) {
        if (slot.used && slot.created && slot.last_erases) {
            _skip[slot.last] = true;
        }
    }
    return _skip;
}

}  // namespace tern::storage
