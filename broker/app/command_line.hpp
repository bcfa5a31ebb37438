// The tern command line: options that pick the configuration file and override its settings.
#pragma once

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/settings.hpp"

namespace tern::app {

// What the command line asks for. Every field that is set overrides the configuration file.
struct CommandLine {
    std::optional<std::string> config_path;  // -c/--config FILE
    std::vector<core::ListenerSettings>
        listeners;                           // --listen, repeatable; replaces the file's list
    std::optional<uint32_t> workers;         // --workers N
    std::optional<std::string> data_dir;     // --data-dir DIR
    std::optional<std::string> log_level;    // --log-level LEVEL
    std::optional<uint32_t> sys_interval_s;  // --sys-interval SECONDS
    bool repair = false;                     // --repair: repair the database, then exit
};

// The process should exit without running the broker: help or version was printed (code 0), or
// the arguments were bad and a message plus the usage went to the error stream (code 2).
struct CommandLineExit {
    int code = 0;
};

// Parses argv (argv[0] is the program name and is ignored). Help and version text go to `out`,
// errors and usage to `err`. Never throws for user mistakes.
std::variant<CommandLine, CommandLineExit> parse_command_line(int argc, char** argv,
                                                              std::ostream& out = std::cout,
                                                              std::ostream& err = std::cerr);

// Replaces in `settings` whatever `command_line` sets. Values were validated by
// parse_command_line with the same ranges as the configuration file.
void apply_overrides(core::BrokerSettings& settings, const CommandLine& command_line);

// The settings to run with: the configuration file if one was given (else the built-in defaults)
// with the command-line overrides applied. Throws ConfigError for a bad file.
core::BrokerSettings resolve_settings(const CommandLine& command_line);

// The broker's version, "MAJOR.MINOR.PATCH" from the CMake project.
const char* tern_version() noexcept;

}  // namespace tern::app
