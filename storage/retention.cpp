// What survives: the expiry rules for sessions, messages and history shared by both stores.
#include "retention.hpp"

#include "core/topic.hpp"

namespace tern::storage {

bool session_expired(const SessionRecord& session, UnixMillis now) noexcept {
    if (session.expiry_interval_s == kSessionNeverExpires) {
        return false;
    }
    if (session.expiry_interval_s == 0) {
        return true;
    }
    return session.disconnected_at + uint64_t{session.expiry_interval_s} * 1000 < now;
}

bool message_expired(const MessageRecord& message, UnixMillis now) noexcept {
    return message.expires_at != 0 && now >= message.expires_at;
}

bool queued_expired(const QueuedRecord& entry, UnixMillis now) noexcept {
    return entry.state == QueuedRecord::State::Queued && message_expired(entry.message, now);
}

const HistoryPolicy* history_policy_for(const std::vector<HistoryPolicy>& policies,
                                        std::string_view topic) noexcept {
    for (const HistoryPolicy& policy : policies) {
        if (core::topic_matches(policy.filter, topic)) {
            return &policy;
        }
    }
    return nullptr;
}

bool history_too_old(const HistoryPolicy& policy, UnixMillis timestamp, UnixMillis now) noexcept {
    return policy.max_age_s != 0 && timestamp + uint64_t{policy.max_age_s} * 1000 < now;
}

std::size_t history_excess(const HistoryPolicy& policy, std::size_t count) noexcept {
    if (policy.max_messages == 0 || count <= policy.max_messages) {
        return 0;
    }
    return count - policy.max_messages;
}

}  // namespace tern::storage
