// A token bucket on the loop's millisecond clock: the rate limiter behind the abuse limits.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/message.hpp"

namespace tern::net {

// Holds up to `burst` tokens and gains `rate` tokens per second. The rate and burst are passed
// to each call rather than stored, so that the thousands of buckets of one limit (one per
// connection or per address) cost 16 bytes each. A bucket starts full. Not thread-safe.
class TokenBucket {
  public:
    TokenBucket() = default;
    explicit TokenBucket(double burst, core::MonoMillis now) : _tokens(burst), _last(now) {}

    // Takes `cost` tokens when the bucket can pay for it. A cost larger than the burst passes
    // once the bucket is full and leaves it in debt, so that one large message is slowed down,
    // not refused forever. Returns false, taking nothing, otherwise.
    bool try_take(double cost, double rate, double burst, core::MonoMillis now) noexcept {
        refill(rate, burst, now);
        if (_tokens < std::min(cost, burst)) {
            return false;
        }
        _tokens -= cost;
        return true;
    }

    // Whether the bucket holds `burst` tokens at `now` (an idle bucket that can be forgotten:
    // a new full one behaves the same).
    bool full(double rate, double burst, core::MonoMillis now) const noexcept {
        return tokens_at(rate, burst, now) >= burst;
    }

    double tokens_at(double rate, double burst, core::MonoMillis now) const noexcept {
        const double elapsed_s = now > _last ? static_cast<double>(now - _last) / 1000.0 : 0.0;
        return std::min(burst, _tokens + elapsed_s * rate);
    }

  private:
    void refill(double rate, double burst, core::MonoMillis now) noexcept {
        _tokens = tokens_at(rate, burst, now);
        _last = std::max(_last, now);
    }

    double _tokens = 0;
    core::MonoMillis _last = 0;
};

}  // namespace tern::net
