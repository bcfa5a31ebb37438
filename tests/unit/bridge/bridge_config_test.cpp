// The [bridge] section of the configuration file: defaults, every key, and errors naming the line.
#include <doctest/doctest.h>

#include <string>

#include "../app/config_error.hpp"
#include "app/config_loader.hpp"

using tern::app::ConfigError;
using tern::app::load_config_string;
using tern::app::test::error_of;

namespace {}  // namespace

TEST_CASE("the bridge is off by default, with its documented limits") {
    const auto settings = load_config_string("", "t.toml");
    const tern::core::BridgeSettings& bridge = settings.bridge;
    CHECK_FALSE(bridge.enabled);
    CHECK(bridge.address == "127.0.0.1");
    CHECK(bridge.port == 8080);
    CHECK(bridge.max_header_bytes == 8192);
    CHECK(bridge.max_body_bytes == 1048576);
    CHECK(bridge.header_timeout_ms == 10000);
    CHECK(bridge.idle_timeout_ms == 60000);
    CHECK(bridge.max_connections == 10000);
    CHECK(bridge.heartbeat_interval_ms == 15000);
    CHECK(bridge.max_client_buffer == 1048576);
    CHECK(bridge.allowed_origins.empty());
}

TEST_CASE("every [bridge] key is read") {
    const auto settings = load_config_string(
        "[bridge]\nenabled = true\naddress = \"::1\"\nport = 0\nmax_header_bytes = 4096\n"
        "max_body_bytes = 0\nheader_timeout_ms = 500\nidle_timeout_ms = 1000\n"
        "max_connections = 0\nheartbeat_interval_ms = 250\nmax_client_buffer = 65536\n"
        "allowed_origins = [\"https://a.example\", \"http://b.example:3000\", \"*\"]\n",
        "t.toml");
    const tern::core::BridgeSettings& bridge = settings.bridge;
    CHECK(bridge.enabled);
    CHECK(bridge.address == "::1");
    CHECK(bridge.port == 0);
    CHECK(bridge.max_header_bytes == 4096);
    CHECK(bridge.max_body_bytes == 0);
    CHECK(bridge.header_timeout_ms == 500);
    CHECK(bridge.idle_timeout_ms == 1000);
    CHECK(bridge.max_connections == 0);
    CHECK(bridge.heartbeat_interval_ms == 250);
    CHECK(bridge.max_client_buffer == 65536);
    CHECK(bridge.allowed_origins ==
          std::vector<std::string>{"https://a.example", "http://b.example:3000", "*"});
}

TEST_CASE("bad [bridge] values name the line and the reason") {
    CHECK(error_of("[bridge]\nport = 70000\n") ==
          "t.toml:2: bridge.port: 70000 is out of range 0..65535");
    CHECK(error_of("\n[bridge]\nenabled = 1\n") ==
          "t.toml:3: bridge.enabled: expected a boolean, got an integer");
    CHECK(error_of("[bridge]\naddress = \"example.com\"\n") ==
          "t.toml:2: bridge.address: 'example.com' is not an IPv4 or IPv6 address or "
          "'localhost'");
    CHECK(error_of("[bridge]\nmax_header_bytes = 10\n") ==
          "t.toml:2: bridge.max_header_bytes: 10 is out of range 1024..1048576");
    CHECK(error_of("[bridge]\nmax_client_buffer = 100\n") ==
          "t.toml:2: bridge.max_client_buffer: 100 is out of range 4096..68719476736");
    CHECK(error_of("[bridge]\nallowed_origins = \"*\"\n") ==
          "t.toml:2: bridge.allowed_origins: expected an array of strings, got a string");
    CHECK(error_of("[bridge]\nallowed_origins = [\"https://ok.example\",\n  5]\n") ==
          "t.toml:3: bridge.allowed_origins[1]: expected a string, got an integer");
    CHECK(error_of("[bridge]\nallowed_origins = [\"https://x.example/path\"]\n") ==
          "t.toml:2: bridge.allowed_origins[0]: 'https://x.example/path' is not \"*\" or an "
          "origin like https://example.com or http://host:8080 (no path)");
    CHECK(error_of("[bridge]\nheartbeat = 5\n")
              .starts_with("t.toml:2: unknown key 'bridge.heartbeat'"));
}
