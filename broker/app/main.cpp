// tern: loads the configuration, starts the broker, and shuts it down gracefully on a signal.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "allocator.hpp"
#include "bridge.hpp"
#include "command_line.hpp"
#include "config_loader.hpp"
#include "net/broker.hpp"
#include "net/tls_context.hpp"
#include "storage/store.hpp"

namespace {

// Blocks the termination signals in every thread, then waits for one on a dedicated thread:
// no async-signal-safety concerns and no handler touching the broker.
int wait_for_signal(const sigset_t& signals) {
    int received = 0;
    sigwait(&signals, &received);
    return received;
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = tern::app::parse_command_line(argc, argv);
    if (auto* exit_request = std::get_if<tern::app::CommandLineExit>(&parsed)) {
        return exit_request->code;
    }
    const auto& command_line = std::get<tern::app::CommandLine>(parsed);
    tern::core::BrokerSettings settings;
    try {
        settings = tern::app::resolve_settings(command_line);
        tern::app::check_anonymous_access(settings,
                                          command_line.config_path.value_or("command line"));
    } catch (const tern::app::ConfigError& error) {
        std::cerr << error.what() << "\n";
        return 2;
    }
    if (command_line.repair) {
        try {
            tern::storage::repair_rocksdb_store(settings.data_dir);
        } catch (const std::exception& error) {
            std::cerr << "tern: repair failed: " << error.what() << "\n";
            return 1;
        }
        std::cerr << "tern: repaired the database in " << settings.data_dir << "\n";
        return 0;
    }
    auto logger = spdlog::stderr_color_mt("tern");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(settings.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    tern::net::Broker broker(settings);
    try {
        broker.load_auth();
    } catch (const tern::core::AuthFileError& error) {
        std::cerr << error.what() << "\n";
        return 2;
    }
    try {
        // Certificates and keys are configuration: a bad one is exit code 2, naming the file.
        broker.load_tls();
    } catch (const tern::net::TlsError& error) {
        std::cerr << error.what() << "\n";
        return 2;
    }
    // The bridge (HTTP for web clients) binds before the broker starts, so that a bad address
    // stops start-up like a bad MQTT listener; it accepts once the loops run.
    std::unique_ptr<tern::bridge::Bridge> bridge;
    if (settings.bridge.enabled) {
        bridge = std::make_unique<tern::bridge::Bridge>(broker, settings.bridge);
        // Its /api/presence, presence streams and online gauge read the presence records; without
        // a bridge nobody does, and an idle client costs no record.
        broker.presence().enable();
    }
    try {
        if (bridge) {
            bridge->open();
        }
        broker.start();
        if (bridge) {
            bridge->start();
        }
        // After start-up, whose configuration errors must stay the only output.
        spdlog::info("memory allocator: {}", tern::app::allocator_description());
    } catch (const tern::net::TlsError& error) {
        // The bridge's certificate or key (bridge.tls): configuration, like the listeners'.
        std::cerr << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        // A listener that cannot open, or a database that cannot be read: say which and why.
        spdlog::critical("{}", error.what());
        return 1;
    }
    for (;;) {
        const int received = wait_for_signal(signals);
        if (received == SIGHUP) {
            broker.reload_auth();
            broker.reload_tls();
            if (bridge) {
                bridge->reload_tls();
            }
            continue;
        }
        spdlog::info("{}: shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    broker.request_stop();
    broker.wait();
    spdlog::info("stopped");
    return 0;
}
