// What survives: the expiry rules for sessions, messages and history shared by both stores.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "records.hpp"
#include "store.hpp"

namespace tern::storage {

inline constexpr uint32_t kSessionNeverExpires = 0xFFFFFFFF;

// True when the session ended: its expiry interval passed since `disconnected_at` (which the
// caller has already replaced by `now` when it was 0: connected at a crash). An interval of 0
// ends the session with its connection [MQTT-3.1.2-23]; 0xFFFFFFFF never expires [MQTT-3.1.2-22].
bool session_expired(const SessionRecord& session, UnixMillis now) noexcept;

// True when the message's expiry time passed [MQTT-3.3.2-5].
bool message_expired(const MessageRecord& message, UnixMillis now) noexcept;

// True when a queue entry must be dropped: only a message whose onward delivery has not started
// is deleted when it expires [MQTT-3.3.2-5]; an in-flight one finishes its QoS exchange.
bool queued_expired(const QueuedRecord& entry, UnixMillis now) noexcept;

// The first policy whose filter matches `topic`, nullptr when none does (no history kept).
const HistoryPolicy* history_policy_for(const std::vector<HistoryPolicy>& policies,
                                        std::string_view topic) noexcept;

// True when an entry written at `timestamp` is past the policy's max_age_s (0 = no age limit).
bool history_too_old(const HistoryPolicy& policy, UnixMillis timestamp, UnixMillis now) noexcept;

// How many of the oldest of `count` entries exceed max_messages (0 = no count limit, like the
// other limits of the settings).
std::size_t history_excess(const HistoryPolicy& policy, std::size_t count) noexcept;

}  // namespace tern::storage
