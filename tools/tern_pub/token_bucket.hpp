// A token bucket that paces tern-pub --rate: one token per message, refilled at a fixed rate.
#pragma once

#include <chrono>

namespace tern::tools {

class TokenBucket {
  public:
    using Clock = std::chrono::steady_clock;

    // rate: tokens added per second (> 0); burst: most tokens saved up (>= 1). Starts full.
    TokenBucket(double rate, double burst, Clock::time_point now);

    // Takes one token and returns how long the caller must wait before using it: zero when a
    // token was available at now. Tokens taken early are owed, so calls that arrive faster
    // than the rate get increasing waits and the long-run rate never exceeds rate.
    Clock::duration take(Clock::time_point now);

  private:
    double _rate;
    double _burst;
    double _tokens;
    Clock::time_point _last;
};

}  // namespace tern::tools
