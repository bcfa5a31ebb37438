// The subscription tree: which sessions want a topic. Shared by all worker loops.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/sharded_shared_mutex.hpp"

namespace tern::core {

// Identifies a session anywhere in the process: the worker loop that owns it and its uid.
// Session uids are unique for the life of the process and never reused.
struct SubscriberKey {
    uint32_t loop = 0;
    uint64_t session_uid = 0;
    bool operator==(const SubscriberKey&) const = default;
};

struct SubscriptionOptions {
    uint8_t qos = 0;
    bool no_local = false;
    bool retain_as_published = false;
    uint8_t retain_handling = 0;
    uint32_t subscription_id = 0;  // 0 = none
    bool operator==(const SubscriptionOptions&) const = default;
};

// What a publishing loop may read of a subscribed session, which lives on another loop. Owned
// by the session; the tree reads it only under its lock, while the subscription exists.
struct SubscriberState {
    std::atomic<bool> online{false};  // a connection is attached (prefer it in shared groups)
    // Its QoS 1/2 messages are stored (persistent session, storage on): a publishing loop then
    // writes the queue entry itself, in the batch that holds the publisher's own records.
    std::atomic<bool> durable{false};
    // Online and behind (WorkerLoop::check_congestion): its publishers stop being read until it
    // drains, instead of the broker queueing without bound (limits.pause_publishers).
    std::atomic<bool> congested{false};
    // Deliveries handed to its loop by other loops and not yet taken in there, in TransitCount
    // units: a burst from another loop must not outrun `congested`, which only that loop sets.
    mutable std::atomic<uint32_t> in_transit{0};
    const std::string* client_id = nullptr;  // the session's own id (immutable)
};

// Counts remote deliveries in SubscriberState::in_transit while match() still holds the lock
// that keeps every matched session alive. A delivery weighs 1 for QoS 1/2 plus 1 per 256 bytes
// of topic and payload, so that the limit bounds both messages and bytes (1,000 units: 1,000
// small QoS 1 messages or 250 KiB); a small QoS 0 message weighs nothing (it is not counted).
struct TransitCount {
    uint32_t origin_loop = 0;  // deliveries to sessions of this loop are not in transit
    uint8_t qos = 0;           // the message's QoS
    uint32_t size_units = 0;   // its topic and payload, in whole quarters of a KiB
    uint32_t limit = 0;        // a session with more in transit is reported congested
};

// One receiver of one message, after overlapping subscriptions were merged.
struct Delivery {
    SubscriberKey subscriber;
    uint8_t qos = 0;                         // maximum granted QoS over the matching subscriptions
    bool retain_as_published = false;        // true when any matching subscription asked for it
    bool durable = false;                    // SubscriberState::durable when matched
    bool congested = false;                  // SubscriberState::congested when matched
    uint32_t transit_weight = 0;             // counted in SubscriberState::in_transit
    const SubscriberState* state = nullptr;  // only valid inside match()
    std::vector<uint32_t> subscription_ids;  // every matching subscription's id [MQTT-3.3.4-4]
    std::string client_id;                   // the session's client id, set when durable
};

// Thread-safe: match() takes a shared lock, subscribe/unsubscribe an exclusive one.
class SubscriptionTree {
  public:
    SubscriptionTree();
    ~SubscriptionTree();
    SubscriptionTree(const SubscriptionTree&) = delete;
    SubscriptionTree& operator=(const SubscriptionTree&) = delete;

    // Adds or replaces the subscription of `who` to `filter` (which may be "$share/g/f").
    // `state` (may be null: always online, never durable) is owned by the session and must
    // outlive the subscription. Returns true when the subscription is new, false when it
    // replaced an existing one [MQTT-3.8.4-3].
    bool subscribe(const SubscriberKey& who, std::string_view filter,
                   const SubscriptionOptions& options, const SubscriberState* state = nullptr);

    // Removes the subscription; returns false when there was none.
    bool unsubscribe(const SubscriberKey& who, std::string_view filter);

    // Appends one Delivery per receiving session to `out` (cleared first). Overlapping
    // subscriptions of one session merge into one delivery with the maximum QoS and all
    // subscription ids [MQTT-3.3.4-2, 3.3.4-4]. No Local subscriptions skip the session whose uid
    // is `publisher_uid` [MQTT-3.8.3-3]. Each matching shared group delivers to one member
    // [MQTT-4.8.2-?], chosen round-robin among connected members.
    // With `transit`, counts the deliveries that will cross loops (TransitCount).
    void match(std::string_view topic, uint64_t publisher_uid, std::vector<Delivery>& out,
               const TransitCount* transit = nullptr) const;

    // Number of subscriptions (shared members included).
    std::size_t size() const;

    // Number of tree nodes besides the root, for metrics and for checking that unsubscribe prunes.
    std::size_t node_count() const;

  private:
    struct Node;
    mutable ShardedSharedMutex _mutex;
    std::unique_ptr<Node> _root;
    std::size_t _count = 0;
};

}  // namespace tern::core
