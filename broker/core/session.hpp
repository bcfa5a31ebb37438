// A client session and its QoS state machines: in-flight windows, queue, packet ids. No sockets.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "codec/packets.hpp"
#include "inflight_window.hpp"
#include "message.hpp"
#include "subscription_map.hpp"
#include "subscription_tree.hpp"

namespace tern::core {

// What the session asks the caller to do after an acknowledgement.
enum class AckOutcome : uint8_t {
    Completed,   // the exchange finished; a window slot is free
    SendPubrel,  // answer the PUBREC with PUBREL
    Ignored,     // the packet id was unknown or in the wrong state
};

// What a full queue does with a new message.
enum class QueueFullPolicy : uint8_t { RefuseNewest, DropOldest };

// Widest first: 16 bytes in every session instead of 24.
struct SessionLimits {
    uint64_t max_queued_bytes = 0;        // 0 = unlimited
    uint32_t max_queued_messages = 1000;  // 0 = unlimited
    uint16_t max_inflight = 100;          // our own cap on the outgoing window
    QueueFullPolicy queue_full_policy = QueueFullPolicy::RefuseNewest;
};

// The will message of a connection, kept with the session until it is published or discarded.
// The message is built when the will is published, so that its Message Expiry Interval counts
// from publication.
struct PendingWill {
    codec::Will will;
    uint32_t delay_s = 0;
    MonoMillis publish_at = 0;  // 0 = not scheduled (the connection is alive)
};

// A FIFO that allocates nothing until its first element: most sessions never queue, and an
// empty std::deque already costs ~600 bytes in libstdc++.
class LazyQueue {
  public:
    bool empty() const noexcept { return !_items || _items->empty(); }
    std::size_t size() const noexcept { return _items ? _items->size() : 0; }
    OutgoingMessage& front() { return _items->front(); }
    const OutgoingMessage& back() const { return _items->back(); }
    void push_back(OutgoingMessage message) {
        if (!_items) {
            _items = std::make_unique<std::deque<OutgoingMessage>>();
        }
        _items->push_back(std::move(message));
    }
    void pop_front() { _items->pop_front(); }
    void clear() noexcept { _items.reset(); }

  private:
    std::unique_ptr<std::deque<OutgoingMessage>> _items;
};

// A session belongs to exactly one worker loop and is only touched from that loop's thread.
class Session {
  public:
    Session(std::string client_id, uint64_t uid, uint32_t loop);

    const std::string& client_id() const noexcept { return _client_id; }
    uint64_t uid() const noexcept { return _uid; }
    SubscriberKey key() const noexcept { return {_loop, _uid}; }

    // --- configuration of the current connection -------------------------------------------
    // The user name the client authenticated with (none = anonymous); used for ACL checks.
    std::optional<std::string> username;
    uint16_t client_receive_maximum = 65535;  // the client's Receive Maximum [MQTT-3.3.4-7]
    codec::ProtocolVersion version = codec::ProtocolVersion::V311;
    uint32_t client_maximum_packet_size = 0;  // 0 = no limit [MQTT-3.1.2-24]
    uint32_t expiry_interval_s = 0;           // 0xFFFFFFFF = never
    bool request_problem_information = true;
    SessionLimits limits;

    // What publishing loops read while routing to this session (online, durable, client id).
    SubscriberState subscriber;
    MonoMillis offline_since = 0;
    MonoMillis drop_logged_at = 0;      // rate-limits the "dropping messages" log line
    std::unique_ptr<PendingWill> will;  // heap: most sessions have none, and it is large

    // --- subscriptions ------------------------------------------------------------------------
    SubscriptionMap subscriptions;  // allocated at the first subscription

    // --- outgoing QoS flow (server → client) -----------------------------------------------------
    // Queues a message. When the queue is full, RefuseNewest returns false (the message is
    // dropped); DropOldest evicts the oldest queued messages into `evicted` (if given) to make
    // room. Every drop is counted. `headroom` multiplies the limits (see deliver_local).
    bool enqueue(OutgoingMessage message, std::vector<OutgoingMessage>* evicted = nullptr,
                 uint32_t headroom = 1);
    // The most recently queued message (the queue must not be empty).
    const OutgoingMessage& queued_back() const { return _queue.back(); }

    // Moves the next queued message into the in-flight window if the window has room, skipping
    // expired messages. A QoS 0 message leaves the queue into `qos0` without taking a slot.
    // Returns null when nothing can be sent now; else the message: `qos0`, or for QoS 1/2 the
    // window's entry (valid until the window changes), with `packet_id` set (0 for QoS 0).
    OutgoingMessage* next_sendable(MonoMillis now, uint16_t& packet_id, OutgoingMessage& qos0);

    // True when a new QoS 1/2 message may go straight out (window has room, nothing queued).
    bool can_send_directly() const noexcept;

    // Starts tracking a QoS 1/2 message sent now with a fresh packet id, which it returns.
    uint16_t track_inflight(OutgoingMessage message);

    AckOutcome on_puback(uint16_t packet_id);
    // `failed` is true when the PUBREC carries a reason code >= 0x80 [MQTT-4.3.3-?]: the exchange
    // ends.
    AckOutcome on_pubrec(uint16_t packet_id, bool failed);
    AckOutcome on_pubcomp(uint16_t packet_id);

    // In-flight messages (packet id, entry) in the order they were first sent, for resending
    // with DUP on reconnect [MQTT-4.4.0-1].
    std::vector<std::pair<uint16_t, const InflightMessage*>> inflight_in_order() const;
    std::size_t inflight_count() const noexcept { return _flows ? _flows->outgoing.size() : 0; }
    std::size_t queued_count() const noexcept { return _queue.size(); }
    // Topic and payload bytes of the queued messages (what max_queued_bytes limits).
    uint64_t queued_bytes() const noexcept { return _queued_bytes; }
    uint64_t dropped_messages() const noexcept { return _dropped; }
    void count_drop() noexcept { ++_dropped; }

    // --- incoming QoS 2 flow (client → server) --------------------------------------------------
    // Records a QoS 2 PUBLISH; returns false when the id is already awaiting PUBREL (a
    // retransmission: the message must not be delivered twice [MQTT-4.3.3-?]).
    bool on_incoming_qos2(uint16_t packet_id);
    // Releases a QoS 2 packet id; returns false when it was unknown.
    bool on_pubrel(uint16_t packet_id);
    std::size_t incoming_qos2_pending() const noexcept {
        return _flows ? _flows->incoming_qos2.size() : 0;
    }

    // Restores a message that was in flight when the broker stopped (start-up only).
    void restore_inflight(uint16_t packet_id, InflightMessage::State state,
                          OutgoingMessage message);
    // Looks up an in-flight message (null when unknown).
    const InflightMessage* find_inflight(uint16_t packet_id) const;

    // Durable iff it outlives its connection.
    bool persistent() const noexcept { return expiry_interval_s != 0; }

    // Forgets every message and subscription (used when a session is discarded).
    void clear_state();

  private:
    std::size_t window() const noexcept;

    std::string _client_id;
    uint64_t _uid;
    uint32_t _loop;

    LazyQueue _queue;
    uint64_t _queued_bytes = 0;
    // The QoS 1/2 exchanges in flight, on the heap once the session has had one: an idle or
    // QoS 0 session saves the ~160 bytes of the empty containers.
    struct QosFlows {
        InflightWindow outgoing;
        std::unordered_set<uint16_t> incoming_qos2;  // ids awaiting PUBREL from the client
    };
    QosFlows& flows();
    std::unique_ptr<QosFlows> _flows;
    uint64_t _dropped = 0;
};

}  // namespace tern::core
