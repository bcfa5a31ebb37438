// Mutex and condition variable queue between Paho callbacks and the tern-sub main loop.
#include "event_queue.hpp"

namespace tern::tools {

void EventQueue::push(SubEvent event) {
    {
        std::lock_guard lock(_mutex);
        _events.push_back(std::move(event));
    }
    _changed.notify_one();
}

void EventQueue::request_stop() {
    {
        std::lock_guard lock(_mutex);
        _stop = true;
    }
    _changed.notify_all();
}

bool EventQueue::stop_requested() const {
    std::lock_guard lock(_mutex);
    return _stop;
}

std::optional<SubEvent> EventQueue::pop(Deadline deadline) {
    std::unique_lock lock(_mutex);
    auto ready = [this] { return _stop || !_events.empty(); };
    if (deadline) {
        if (!_changed.wait_until(lock, *deadline, ready)) {
            return std::nullopt;
        }
    } else {
        _changed.wait(lock, ready);
    }
    if (_stop) {
        return std::nullopt;
    }
    SubEvent event = std::move(_events.front());
    _events.pop_front();
    return event;
}

bool EventQueue::sleep_until(std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(_mutex);
    _changed.wait_until(lock, until, [this] { return _stop; });
    return !_stop;
}

}  // namespace tern::tools
