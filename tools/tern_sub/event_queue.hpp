// The hand-off from Paho's callback thread (and the signal thread) to tern-sub's main loop.
#pragma once

#include <mqtt/message.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace tern::tools {

struct SubEvent {
    enum class Kind { kMessage, kConnectionLost };
    Kind kind = Kind::kMessage;
    mqtt::const_message_ptr message;                 // kMessage
    std::chrono::system_clock::time_point received;  // kMessage
    std::string cause;                               // kConnectionLost: Paho's text
};

// Thread-safe FIFO of events plus a sticky stop flag. Any thread may push or request a stop;
// one thread (main) pops.
class EventQueue {
  public:
    using Deadline = std::optional<std::chrono::steady_clock::time_point>;

    void push(SubEvent event);

    // Makes every current and future wait return at once; pending events are dropped.
    void request_stop();

    bool stop_requested() const;

    // The next event; nullopt when stop was requested or the deadline passed first.
    std::optional<SubEvent> pop(Deadline deadline);

    // Sleeps until the deadline or a stop request; returns false if stop was requested.
    bool sleep_until(std::chrono::steady_clock::time_point until);

  private:
    mutable std::mutex _mutex;
    std::condition_variable _changed;
    std::deque<SubEvent> _events;
    bool _stop = false;
};

}  // namespace tern::tools
