// The outgoing in-flight window: packet id allocation and lookup by slot.
#include "inflight_window.hpp"

#include <algorithm>

namespace tern::core {

void InflightWindow::resize(uint32_t capacity) {
    auto slots = std::make_unique<Slot[]>(capacity);
    for (uint32_t i = 0; i < _capacity; ++i) {
        Slot& old = _slots[i];
        if (old.packet_id != 0) {
            // Ids that share a slot in the larger table shared one in the smaller table too,
            // so moving never collides.
            slots[old.packet_id & (capacity - 1)] = std::move(old);
        }
    }
    _slots = std::move(slots);
    _capacity = capacity;
}

void InflightWindow::reserve(uint32_t count) {
    uint32_t capacity = std::max(_capacity, kInitialCapacity);
    while (capacity < kMaxCapacity && capacity < count * 2) {
        capacity *= 2;
    }
    if (capacity != _capacity) {
        resize(capacity);
    }
}

InflightWindow::Slot& InflightWindow::place(uint16_t packet_id, InflightMessage::State state,
                                            OutgoingMessage&& message) {
    Slot& slot = _slots[packet_id & (_capacity - 1)];
    slot.inflight.outgoing = std::move(message);
    slot.inflight.state = state;
    slot.send_seq = ++_send_seq;
    slot.packet_id = packet_id;
    ++_count;
    return slot;
}

std::pair<uint16_t, InflightMessage*> InflightWindow::add(OutgoingMessage&& message) {
    const auto state = message.qos == 1 ? InflightMessage::State::AwaitingPuback
                                        : InflightMessage::State::AwaitingPubrec;
    reserve(_count + 1);
    // At most half the slots (or all but one id) are taken, so this finds a free one within
    // one pass over the table.
    uint16_t id = _last_packet_id;
    do {
        id = static_cast<uint16_t>(id + 1);
    } while (id == 0 || _slots[id & (_capacity - 1)].packet_id != 0);
    _last_packet_id = id;
    Slot& slot = place(id, state, std::move(message));
    return {id, &slot.inflight};
}

void InflightWindow::restore(uint16_t packet_id, InflightMessage::State state,
                             OutgoingMessage&& message) {
    if (packet_id == 0 || find(packet_id) != nullptr) {
        return;  // not a valid id, or already restored: the first record wins
    }
    reserve(_count + 1);
    while (_slots[packet_id & (_capacity - 1)].packet_id != 0) {
        resize(_capacity * 2);  // a collision: only distinct ids remain at 65,536 slots
    }
    place(packet_id, state, std::move(message));
    // New ids continue after the newest restored one, as the ids were given in that order.
    _last_packet_id = std::max(_last_packet_id, packet_id);
}

void InflightWindow::erase(uint16_t packet_id) {
    Slot& slot = _slots[packet_id & (_capacity - 1)];
    // Clients acknowledge mostly in sending order, and a message sent a window ago has left the
    // cache: start loading the next one, whose acknowledgement drops its reference count (in the
    // same cache line: make_shared puts the count just before the message).
    const Slot& next = _slots[(packet_id + 1u) & (_capacity - 1)];
    if (next.packet_id != 0) {
        __builtin_prefetch(next.inflight.outgoing.message.get(), 1);
    }
    slot.inflight = InflightMessage{};
    slot.packet_id = 0;
    --_count;
    if (_count == 0 && _capacity > kInitialCapacity * 2) {
        // An emptied large window is given back: a session that had a burst in flight does not
        // keep kilobytes while it idles.
        _slots.reset();
        _capacity = 0;
    }
}

std::vector<std::pair<uint16_t, const InflightMessage*>> InflightWindow::in_send_order() const {
    std::vector<const Slot*> used;
    used.reserve(_count);
    for (uint32_t i = 0; i < _capacity; ++i) {
        if (_slots[i].packet_id != 0) {
            used.push_back(&_slots[i]);
        }
    }
    std::sort(used.begin(), used.end(),
              [](const Slot* a, const Slot* b) { return a->send_seq < b->send_seq; });
    std::vector<std::pair<uint16_t, const InflightMessage*>> order;
    order.reserve(used.size());
    for (const Slot* slot : used) {
        order.emplace_back(slot->packet_id, &slot->inflight);
    }
    return order;
}

}  // namespace tern::core
