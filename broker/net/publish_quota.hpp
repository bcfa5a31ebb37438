// A connection's publish quota: limits.max_publish_rate and limits.max_publish_bytes_rate.
#pragma once

#include <cstdint>

#include "core/message.hpp"
#include "token_bucket.hpp"

namespace tern::net {

// Two token buckets, each with a burst of one second's worth. Allocated only for connections of
// a broker with a publish rate limit, at their first PUBLISH.
class PublishQuota {
  public:
    // Rates per second, 0 = unlimited.
    PublishQuota(uint64_t messages_per_s, uint64_t bytes_per_s, core::MonoMillis now)
        : _messages(static_cast<double>(messages_per_s), now),
          _bytes(static_cast<double>(bytes_per_s), now) {}

    // Takes one message of `bytes` from both buckets when both can pay; takes nothing and
    // returns false otherwise.
    bool try_take(uint64_t bytes, uint64_t messages_per_s, uint64_t bytes_per_s,
                  core::MonoMillis now) noexcept {
        const double message_rate = static_cast<double>(messages_per_s);
        const double byte_rate = static_cast<double>(bytes_per_s);
        const double cost = static_cast<double>(bytes);
        if (messages_per_s != 0 && _messages.tokens_at(message_rate, message_rate, now) < 1.0) {
            return false;
        }
        if (bytes_per_s != 0 && !_bytes.try_take(cost, byte_rate, byte_rate, now)) {
            return false;
        }
        if (messages_per_s != 0) {
            _messages.try_take(1.0, message_rate, message_rate, now);
        }
        return true;
    }

    // Counts a refusal; true when it should be logged (at most once per 10 s per connection),
    // with the refusals since the previous line in `refused`.
    bool count_refusal(core::MonoMillis now, uint64_t& refused) noexcept {
        ++_refused;
        if (_logged_at != 0 && now - _logged_at < kLogIntervalMs) {
            return false;
        }
        _logged_at = now;
        refused = _refused;
        _refused = 0;
        return true;
    }

  private:
    static constexpr core::MonoMillis kLogIntervalMs = 10'000;

    TokenBucket _messages;
    TokenBucket _bytes;
    core::MonoMillis _logged_at = 0;
    uint64_t _refused = 0;
};

}  // namespace tern::net
