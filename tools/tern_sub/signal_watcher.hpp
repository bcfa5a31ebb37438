// Turns SIGINT/SIGTERM into a call on a normal thread, so tern-sub can disconnect cleanly.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace tern::tools {

class SignalWatcher {
  public:
    // Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread (and every thread it starts
    // later, so construct this before the Paho client) and starts a thread that calls
    // on_signal for each SIGINT or SIGTERM.
    explicit SignalWatcher(std::function<void()> on_signal);

    // Stops the watcher thread (by SIGUSR1) and joins it.
    ~SignalWatcher();

    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

  private:
    void run();

    std::function<void()> _on_signal;
    std::atomic<bool> _stopping{false};
    std::thread _thread;
};

}  // namespace tern::tools
