// Write avoidance: cancelled queue entries across the writer's window, last write wins in a group.
#include "group_coalescer.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
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
    // again: a put finds nothing stored once the erase before it is written or cancelled.
    if (const auto* put = std::get_if<WriteBatch::PutIncomingQos2>(&op)) {
        return {true, false, put->client_id, put->packet_id, true, false};
    }
    if (const auto* erase = std::get_if<WriteBatch::EraseIncomingQos2>(&op)) {
        return {true, false, erase->client_id, erase->packet_id, false, true};
    }
    return {};
}

void skip(CommitQueue::Pending& pending, uint32_t op) {
    if (!pending.skip[op]) {
        pending.skip[op] = true;
        --pending.live;
    }
}

}  // namespace

std::size_t GroupCoalescer::hash(const Key& key) noexcept {
    // For the QoS 2 table, and plan_group's, which holds queue keys too. A queue seq comes from
    // one node-wide counter; a QoS 2 packet id only means something with its client. (Seqs
    // taken as they are would cluster: a group's entries span more seqs than its table has
    // slots.)
    const uint64_t mixed = key.number * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(
        key.queue ? mixed ^ (mixed >> 32) : std::hash<std::string_view>{}(key.client_id) ^ mixed);
}

uint32_t GroupCoalescer::client_hash(std::string_view client_id) noexcept {
    // A check, not an index (seqs are unique across clients): the length and the last bytes,
    // where client ids of one fleet differ, are enough, and cheaper than hashing them all.
    uint64_t tail = 0;
    const std::size_t take = std::min<std::size_t>(client_id.size(), sizeof tail);
    if (take != 0) {
        std::memcpy(&tail, client_id.data() + client_id.size() - take, take);
    }
    const uint64_t mixed = (tail ^ client_id.size()) * 0x9E3779B97F4A7C15ULL;
    return static_cast<uint32_t>(mixed >> 32);
}

void GroupCoalescer::grow_ring() {
    std::vector<SeqSlot> old = std::move(_ring);
    _ring.assign(std::max<std::size_t>(4096, 2 * old.size()), SeqSlot{});
    // Seqs that did not share a slot of the smaller ring do not share one of this one.
    for (const SeqSlot& slot : old) {
        if (slot.tracked.batch != nullptr) {
            ring_slot(slot.seq) = slot;
        }
    }
}

GroupCoalescer::Tracked* GroupCoalescer::find_tracked(const Key& key) {
    if (_window_size == 0) {
        return nullptr;
    }
    if (key.queue) {
        if (_ring.empty()) {
            return nullptr;
        }
        SeqSlot& slot = ring_slot(key.number);
        return slot.tracked.batch != nullptr && slot.seq == key.number &&
                       slot.client_hash == client_hash(key.client_id)
                   ? &slot.tracked
                   : nullptr;
    }
    Entry* entry = find_entry(key);
    return entry != nullptr ? &entry->tracked : nullptr;
}

bool GroupCoalescer::track(const Key& key, CommitQueue::Pending* batch, uint32_t op) {
    if (!key.queue) {
        insert_entry(key, Tracked{batch, op});
        ++_entry_count;
        ++_window_size;
        return true;
    }
    if (_ring.empty()) {
        grow_ring();
    }
    while (ring_slot(key.number).tracked.batch != nullptr && _ring.size() < kMaxRingSlots) {
        grow_ring();
    }
    SeqSlot& slot = ring_slot(key.number);
    const bool forgets = slot.tracked.batch != nullptr;
    if (!forgets) {
        ++_window_size;
    }
    // Else the ring is at its largest and the older entry is forgotten (see add()).
    slot = SeqSlot{key.number, Tracked{batch, op}, client_hash(key.client_id)};
    return !forgets;
}

void GroupCoalescer::forget(const Key& key, Tracked* tracked) {
    --_window_size;
    if (key.queue) {
        *tracked = Tracked{};
        return;
    }
    erase_entry(find_entry(key));  // a second probe, on the rare QoS 2 path
    --_entry_count;
}

GroupCoalescer::Entry* GroupCoalescer::find_entry(const Key& key) {
    if (_entry_count == 0) {
        return nullptr;
    }
    const std::size_t mask = _entries.size() - 1;
    for (std::size_t index = hash(key) & mask;; index = (index + 1) & mask) {
        Entry& entry = _entries[index];
        if (entry.tracked.batch == nullptr) {
            return nullptr;
        }
        if (entry.key == key) {
            return &entry;
        }
    }
}

void GroupCoalescer::insert_entry(const Key& key, Tracked tracked) {
    if (2 * (_entry_count + 1) > _entries.size()) {
        std::vector<Entry> old = std::move(_entries);
        _entries.assign(std::max<std::size_t>(64, 2 * old.size()), Entry{});
        for (const Entry& entry : old) {
            if (entry.tracked.batch != nullptr) {
                insert_entry(entry.key, entry.tracked);
            }
        }
    }
    const std::size_t mask = _entries.size() - 1;
    std::size_t index = hash(key) & mask;
    while (_entries[index].tracked.batch != nullptr) {
        index = (index + 1) & mask;
    }
    _entries[index] = Entry{key, tracked};
}

void GroupCoalescer::erase_entry(Entry* entry) {
    // Backward shift: pull each later entry of the probe run into the hole when its home slot
    // does not lie between the hole and itself, so that no lookup stops early.
    const std::size_t mask = _entries.size() - 1;
    std::size_t hole = static_cast<std::size_t>(entry - _entries.data());
    for (std::size_t next = (hole + 1) & mask; _entries[next].tracked.batch != nullptr;
         next = (next + 1) & mask) {
        const std::size_t home = hash(_entries[next].key) & mask;
        if (((next - home) & mask) >= ((next - hole) & mask)) {
            _entries[hole] = _entries[next];
            hole = next;
        }
    }
    _entries[hole] = Entry{};
}

void GroupCoalescer::prefetch_slot(const Key& key) const {
    if (key.queue) {
        if (!_ring.empty()) {
            __builtin_prefetch(&_ring[key.number & (_ring.size() - 1)]);
        }
    } else if (_entry_count != 0) {
        __builtin_prefetch(&_entries[hash(key) & (_entries.size() - 1)]);
    }
}

std::size_t GroupCoalescer::add(CommitQueue::Pending& pending) {
    std::size_t cancelled = 0;
    const std::vector<WriteBatch::Op>& ops = pending.batch.ops();
    // Ask for all of the batch's slots first, so that misses overlap instead of adding up.
    for (const WriteBatch::Op& batch_op : ops) {
        if (const KeyedOp op = keyed(batch_op); op.keyed) {
            prefetch_slot(Key{op.client_id, op.number, op.queue});
        }
    }
    for (uint32_t index = 0; index < ops.size(); ++index) {
        const KeyedOp op = keyed(ops[index]);
        if (!op.keyed) {
            continue;
        }
        const Key key{op.client_id, op.number, op.queue};
        Tracked* tracked = find_tracked(key);
        if (tracked == nullptr) {
            // Only a key the window creates can vanish without a trace: an erase of a key stored
            // earlier, or a rewrite of it, must reach the database.
            if (op.creates && !track(key, &pending, index)) {
                // An entry was forgotten while its write still waits: an erase of it would now
                // be taken for one of a stored entry and written first. This batch, and every
                // waiting one before it (the forgotten entry's included), is written now.
                pending.must_write = true;
            } else if (op.erases && op.queue) {
                ++pending.stored_erases;
            }
            continue;
        }
        if (op.erases) {
            // Created and erased before anything of it was written: the database never needs
            // to hear of it. Both batches may complete without writing these operations.
            skip(*tracked->batch, tracked->op);
            skip(pending, index);
            cancelled += 2;
        }
        forget(key, tracked);  // cancelled, or rewritten: written as it comes from now on
    }
    return cancelled;
}

void GroupCoalescer::remove(const CommitQueue::Pending& pending) {
    if (_window_size == 0 || pending.live == 0) {
        return;  // (a batch whose operations were all cancelled, the usual case, tracks none)
    }
    // Only the batch's live creations can be tracked (cancelled operations were forgotten when
    // they were cancelled); they are looked up like add() does, their slots requested first.
    const std::vector<WriteBatch::Op>& ops = pending.batch.ops();
    for (uint32_t index = 0; index < ops.size(); ++index) {
        if (const KeyedOp op = keyed(ops[index]); op.keyed && op.creates && !pending.skip[index]) {
            prefetch_slot(Key{op.client_id, op.number, op.queue});
        }
    }
    for (uint32_t index = 0; index < ops.size(); ++index) {
        const KeyedOp op = keyed(ops[index]);
        if (!op.keyed || !op.creates || pending.skip[index]) {
            continue;
        }
        const Key key{op.client_id, op.number, op.queue};
        Tracked* tracked = find_tracked(key);
        if (tracked != nullptr && tracked->batch == &pending) {
            forget(key, tracked);  // stored now
        }
    }
}

GroupCoalescer::Slot& GroupCoalescer::find(const Key& key) {
    const std::size_t mask = _slots.size() - 1;
    for (std::size_t index = hash(key) & mask;; index = (index + 1) & mask) {
        Slot& slot = _slots[index];
        if (!slot.used || slot.key == key) {
            return slot;
        }
    }
}

void GroupCoalescer::plan_group(std::vector<CommitQueue::Pending>& group) {
    std::size_t live = 0;
    for (const CommitQueue::Pending& pending : group) {
        live += pending.live;
    }
    // At most half full, so a probe ends soon; assign() keeps the capacity of earlier groups.
    _slots.assign(std::bit_ceil(std::max<std::size_t>(2 * live, 16)), Slot{});
    for (CommitQueue::Pending& pending : group) {
        const std::vector<WriteBatch::Op>& ops = pending.batch.ops();
        for (uint32_t index = 0; index < ops.size(); ++index) {
            if (pending.skip[index]) {
                continue;
            }
            const KeyedOp op = keyed(ops[index]);
            if (!op.keyed) {
                continue;
            }
            const Key key{op.client_id, op.number, op.queue};
            Slot& slot = find(key);
            if (slot.used) {
                skip(*slot.batch, slot.op);
            } else {
                slot = Slot{key, nullptr, 0, true, op.creates, false};
            }
            slot.batch = &pending;
            slot.op = index;
            slot.last_erases = op.erases;
        }
    }
    // Created and erased within the group (a QoS 2 exchange whose rewrites kept it from
    // waiting): nothing to write.
    for (const Slot& slot : _slots) {
        if (slot.used && slot.created && slot.last_erases) {
            skip(*slot.batch, slot.op);
        }
    }
}

}  // namespace tern::storage
