// A Store that keeps everything in maps: durability "memory", and the reference for the tests.
#include "memory_store.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <type_traits>

#include "core/topic.hpp"
#include "retention.hpp"
#include "serialization.hpp"

namespace tern::storage {

struct MemoryStore::Contents {
    std::map<std::string, MessageRecord> retained;
    uint64_t retained_bytes = 0;
    std::map<std::string, SessionRecord> sessions;
    std::map<std::string, std::map<uint64_t, QueuedRecord>> queues;
    std::map<std::string, std::set<uint16_t>> incoming_qos2;
    std::map<std::string, std::map<uint64_t, HistoryRecord>> history;
    std::map<std::string, uint64_t, std::less<>> history_trimmed;  // topic → highest seq trimmed
};

namespace {

uint64_t retained_size(const MessageRecord& message) {
    return message.topic.size() + message.payload.size();
}

// Drops a topic's oldest entries while over the count limit or past the age limit (lazily: an
// old entry behind a newer one waits until it is the oldest, or until the next load()).
void trim_history(std::map<uint64_t, HistoryRecord>& entries, const HistoryPolicy& policy,
                  UnixMillis now, uint64_t& trimmed_through) {
    while (!entries.empty() && (history_excess(policy, entries.size()) > 0 ||
                                history_too_old(policy, entries.begin()->second.timestamp, now))) {
        trimmed_through = std::max(trimmed_through, entries.begin()->first);
        entries.erase(entries.begin());
    }
}

}  // namespace

// What load() hands to the visitor once the lock is released.
struct MemoryStore::LoadedSession {
    SessionRecord session;
    std::vector<QueuedRecord> queue;
    std::vector<uint16_t> incoming_qos2;
};

MemoryStore::MemoryStore(const StorageSettings& settings)
    : _settings(settings),
      _contents(std::make_unique<Contents>()),
      _queue([this](std::vector<CommitQueue::Pending>& group) { apply(group); },
             settings.write_delay) {}

MemoryStore::~MemoryStore() {
    close();
}

void MemoryStore::submit(WriteBatch&& batch, std::function<void()> done) {
    _queue.submit(std::move(batch), std::move(done));
}

void MemoryStore::apply_now(WriteBatch&& batch) {
    std::vector<CommitQueue::Pending> group(1);
    group.front().batch = std::move(batch);
    apply(group);
}

void MemoryStore::apply(std::vector<CommitQueue::Pending>& group) {
    UnixMillis now = unix_now_ms();
    std::unique_lock lock(_mutex);
    Contents& contents = *_contents;
    std::string scratch;  // queue entries carried as messages are encoded here
    for (CommitQueue::Pending& pending : group) {
        std::size_t index = 0;
        for (WriteBatch::Op& op : pending.batch.ops()) {
            // Left out like the RocksDB store does (apply_now's batch has no plan: nothing).
            if (index < pending.skip.size() && pending.skip[index++]) {
                continue;
            }
            std::visit(
                [&](auto& change) {
                    using T = std::decay_t<decltype(change)>;
                    if constexpr (std::is_same_v<T, WriteBatch::PutRetained>) {
                        auto [it, inserted] = contents.retained.try_emplace(change.message.topic);
                        if (!inserted) {
                            contents.retained_bytes -= retained_size(it->second);
                        }
                        contents.retained_bytes += retained_size(change.message);
                        it->second = std::move(change.message);
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseRetained>) {
                        auto it = contents.retained.find(change.topic);
                        if (it != contents.retained.end()) {
                            contents.retained_bytes -= retained_size(it->second);
                            contents.retained.erase(it);
                        }
                    } else if constexpr (std::is_same_v<T, WriteBatch::PutSession>) {
                        contents.sessions[change.session->client_id] = *change.session;
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseSession>) {
                        contents.sessions.erase(change.client_id);
                        contents.queues.erase(change.client_id);
                        contents.incoming_qos2.erase(change.client_id);
                    } else if constexpr (std::is_same_v<T, WriteBatch::PutQueued>) {
                        contents.queues[change.client_id][change.seq] =
                            decode_queued_value(change.seq, change.encoded(scratch));
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseQueued>) {
                        auto it = contents.queues.find(change.client_id);
                        if (it != contents.queues.end()) {
                            it->second.erase(change.seq);
                            if (it->second.empty()) {
                                contents.queues.erase(it);
                            }
                        }
                    } else if constexpr (std::is_same_v<T, WriteBatch::PutIncomingQos2>) {
                        contents.incoming_qos2[change.client_id].insert(change.packet_id);
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseIncomingQos2>) {
                        auto it = contents.incoming_qos2.find(change.client_id);
                        if (it != contents.incoming_qos2.end()) {
                            it->second.erase(change.packet_id);
                            if (it->second.empty()) {
                                contents.incoming_qos2.erase(it);
                            }
                        }
                    } else if constexpr (std::is_same_v<T, WriteBatch::AppendHistory>) {
                        const std::string& topic = change.entry.message.topic;
                        const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
                        if (policy == nullptr) {
                            return;  // no policy: no history for this topic
                        }
                        auto& entries = contents.history[topic];
                        entries[change.entry.seq] = change.entry;
                        trim_history(entries, *policy, now, contents.history_trimmed[topic]);
                        if (entries.empty()) {
                            contents.history.erase(topic);
                        }
                    }
                },
                op);
        }
    }
}

LoadSummary MemoryStore::load(LoadVisitor& visitor) {
    auto started = std::chrono::steady_clock::now();
    UnixMillis now = unix_now_ms();
    LoadSummary summary;
    std::vector<MessageRecord> retained;
    std::vector<LoadedSession> sessions;
    {
        std::unique_lock lock(_mutex);
        Contents& contents = *_contents;
        _epoch += 1;
        for (auto it = contents.retained.begin(); it != contents.retained.end();) {
            if (message_expired(it->second, now)) {
                contents.retained_bytes -= retained_size(it->second);
                it = contents.retained.erase(it);
                summary.expired_removed += 1;
            } else {
                retained.push_back(it->second);
                ++it;
            }
        }
        sessions = load_sessions(now, summary);
        // Queue entries and QoS 2 ids of sessions that no longer exist are orphans.
        std::erase_if(contents.queues, [&](const auto& item) {
            return !contents.sessions.contains(item.first) || item.second.empty();
        });
        std::erase_if(contents.incoming_qos2,
                      [&](const auto& item) { return !contents.sessions.contains(item.first); });
        summary.history = load_history(now);
    }
    summary.retained = retained.size();
    summary.sessions = sessions.size();
    for (MessageRecord& message : retained) {
        visitor.retained(std::move(message));
    }
    for (LoadedSession& loaded : sessions) {
        visitor.session(SessionRecord(loaded.session));
    }
    for (LoadedSession& loaded : sessions) {
        for (QueuedRecord& entry : loaded.queue) {
            summary.queued += 1;
            visitor.queued(loaded.session.client_id, std::move(entry));
        }
        for (uint16_t packet_id : loaded.incoming_qos2) {
            visitor.incoming_qos2(loaded.session.client_id, packet_id);
        }
    }
    summary.milliseconds =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count());
    return summary;
}

// Applies the session and message expiry rules (caller holds the lock); returns what survives.
std::vector<MemoryStore::LoadedSession> MemoryStore::load_sessions(UnixMillis now,
                                                                   LoadSummary& summary) {
    Contents& contents = *_contents;
    std::vector<LoadedSession> sessions;
    for (auto it = contents.sessions.begin(); it != contents.sessions.end();) {
        SessionRecord& session = it->second;
        if (session.disconnected_at == 0) {
            session.disconnected_at = now;  // connected when the broker stopped
        }
        if (session_expired(session, now)) {
            contents.queues.erase(session.client_id);
            contents.incoming_qos2.erase(session.client_id);
            it = contents.sessions.erase(it);
            summary.expired_removed += 1;
            continue;
        }
        LoadedSession loaded{session, {}, {}};
        auto queue = contents.queues.find(session.client_id);
        if (queue != contents.queues.end()) {
            for (auto entry = queue->second.begin(); entry != queue->second.end();) {
                if (queued_expired(entry->second, now)) {
                    entry = queue->second.erase(entry);
                    summary.expired_removed += 1;
                } else {
                    loaded.queue.push_back(entry->second);
                    ++entry;
                }
            }
        }
        auto incoming = contents.incoming_qos2.find(session.client_id);
        if (incoming != contents.incoming_qos2.end()) {
            loaded.incoming_qos2.assign(incoming->second.begin(), incoming->second.end());
        }
        sessions.push_back(std::move(loaded));
        ++it;
    }
    return sessions;
}

// Applies the history policies to every topic (caller holds the lock); returns the entries left.
uint64_t MemoryStore::load_history(UnixMillis now) {
    uint64_t kept = 0;
    uint64_t largest_seq = 0;
    auto& history = _contents->history;
    for (auto it = history.begin(); it != history.end();) {
        auto& entries = it->second;
        const HistoryPolicy* policy = history_policy_for(_settings.history, it->first);
        if (policy == nullptr) {
            it = history.erase(it);
            continue;
        }
        uint64_t& trimmed = _contents->history_trimmed[it->first];
        std::erase_if(entries, [&](const auto& item) {
            const bool old = history_too_old(*policy, item.second.timestamp, now);
            trimmed = old ? std::max(trimmed, item.first) : trimmed;
            return old;
        });
        std::size_t excess = history_excess(*policy, entries.size());
        for (std::size_t index = 0; index < excess; ++index) {
            trimmed = std::max(trimmed, entries.begin()->first);
            entries.erase(entries.begin());
        }
        if (entries.empty()) {
            it = history.erase(it);
            continue;
        }
        kept += entries.size();
        largest_seq = std::max(largest_seq, entries.rbegin()->first);
        ++it;
    }
    _next_history_seq = largest_seq + 1;
    return kept;
}

std::vector<HistoryRecord> MemoryStore::read_history(std::string_view topic, uint64_t after_seq,
                                                     std::size_t limit) {
    UnixMillis now = unix_now_ms();
    const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
    std::vector<HistoryRecord> found;
    std::shared_lock lock(_mutex);
    auto it = _contents->history.find(std::string(topic));
    if (it == _contents->history.end()) {
        return found;
    }
    for (auto entry = it->second.upper_bound(after_seq);
         entry != it->second.end() && found.size() < limit; ++entry) {
        const HistoryRecord& record = entry->second;
        if ((policy != nullptr && history_too_old(*policy, record.timestamp, now)) ||
            message_expired(record.message, now)) {
            continue;
        }
        found.push_back(record);
    }
    return found;
}

std::vector<std::string> MemoryStore::history_topics(std::string_view filter) {
    std::vector<std::string> topics;
    std::shared_lock lock(_mutex);
    for (const auto& [topic, entries] : _contents->history) {
        if (core::topic_matches(filter, topic)) {
            topics.push_back(topic);
        }
    }
    for (const auto& [topic, seq] : _contents->history_trimmed) {
        if (seq != 0 && !_contents->history.contains(topic) && core::topic_matches(filter, topic)) {
            topics.push_back(topic);
        }
    }
    std::sort(topics.begin(), topics.end());
    return topics;
}

uint64_t MemoryStore::history_trimmed_through(std::string_view topic) {
    UnixMillis now = unix_now_ms();
    const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
    std::shared_lock lock(_mutex);
    uint64_t trimmed = 0;
    if (auto it = _contents->history_trimmed.find(topic); it != _contents->history_trimmed.end()) {
        trimmed = it->second;
    }
    auto it = _contents->history.find(std::string(topic));
    if (policy != nullptr && it != _contents->history.end()) {
        for (const auto& [seq, record] : it->second) {
            if (!history_too_old(*policy, record.timestamp, now)) {
                break;  // entries are in publish order: the rest are younger
            }
            trimmed = std::max(trimmed, seq);
        }
    }
    return trimmed;
}

StoreStats MemoryStore::stats() const {
    StoreStats stats = _queue.stats();
    std::shared_lock lock(_mutex);
    stats.retained_messages = _contents->retained.size();
    stats.retained_bytes = _contents->retained_bytes;
    return stats;
}

std::unique_ptr<Store> make_memory_store(const StorageSettings& settings) {
    return std::make_unique<MemoryStore>(settings);
}

}  // namespace tern::storage
