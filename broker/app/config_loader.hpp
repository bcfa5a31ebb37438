// Loading the broker's TOML configuration file into core::BrokerSettings, with errors that name the
// line.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.hpp"

namespace tern::app {

// A configuration problem. what() is "FILE:LINE: reason", "FILE:LINE:COL: reason" for a TOML
// syntax error, or "FILE: reason" when the file itself cannot be read (line() == 0). main()
// prints it as one line and exits with code 2.
class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string source, uint32_t line, uint32_t column, std::string reason);

    const std::string& source() const noexcept { return _source; }
    uint32_t line() const noexcept { return _line; }      // 1-based, 0 = no line
    uint32_t column() const noexcept { return _column; }  // 1-based, 0 = not given
    const std::string& reason() const noexcept { return _reason; }

  private:
    std::string _source;
    uint32_t _line;
    uint32_t _column;
    std::string _reason;
};

// Reads and validates the TOML file at `path`. Keys that are absent keep the defaults of
// core::BrokerSettings; an empty file yields the defaults. Throws ConfigError on the first (by
// line) problem: unreadable file, syntax error, unknown section or key, wrong type, value out of
// range, bad or duplicated listener, empty listener list.
core::BrokerSettings load_config_file(const std::string& path);

// As load_config_file, for text already in memory; `source_name` is the FILE of the messages.
core::BrokerSettings load_config_string(std::string_view text, const std::string& source_name);

// Every key the loader accepts: "section.key", and "listeners.KEY" for the keys of a listener.
std::vector<std::string> known_config_keys();

// --- validation shared by the configuration file and the command line ---------------------------

inline constexpr uint32_t kMaxWorkers = 256;
inline constexpr uint32_t kMaxSysIntervalS = 86'400;  // one day
inline constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info",
                                                            "warn",  "error", "off"};

bool is_valid_log_level(std::string_view level);

// An IPv4 literal, an IPv6 literal without brackets, or "localhost". Host names are not accepted:
// a listener must not depend on DNS at start-up.
bool is_valid_listener_address(std::string_view address);

// True when both listeners would bind the same endpoint: the same address (compared as parsed
// bytes, so "::1" and "0:0:0:0:0:0:0:1" are equal) and the same port. Port 0 asks the system for
// a free port, so it never clashes.
bool same_endpoint(const core::ListenerSettings& a, const core::ListenerSettings& b);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_address(std::string_view address);

// The start-up rule on anonymous access: when auth.allow_anonymous is left at its default (true)
// and some listener is not on a loopback address, throws ConfigError naming `source` (the file)
// and the listener, so an open broker is never exposed to the network by accident.
void check_anonymous_access(const core::BrokerSettings& settings, const std::string& source);

// "127.0.0.1:1883", "[::1]:1883", "localhost:1883".
std::string format_endpoint(const core::ListenerSettings& listener);

}  // namespace tern::app
