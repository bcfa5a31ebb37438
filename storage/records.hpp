// What the broker stores: messages, sessions, queue entries and history, as plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/packets.hpp"
#include "codec/properties.hpp"
#include "core/subscription_tree.hpp"

namespace tern::storage {

// Wall-clock milliseconds since the Unix epoch (steady-clock times do not survive a restart).
using UnixMillis = uint64_t;
UnixMillis unix_now_ms() noexcept;

struct MessageRecord {
    std::string topic;
    std::string payload;
    uint8_t qos = 0;
    bool retain = false;
    // Without Message Expiry Interval (see expires_at). Shared with the broker's message: a
    // record built on the per-message path copies no properties.
    codec::SharedProperties properties;
    UnixMillis expires_at = 0;  // 0 = never
    bool operator==(const MessageRecord&) const = default;
};

struct SubscriptionRecord {
    std::string filter;
    core::SubscriptionOptions options;
    bool operator==(const SubscriptionRecord&) const = default;
};

struct WillRecord {
    codec::Will will;
    uint32_t delay_s = 0;
    UnixMillis publish_at = 0;  // 0 = its connection was alive when last written
    bool operator==(const WillRecord&) const = default;
};

struct SessionRecord {
    std::string client_id;
    uint8_t protocol_version = 4;
    uint32_t expiry_interval_s = 0;  // 0xFFFFFFFF = never
    UnixMillis disconnected_at = 0;  // 0 = connected when last written (a crash: now at load)
    std::vector<SubscriptionRecord> subscriptions;
    std::optional<WillRecord> will;
    // The user name the client connected with: ACL checks of messages routed to the session while
    // it is offline (also after a restart) use it. Stored after the will; absent in records
    // written before it existed, which read as "no user name".
    std::optional<std::string> username;
    bool operator==(const SessionRecord&) const = default;
};

// A message queued for, or in flight to, one session. `seq` orders a session's entries.
struct QueuedRecord {
    enum class State : uint8_t {
        Queued = 0,
        AwaitingPuback = 1,
        AwaitingPubrec = 2,
        AwaitingPubcomp = 3
    };
    uint64_t seq = 0;
    uint8_t qos = 0;
    bool retain = false;
    std::vector<uint32_t> subscription_ids;
    State state = State::Queued;
    uint16_t packet_id = 0;  // set once in flight
    MessageRecord message;
    bool operator==(const QueuedRecord&) const = default;
};

// One entry of a topic's short history (feeds SSE / WebSocket resume).
struct HistoryRecord {
    uint64_t seq = 0;  // per node, increasing; ids are "<epoch>-<seq>"
    UnixMillis timestamp = 0;
    MessageRecord message;
    bool operator==(const HistoryRecord&) const = default;
};

}  // namespace tern::storage
