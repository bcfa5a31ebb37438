// sigwait(3)-based signal thread: no async-signal-safety constraints on what the handler does.
#include "signal_watcher.hpp"

#include <pthread.h>
#include <signal.h>

namespace tern::tools {
namespace {

sigset_t watched_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
}

}  // namespace

SignalWatcher::SignalWatcher(std::function<void()> on_signal) : _on_signal(std::move(on_signal)) {
    sigset_t set = watched_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    _thread = std::thread([this] { run(); });
}

SignalWatcher::~SignalWatcher() {
    _stopping = true;
    pthread_kill(_thread.native_handle(), SIGUSR1);
    _thread.join();
}

void SignalWatcher::run() {
    sigset_t set = watched_signals();
    while (true) {
        int signal_number = 0;
        if (sigwait(&set, &signal_number) != 0) {
            continue;
        }
        if (signal_number == SIGUSR1) {
            // Only our destructor's SIGUSR1 ends the thread; a stray one is ignored.
            if (_stopping) {
                return;
            }
            continue;
        }
        _on_signal();
    }
}

}  // namespace tern::tools
