// Tests of the tern command line: parsing, overrides of the file's settings, and bad arguments.
#include "app/command_line.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "app/config_loader.hpp"

using tern::app::apply_overrides;
using tern::app::CommandLine;
using tern::app::CommandLineExit;
using tern::app::parse_command_line;
using tern::core::BrokerSettings;

namespace {

constexpr std::string_view kUsageTail =
    "Usage: tern [-c FILE] [--listen HOST:PORT]... [--workers N] [--data-dir DIR]\n"
    "            [--log-level trace|debug|info|warn|error|off] [--sys-interval SECONDS]\n"
    "            [--repair] [--version] [--help]\n"
    "Run 'tern --help' for more information.\n";

// Runs parse_command_line on "tern" + `args`, capturing both output streams.
struct Run {
    explicit Run(std::initializer_list<std::string> args) : storage{"tern"} {
        storage.insert(storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& arg : storage) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        result = parse_command_line(static_cast<int>(storage.size()), argv.data(), out, err);
    }

    const CommandLine& command_line() const {
        REQUIRE(std::holds_alternative<CommandLine>(result));
        return std::get<CommandLine>(result);
    }
    int exit_code() const {
        REQUIRE(std::holds_alternative<CommandLineExit>(result));
        return std::get<CommandLineExit>(result).code;
    }

    std::vector<std::string> storage;
    std::ostringstream out;
    std::ostringstream err;
    std::variant<CommandLine, CommandLineExit> result;
};

// The first line printed for bad arguments, after checking the rest is the usage and the exit
// code is 2.
std::string bad_arguments(std::initializer_list<std::string> args) {
    Run run(args);
    CHECK(run.exit_code() == 2);
    CHECK(run.out.str().empty());
    const std::string err = run.err.str();
    const size_t newline = err.find('\n');
    REQUIRE(newline != std::string::npos);
    CHECK(err.substr(newline + 1) == kUsageTail);
    return err.substr(0, newline);
}

}  // namespace

TEST_CASE("no arguments: nothing to override, built-in defaults") {
    Run run({});
    const CommandLine& command_line = run.command_line();
    CHECK_FALSE(command_line.config_path.has_value());
    CHECK(command_line.listeners.empty());
    CHECK_FALSE(command_line.workers.has_value());
    CHECK_FALSE(command_line.data_dir.has_value());
    CHECK_FALSE(command_line.log_level.has_value());
    CHECK_FALSE(command_line.sys_interval_s.has_value());
    CHECK(run.out.str().empty());
    CHECK(run.err.str().empty());

    const BrokerSettings settings = tern::app::resolve_settings(command_line);
    REQUIRE(settings.listeners.size() == 1);
    CHECK(settings.listeners[0].address == "127.0.0.1");
    CHECK(settings.listeners[0].port == 1883);
    CHECK(settings.workers == 0);
    CHECK(settings.log_level == "info");
}

TEST_CASE("--repair asks for a database repair with the chosen data directory") {
    CHECK_FALSE(Run({}).command_line().repair);
    Run run({"--repair", "--data-dir", "/tmp/x"});
    CHECK(run.command_line().repair);
    CHECK(run.command_line().data_dir == "/tmp/x");
}

TEST_CASE("every option is parsed") {
    Run run({"-c", "/etc/tern.toml", "--listen", "0.0.0.0:1884", "--listen", "[::1]:0", "--listen",
             "localhost:65535", "--workers", "256", "--data-dir", "/var/lib/tern", "--log-level",
             "debug", "--sys-interval", "86400"});
    const CommandLine& command_line = run.command_line();
    CHECK(command_line.config_path == "/etc/tern.toml");
    REQUIRE(command_line.listeners.size() == 3);
    CHECK(command_line.listeners[0].type == "mqtt");
    CHECK(command_line.listeners[0].address == "0.0.0.0");
    CHECK(command_line.listeners[0].port == 1884);
    CHECK(command_line.listeners[1].address == "::1");
    CHECK(command_line.listeners[1].port == 0);
    CHECK(command_line.listeners[2].address == "localhost");
    CHECK(command_line.listeners[2].port == 65535);
    CHECK(command_line.workers == 256u);
    CHECK(command_line.data_dir == "/var/lib/tern");
    CHECK(command_line.log_level == "debug");
    CHECK(command_line.sys_interval_s == 86400u);
}

TEST_CASE("long option forms with '='") {
    Run run({"--config=a.toml", "--workers=0", "--sys-interval=0", "--listen=[::]:1883"});
    const CommandLine& command_line = run.command_line();
    CHECK(command_line.config_path == "a.toml");
    CHECK(command_line.workers == 0u);
    CHECK(command_line.sys_interval_s == 0u);
    REQUIRE(command_line.listeners.size() == 1);
    CHECK(command_line.listeners[0].address == "::");
}

TEST_CASE("overrides replace the file's values and keep the rest") {
    BrokerSettings settings = tern::app::load_config_string(
        "[broker]\nworkers = 2\nlog_level = \"warn\"\nsys_interval = 5\nmaximum_qos = 1\n"
        "[[listeners]]\nport = 2000\n[[listeners]]\nport = 2001\n"
        "[storage]\ndata_dir = \"/file/dir\"\n",
        "t.toml");
    Run run({"--listen", "127.0.0.1:3000", "--workers", "4", "--log-level", "error",
             "--sys-interval", "0", "--data-dir", "/cli/dir"});
    apply_overrides(settings, run.command_line());
    REQUIRE(settings.listeners.size() == 1);
    CHECK(settings.listeners[0].address == "127.0.0.1");
    CHECK(settings.listeners[0].port == 3000);
    CHECK(settings.workers == 4);
    CHECK(settings.log_level == "error");
    CHECK(settings.sys_interval_s == 0);
    CHECK(settings.data_dir == "/cli/dir");
    CHECK(settings.maximum_qos == 1);  // not on the command line: the file's value stays
}

TEST_CASE("without --listen the file's listeners stay") {
    BrokerSettings settings = tern::app::load_config_string(
        "[[listeners]]\nport = 2000\n[[listeners]]\nport = 2001\n", "t.toml");
    Run run({"--workers", "1"});
    apply_overrides(settings, run.command_line());
    REQUIRE(settings.listeners.size() == 2);
    CHECK(settings.listeners[0].port == 2000);
    CHECK(settings.listeners[1].port == 2001);
    CHECK(settings.workers == 1);
}

TEST_CASE("resolve_settings loads -c FILE then applies the overrides") {
    Run run({"-c", std::string(TERN_SOURCE_DIR) + "/configs/tern.toml", "--workers", "3"});
    const BrokerSettings settings = tern::app::resolve_settings(run.command_line());
    CHECK(settings.workers == 3);
    CHECK(settings.limits.max_packet_size == 1048576);
    REQUIRE(settings.listeners.size() == 1);
    CHECK(settings.listeners[0].port == 1883);

    Run missing({"-c", "/nonexistent/tern.toml"});
    CHECK_THROWS_WITH_AS(tern::app::resolve_settings(missing.command_line()),
                         "/nonexistent/tern.toml: cannot open file (No such file or directory)",
                         tern::app::ConfigError);
}

TEST_CASE("--help prints the options and exits 0") {
    for (const char* flag : {"--help", "-h"}) {
        Run run({flag});
        CHECK(run.exit_code() == 0);
        CHECK(run.err.str().empty());
        const std::string help = run.out.str();
        for (const char* option : {"--config", "--listen", "--workers", "--data-dir", "--log-level",
                                   "--sys-interval", "--version", "--help"}) {
            INFO("option: " << option);
            CHECK(help.find(option) != std::string::npos);
        }
    }
}

TEST_CASE("--version prints the version and exits 0") {
    const std::string version = tern::app::tern_version();
    CHECK(std::count(version.begin(), version.end(), '.') == 2);
    CHECK(std::isdigit(static_cast<unsigned char>(version.front())));
    Run run({"--version"});
    CHECK(run.exit_code() == 0);
    CHECK(run.out.str() == "tern " + version + "\n");
    CHECK(run.err.str().empty());
}

TEST_CASE("bad --listen values are explained") {
    CHECK(bad_arguments({"--listen", "1883"}) ==
          "tern: --listen: '1883': expected HOST:PORT, e.g. 127.0.0.1:1883 or [::1]:1883");
    CHECK(bad_arguments({"--listen", "::1:1883"}) ==
          "tern: --listen: '::1:1883': write an IPv6 address in brackets, e.g. [::1]:1883");
    CHECK(bad_arguments({"--listen", "[::1]"}) ==
          "tern: --listen: '[::1]': expected HOST:PORT, e.g. 127.0.0.1:1883 or [::1]:1883");
    CHECK(bad_arguments({"--listen", "[::1:1883"}) ==
          "tern: --listen: '[::1:1883': missing ']' after the IPv6 address");
    CHECK(bad_arguments({"--listen", "[127.0.0.1]:1883"}) ==
          "tern: --listen: '[127.0.0.1]:1883': brackets are only for IPv6 addresses");
    CHECK(bad_arguments({"--listen", ":1883"}) ==
          "tern: --listen: ':1883': missing host before ':PORT'");
    CHECK(bad_arguments({"--listen", "example.com:1883"}) ==
          "tern: --listen: 'example.com:1883': 'example.com' is not an IPv4 or IPv6 address or "
          "'localhost'");
    CHECK(bad_arguments({"--listen", "127.0.0.1:65536"}) ==
          "tern: --listen: '127.0.0.1:65536': port '65536' is not a number in 0..65535");
    CHECK(bad_arguments({"--listen", "127.0.0.1:"}) ==
          "tern: --listen: '127.0.0.1:': port '' is not a number in 0..65535");
    CHECK(bad_arguments({"--listen", "127.0.0.1:18a3"}) ==
          "tern: --listen: '127.0.0.1:18a3': port '18a3' is not a number in 0..65535");
    CHECK(bad_arguments({"--listen", "127.0.0.1:-1"}) ==
          "tern: --listen: '127.0.0.1:-1': port '-1' is not a number in 0..65535");
}

TEST_CASE("the same --listen endpoint twice is refused") {
    CHECK(bad_arguments({"--listen", "127.0.0.1:1883", "--listen", "127.0.0.1:1883"}) ==
          "tern: --listen: 127.0.0.1:1883 is given twice");
    CHECK(bad_arguments({"--listen", "[::1]:1883", "--listen", "[0::1]:1883"}) ==
          "tern: --listen: [0::1]:1883 is given twice");
    Run port_zero({"--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"});
    CHECK(port_zero.command_line().listeners.size() == 2);
}

TEST_CASE("bad numbers and levels are refused with the accepted range") {
    CHECK(bad_arguments({"--workers", "257"}) == "tern: --workers: 257 is out of range 0..256");
    CHECK(bad_arguments({"--workers", "abc"}) ==
          "tern: --workers: 'abc' is not a non-negative integer");
    CHECK(bad_arguments({"--workers", "4x"}) ==
          "tern: --workers: '4x' is not a non-negative integer");
    CHECK(bad_arguments({"--workers=-1"}) == "tern: --workers: '-1' is not a non-negative integer");
    CHECK(bad_arguments({"--workers", "99999999999"}) ==
          "tern: --workers: 99999999999 is out of range 0..256");
    CHECK(bad_arguments({"--sys-interval", "86401"}) ==
          "tern: --sys-interval: 86401 is out of range 0..86400");
    CHECK(bad_arguments({"--log-level", "verbose"}) ==
          "tern: --log-level: 'verbose' is not one of trace, debug, info, warn, error, off");
    CHECK(bad_arguments({"--data-dir", ""}) == "tern: --data-dir: must not be empty");
}

TEST_CASE("unknown options, stray arguments and missing values are refused with the usage") {
    CHECK(bad_arguments({"--bogus"}) == "tern: The following argument was not expected: --bogus");
    CHECK(bad_arguments({"extra"}) == "tern: The following argument was not expected: extra");
    CHECK(bad_arguments({"-c"}) == "tern: --config: 1 required FILE missing");
    CHECK(bad_arguments({"--workers", "1", "--workers", "2"}) ==
          "tern: --workers: At Most 1 required but received 2");
}
