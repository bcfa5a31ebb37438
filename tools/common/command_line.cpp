// CLI11 set-up and the error-to-exit-code mapping of both tools.
#include "command_line.hpp"

#include <mqtt/exception.h>
#include <openssl/crypto.h>

#include <iostream>

#include "tool_error.hpp"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

namespace tern::tools {
namespace {

// CLI11's usage line is "tool [OPTIONS]"; ours shows which flags go together.
class ToolFormatter : public CLI::Formatter {
  public:
    explicit ToolFormatter(std::string synopsis) : _synopsis(std::move(synopsis)) {}

    std::string make_usage(const CLI::App*, std::string) const override {
        return "Usage: " + _synopsis + "\n";
    }

  private:
    std::string _synopsis;
};

}  // namespace

void configure_app(CLI::App& app, const ToolInfo& info, const std::string& footer) {
    app.set_help_flag("--help", "Print this help and exit");
    app.set_version_flag("--version", info.name + " " + TERN_VERSION + " (Eclipse Paho MQTT C++)");
    auto formatter = std::make_shared<ToolFormatter>(info.synopsis);
    formatter->column_width(34);
    app.formatter(formatter);
    app.footer(footer);
}

std::optional<int> parse_command_line(CLI::App& app, const ToolInfo& info, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return kExitOk;
    } catch (const CLI::CallForVersion& version) {
        std::cout << version.what() << '\n';
        return kExitOk;
    } catch (const CLI::ParseError& error) {
        return report_usage_error(info, error.what());
    }
    return std::nullopt;
}

void prepare_process() {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

void print_error(const ToolInfo& info, const std::string& message) {
    std::cerr << info.name << ": " << message << std::endl;
}

int report_usage_error(const ToolInfo& info, const std::string& message) {
    print_error(info, message);
    std::cerr << "Usage: " << info.synopsis << "\nRun '" << info.name << " --help' for all options."
              << std::endl;
    return kExitUsage;
}

int run_guarded(const ToolInfo& info, const bool& quiet, const std::function<int()>& body) {
    try {
        return body();
    } catch (const UsageError& error) {
        return report_usage_error(info, error.what());
    } catch (const ToolError& error) {
        if (!quiet && error.what()[0] != '\0') {
            print_error(info, error.what());
        }
        return error.exit_code();
    } catch (const mqtt::exception& error) {
        if (!quiet) {
            print_error(info, error.what());
        }
        return kExitFailure;
    } catch (const std::exception& error) {
        if (!quiet) {
            print_error(info, error.what());
        }
        return kExitFailure;
    }
}

}  // namespace tern::tools
