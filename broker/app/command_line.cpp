// Command-line parsing with CLI11, validated with the same rules as the configuration file.
#include "app/command_line.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <string_view>

#include "app/config_loader.hpp"

#ifndef TERN_VERSION
#error "TERN_VERSION must be defined by the build (the CMake project version)"
#endif

namespace tern::app {

namespace {

constexpr std::string_view kUsage =
    "Usage: tern [-c FILE] [--listen HOST:PORT]... [--workers N] [--data-dir DIR]\n"
    "            [--log-level trace|debug|info|warn|error|off] [--sys-interval SECONDS]\n"
    "            [--repair] [--version] [--help]\n";

// Parses "HOST:PORT" ("[IPV6]:PORT" for IPv6) into `listener`. Returns "" on success, else the
// reason, quoting the argument.
std::string parse_listen(std::string_view text, core::ListenerSettings& listener) {
    const std::string quoted = "'" + std::string(text) + "'";
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) {
            return quoted + ": missing ']' after the IPv6 address";
        }
        host = text.substr(1, close - 1);
        if (host.find(':') == std::string_view::npos) {
            return quoted + ": brackets are only for IPv6 addresses";
        }
        if (close + 1 >= text.size() || text[close + 1] != ':') {
            return quoted + ": expected HOST:PORT, e.g. 127.0.0.1:1883 or [::1]:1883";
        }
        port = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return quoted + ": expected HOST:PORT, e.g. 127.0.0.1:1883 or [::1]:1883";
        }
        host = text.substr(0, colon);
        if (host.find(':') != std::string_view::npos) {
            return quoted + ": write an IPv6 address in brackets, e.g. [::1]:1883";
        }
        port = text.substr(colon + 1);
    }
    if (host.empty()) {
        return quoted + ": missing host before ':PORT'";
    }
    if (!is_valid_listener_address(host)) {
        return quoted + ": '" + std::string(host) +
               "' is not an IPv4 or IPv6 address or 'localhost'";
    }
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535) {
        return quoted + ": port '" + std::string(port) + "' is not a number in 0..65535";
    }
    listener.type = "mqtt";
    listener.address = std::string(host);
    listener.port = static_cast<uint16_t>(value);
    return {};
}

// Parses a decimal integer in min..max. Returns "" on success, else the reason.
std::string parse_integer(std::string_view text, uint32_t min, uint32_t max, uint32_t& out) {
    uint32_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error == std::errc::invalid_argument || end != text.data() + text.size()) {
        return "'" + std::string(text) + "' is not a non-negative integer";
    }
    if (error == std::errc::result_out_of_range || value < min || value > max) {
        return std::string(text) + " is out of range " + std::to_string(min) + ".." +
               std::to_string(max);
    }
    out = value;
    return {};
}

CLI::Validator integer_in(uint32_t min, uint32_t max) {
    return CLI::Validator(
        [min, max](std::string& text) {
            uint32_t ignored = 0;
            return parse_integer(text, min, max, ignored);
        },
        "");
}

const CLI::Validator kListenCheck(
    [](std::string& text) {
        core::ListenerSettings ignored;
        return parse_listen(text, ignored);
    },
    "");

const CLI::Validator kLogLevelCheck(
    [](std::string& text) -> std::string {
        if (is_valid_log_level(text)) {
            return {};
        }
        std::string reason = "'" + text + "' is not one of ";
        for (size_t i = 0; i < kLogLevels.size(); ++i) {
            reason += (i == 0 ? "" : ", ") + std::string(kLogLevels[i]);
        }
        return reason;
    },
    "");

const CLI::Validator kNotEmpty(
    [](std::string& text) -> std::string { return text.empty() ? "must not be empty" : ""; }, "");

// The raw option values; CLI11 has validated them when parsing succeeds.
struct RawOptions {
    std::string config;
    std::vector<std::string> listen;
    std::string workers;
    std::string data_dir;
    std::string log_level;
    std::string sys_interval;
    bool repair = false;
};

void define_options(CLI::App& app, RawOptions& raw) {
    app.set_version_flag("--version", std::string("tern ") + TERN_VERSION,
                         "Print the version and exit");
    app.add_option("-c,--config", raw.config,
                   "Configuration file (TOML); without it the built-in defaults are used")
        ->type_name("FILE");
    // One value per --listen: a bracketed value must not be read as a CLI11 list.
    app.add_option("--listen", raw.listen,
                   "MQTT/TCP listener, repeatable; replaces the file's listeners "
                   "(default 127.0.0.1:1883; IPv6 as [::1]:1883)")
        ->type_name("HOST:PORT")
        ->allow_extra_args(false)
        ->check(kListenCheck);
    app.add_option("--workers", raw.workers,
                   "Worker threads, 0.." + std::to_string(kMaxWorkers) + "; 0 = one per core")
        ->type_name("N")
        ->check(integer_in(0, kMaxWorkers));
    app.add_option("--data-dir", raw.data_dir, "Directory of the persistent data")
        ->type_name("DIR")
        ->check(kNotEmpty);
    app.add_option("--log-level", raw.log_level, "trace, debug, info, warn, error or off")
        ->type_name("LEVEL")
        ->check(kLogLevelCheck);
    app.add_option(
           "--sys-interval", raw.sys_interval,
           "Seconds between $SYS publishes, 0.." + std::to_string(kMaxSysIntervalS) + "; 0 = off")
        ->type_name("SECONDS")
        ->check(integer_in(0, kMaxSysIntervalS));
    app.add_flag("--repair", raw.repair,
                 "Run RocksDB's repair on the data directory, then exit (broker stopped)");
}

// Turns validated raw options into a CommandLine. Throws CLI::ValidationError for a problem
// that needs more than one value to see (a --listen endpoint given twice).
CommandLine build(const CLI::App& app, const RawOptions& raw) {
    CommandLine command_line;
    if (app.count("--config") > 0) {
        command_line.config_path = raw.config;
    }
    command_line.repair = raw.repair;
    for (const std::string& text : raw.listen) {
        core::ListenerSettings listener;
        parse_listen(text, listener);
        for (const core::ListenerSettings& earlier : command_line.listeners) {
            if (same_endpoint(earlier, listener)) {
                throw CLI::ValidationError("--listen",
                                           format_endpoint(listener) + " is given twice");
            }
        }
        command_line.listeners.push_back(std::move(listener));
    }
    uint32_t number = 0;
    if (app.count("--workers") > 0 && parse_integer(raw.workers, 0, kMaxWorkers, number).empty()) {
        command_line.workers = number;
    }
    if (app.count("--data-dir") > 0) {
        command_line.data_dir = raw.data_dir;
    }
    if (app.count("--log-level") > 0) {
        command_line.log_level = raw.log_level;
    }
    if (app.count("--sys-interval") > 0 &&
        parse_integer(raw.sys_interval, 0, kMaxSysIntervalS, number).empty()) {
        command_line.sys_interval_s = number;
    }
    return command_line;
}

}  // namespace

std::variant<CommandLine, CommandLineExit> parse_command_line(int argc, char** argv,
                                                              std::ostream& out,
                                                              std::ostream& err) {
    CLI::App app("Tern, an MQTT 3.1/3.1.1/5.0 broker.", "tern");
    RawOptions raw;
    define_options(app, raw);
    try {
        app.parse(argc, argv);
        return build(app, raw);
    } catch (const CLI::CallForHelp&) {
        out << app.help();
        return CommandLineExit{0};
    } catch (const CLI::CallForVersion& version) {
        out << version.what() << "\n";
        return CommandLineExit{0};
    } catch (const CLI::Error& error) {
        err << "tern: " << error.what() << "\n"
            << kUsage << "Run 'tern --help' for more information.\n";
        return CommandLineExit{2};
    }
}

void apply_overrides(core::BrokerSettings& settings, const CommandLine& command_line) {
    if (!command_line.listeners.empty()) {
        settings.listeners = command_line.listeners;
    }
    if (command_line.workers) {
        settings.workers = *command_line.workers;
    }
    if (command_line.data_dir) {
        settings.data_dir = *command_line.data_dir;
    }
    if (command_line.log_level) {
        settings.log_level = *command_line.log_level;
    }
    if (command_line.sys_interval_s) {
        settings.sys_interval_s = *command_line.sys_interval_s;
    }
}

core::BrokerSettings resolve_settings(const CommandLine& command_line) {
    core::BrokerSettings settings;
    if (command_line.config_path) {
        settings = load_config_file(*command_line.config_path);
    }
    apply_overrides(settings, command_line);
    return settings;
}

const char* tern_version() noexcept {
    return TERN_VERSION;
}

}  // namespace tern::app
