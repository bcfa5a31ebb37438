// The QoS 1/2 PUBLISHes sent to a client and not yet acknowledged, found by packet id without a
// node allocation or a hash per message.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "message.hpp"

namespace tern::core {

// One message on its way to this session's client.
struct OutgoingMessage {
    MessagePtr message;
    uint8_t qos = 0;      // min(published QoS, granted QoS)
    bool retain = false;  // the RETAIN flag to send
    std::vector<uint32_t> subscription_ids;
    uint64_t store_seq = 0;  // key of its durable queue entry; 0 = not stored
};

// A QoS 1/2 PUBLISH we sent and the client has not finished acknowledging.
struct InflightMessage {
    enum class State : uint8_t { AwaitingPuback, AwaitingPubrec, AwaitingPubcomp };
    OutgoingMessage outgoing;
    State state = State::AwaitingPuback;
};

// A power-of-two table of slots where packet id `i` lives in slot `i % capacity`. New ids
// continue from the last one given and skip every id whose slot is taken, so the id is never one
// still in flight [MQTT-2.2.1-2] and a lookup is one index. The table stays at most half full (it
// doubles before that, up to one slot per possible id), so a free slot is always within reach,
// and it is released when the window empties after having grown past a few slots.
class InflightWindow {
  public:
    std::size_t size() const noexcept { return _count; }

    // The message in flight with `packet_id`, null when none is.
    InflightMessage* find(uint16_t packet_id) noexcept {
        if (_capacity == 0 || packet_id == 0) {
            return nullptr;
        }
        Slot& slot = _slots[packet_id & (_capacity - 1)];
        return slot.packet_id == packet_id ? &slot.inflight : nullptr;
    }
    const InflightMessage* find(uint16_t packet_id) const noexcept {
        return const_cast<InflightWindow*>(this)->find(packet_id);
    }

    // Starts tracking a QoS 1 or 2 `message` (awaiting PUBACK or PUBREC) under a fresh non-zero
    // packet id [MQTT-2.2.1-3], which it returns with the stored entry (valid until the window
    // changes). The caller keeps the window below 65,535 messages (Receive Maximum's range).
    std::pair<uint16_t, InflightMessage*> add(OutgoingMessage&& message);
    // Puts back a message that was in flight under `packet_id` when the broker stopped.
    void restore(uint16_t packet_id, InflightMessage::State state, OutgoingMessage&& message);
    // Ends the exchange of `packet_id` (which must be in flight).
    void erase(uint16_t packet_id);

    // The messages in the order they were first sent, for redelivery on reconnect
    // [MQTT-4.4.0-1]. Not for the per-message path (it sorts).
    std::vector<std::pair<uint16_t, const InflightMessage*>> in_send_order() const;

  private:
    struct Slot {
        InflightMessage inflight;
        uint64_t send_seq = 0;   // order of first sending
        uint16_t packet_id = 0;  // 0 = free
    };
    static constexpr uint32_t kMaxCapacity = 65536;  // one slot per id: no id collides
    static constexpr uint32_t kInitialCapacity = 8;

    // Grows to hold at least `count` entries at most half full (or one slot per id).
    void reserve(uint32_t count);
    void resize(uint32_t capacity);
    Slot& place(uint16_t packet_id, InflightMessage::State state, OutgoingMessage&& message);

    std::unique_ptr<Slot[]> _slots;
    uint32_t _capacity = 0;
    uint32_t _count = 0;
    uint64_t _send_seq = 0;
    uint16_t _last_packet_id = 0;
};

}  // namespace tern::core
