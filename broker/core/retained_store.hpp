// Retained messages indexed by topic for wildcard lookups. In memory; storage makes it durable.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "message.hpp"

namespace tern::core {

// Thread-safe: lookups take a shared lock, changes an exclusive one.
class RetainedStore {
  public:
    RetainedStore();
    ~RetainedStore();
    RetainedStore(const RetainedStore&) = delete;
    RetainedStore& operator=(const RetainedStore&) = delete;

    // Stores `message` as the retained message of its topic, replacing any previous one. A message
    // with an empty payload removes the retained message instead [MQTT-3.3.1-6, 3.3.1-7].
    void set(MessagePtr message);

    // Removes the retained message of `topic`, if any.
    void erase(std::string_view topic);

    // Appends every unexpired retained message matching `filter` (a plain filter, not $share) to
    // `out`. '$' topics are not matched by a leading wildcard [MQTT-4.7.2-1].
    void match(std::string_view filter, MonoMillis now, std::vector<MessagePtr>& out) const;

    // Drops expired messages; returns how many were dropped.
    std::size_t purge_expired(MonoMillis now);

    std::size_t size() const;
    // True when `topic` has a retained message.
    bool contains(std::string_view topic) const;
    // Bytes of topics and payloads held.
    uint64_t bytes() const;

    // Number of tree nodes besides the root, for metrics and for checking that removals prune.
    std::size_t node_count() const;

  private:
    struct Node;
    mutable std::shared_mutex _mutex;
    std::unique_ptr<Node> _root;
    void remember(const Message& message) noexcept;
    void forget(const Message& message) noexcept;

    std::size_t _count = 0;
    uint64_t _bytes = 0;
    std::size_t _expiring = 0;  // messages with an expiry: purge_expired() walks only if any
};

}  // namespace tern::core
