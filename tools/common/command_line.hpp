// Command-line plumbing shared by the tools: --help/--version, usage errors with exit code 2,
// and turning failures into one line on stderr plus an exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

namespace tern::tools {

struct ToolInfo {
    std::string name;      // "tern-pub"
    std::string synopsis;  // the usage line(s) printed after a bad argument and atop --help
};

// Sets --help (not -h: that is the host, as in mosquitto), --version and a footer that ends
// with the exit status table.
void configure_app(CLI::App& app, const ToolInfo& info, const std::string& footer);

// Parses argv. Returns an exit code when the process should end now: 0 after --help or
// --version, 2 after a bad argument (message and synopsis on stderr); nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, const ToolInfo& info, int argc, char** argv);

// Prints "name: message", the synopsis and a pointer to --help on stderr; returns 2.
int report_usage_error(const ToolInfo& info, const std::string& message);

// Runs body and maps failures to exit codes: ToolError -> its code (UsageError also prints the
// synopsis), mqtt::exception and other exceptions -> 1. quiet suppresses runtime messages
// but never usage errors.
int run_guarded(const ToolInfo& info, const bool& quiet, const std::function<int()>& body);

// Process set-up every tool does first in main(): keeps OpenSSL from freeing its global state
// in an atexit handler, because Paho's network threads may still be closing a TLS connection
// while the process exits (seen as rare crashes at exit under ASan).
void prepare_process();

// Prints "name: message" on stderr.
void print_error(const ToolInfo& info, const std::string& message);

}  // namespace tern::tools
