// Token bucket arithmetic in seconds as doubles; tokens may go negative (a debt) to queue waits.
#include "token_bucket.hpp"

#include <algorithm>

namespace tern::tools {

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now)
    : _rate(rate), _burst(std::max(burst, 1.0)), _tokens(_burst), _last(now) {}

TokenBucket::Clock::duration TokenBucket::take(Clock::time_point now) {
    if (now > _last) {
        double elapsed = std::chrono::duration<double>(now - _last).count();
        _tokens = std::min(_burst, _tokens + elapsed * _rate);
        _last = now;
    }
    _tokens -= 1.0;
    if (_tokens >= 0.0) {
        return Clock::duration::zero();
    }
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-_tokens / _rate));
}

}  // namespace tern::tools
