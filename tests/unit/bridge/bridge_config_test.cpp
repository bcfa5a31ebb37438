// The [bridge] section of the configuration file: defaults, every key, and errors naming the line.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../app/config_error.hpp"
#include "app/config_loader.hpp"

using tern::app::ConfigError;
using tern::app::load_config_string;
using tern::app::test::error_of;

namespace {

// A file in a fresh temporary directory holding `content`; removed with the object.
class TempFile {
  public:
    explicit TempFile(const std::string& content) {
        char pattern[] = "/tmp/tern-bridge-config-XXXXXX";
        _dir = ::mkdtemp(pattern);
        _path = _dir + "/jwt.key";
        std::ofstream(_path, std::ios::binary) << content;
    }
    ~TempFile() { std::filesystem::remove_all(_dir); }
    const std::string& path() const { return _path; }

  private:
    std::string _dir;
    std::string _path;
};

}  // namespace

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
    CHECK(bridge.max_total_buffer == 67108864);
    CHECK(bridge.allowed_origins.empty());
}

TEST_CASE("every [bridge] key is read") {
    const auto settings = load_config_string(
        "[bridge]\nenabled = true\naddress = \"::1\"\nport = 0\nmax_header_bytes = 4096\n"
        "max_body_bytes = 0\nheader_timeout_ms = 500\nidle_timeout_ms = 1000\n"
        "max_connections = 0\nheartbeat_interval_ms = 250\nmax_client_buffer = 65536\n"
        "max_total_buffer = 131072\n"
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
    CHECK(bridge.max_total_buffer == 131072);
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
    CHECK(error_of("[bridge]\nmax_total_buffer = 1024\n") ==
          "t.toml:2: bridge.max_total_buffer: 1024 is out of range 65536..1099511627776");
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

TEST_CASE("JWT keys: defaults, an inline secret, and every option") {
    const auto defaults = load_config_string("", "t.toml").bridge;
    CHECK(defaults.jwt_secret.empty());
    CHECK(defaults.jwt_username_claim == "sub");
    CHECK(defaults.jwt_leeway_s == 30);
    const auto settings = load_config_string(
        "[bridge]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n"
        "jwt_username_claim = \"preferred_username\"\njwt_issuer = \"https://auth.example\"\n"
        "jwt_audience = \"tern\"\njwt_leeway = 5\n",
        "t.toml");
    CHECK(settings.bridge.jwt_secret == "0123456789abcdef0123456789abcdef");
    CHECK(settings.bridge.jwt_username_claim == "preferred_username");
    CHECK(settings.bridge.jwt_issuer == "https://auth.example");
    CHECK(settings.bridge.jwt_audience == "tern");
    CHECK(settings.bridge.jwt_leeway_s == 5);
}

TEST_CASE("jwt_secret_file is read at load time, without its final line break") {
    const TempFile key("k3y-0f-m0re-than-32-bytes-for-the-bridge\n");
    const auto settings =
        load_config_string("[bridge]\njwt_secret_file = \"" + key.path() + "\"\n", "t.toml");
    CHECK(settings.bridge.jwt_secret == "k3y-0f-m0re-than-32-bytes-for-the-bridge");
    CHECK(settings.bridge.jwt_secret_file == key.path());

    const TempFile short_key("tooshort\n");
    CHECK(error_of("[bridge]\nenabled = true\njwt_secret_file = \"" + short_key.path() + "\"\n") ==
          "t.toml:3: bridge.jwt_secret_file: the secret is 8 bytes; HS256 needs at least 32 "
          "(e.g. openssl rand -base64 48)");
    CHECK(error_of("[bridge]\njwt_secret_file = \"/nonexistent/jwt.key\"\n") ==
          "t.toml:2: bridge.jwt_secret_file: cannot read '/nonexistent/jwt.key' (No such file "
          "or directory)");
    CHECK(error_of("[bridge]\njwt_secret_file = \"/tmp\"\n") ==
          "t.toml:2: bridge.jwt_secret_file: '/tmp' is not a regular file");
}

TEST_CASE("bad JWT keys name the line and the reason") {
    CHECK(error_of("[bridge]\n\njwt_secret = \"short\"\n") ==
          "t.toml:3: bridge.jwt_secret: the secret is 5 bytes; HS256 needs at least 32 (e.g. "
          "openssl rand -base64 48)");
    CHECK(error_of("[bridge]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n"
                   "jwt_secret_file = \"/x\"\n") ==
          "t.toml:3: bridge.jwt_secret_file: set jwt_secret or jwt_secret_file, not both");
    CHECK(error_of("[bridge]\njwt_audience = \"tern\"\n") ==
          "t.toml:2: bridge.jwt_audience: needs jwt_secret_file (or jwt_secret)");
    CHECK(error_of("[bridge]\njwt_leeway = 7200\n") ==
          "t.toml:2: bridge.jwt_leeway: 7200 is out of range 0..3600");
    CHECK(error_of("[bridge]\njwt_username_claim = \"\"\n") ==
          "t.toml:2: bridge.jwt_username_claim: must not be empty");
    CHECK(error_of("[bridge]\njwt_secrets = \"x\"\n") ==
          "t.toml:2: unknown key 'bridge.jwt_secrets'; did you mean 'bridge.jwt_secret'?");
}

TEST_CASE("bridge TLS keys: every key is read, and each needs what it depends on") {
    const auto settings = load_config_string(
        "[bridge]\ntls = true\ncert_file = \"s.crt\"\nkey_file = \"s.key\"\nca_file = \"ca.crt\"\n"
        "require_certificate = true\ntls_min_version = \"1.3\"\nciphers = \"HIGH\"\n"
        "ciphersuites = \"TLS_AES_128_GCM_SHA256\"\n",
        "t.toml");
    const tern::core::BridgeSettings& bridge = settings.bridge;
    CHECK(bridge.tls);
    CHECK(bridge.cert_file == "s.crt");
    CHECK(bridge.key_file == "s.key");
    CHECK(bridge.ca_file == "ca.crt");
    CHECK(bridge.require_certificate);
    CHECK(bridge.tls_min_version == "1.3");
    CHECK(bridge.ciphers == "HIGH");
    CHECK(bridge.ciphersuites == "TLS_AES_128_GCM_SHA256");
    CHECK_FALSE(load_config_string("", "t.toml").bridge.tls);

    CHECK(error_of("[bridge]\ncert_file = \"s.crt\"\n") ==
          "t.toml:2: bridge.cert_file: only used with tls = true");
    CHECK(error_of("[bridge]\ntls = true\ncert_file = \"s.crt\"\n") ==
          "t.toml:2: bridge.tls: needs key_file (the server's private key, PEM)");
    CHECK(error_of("[bridge]\ntls = true\nkey_file = \"s.key\"\n") ==
          "t.toml:2: bridge.tls: needs cert_file (the server certificate chain, PEM)");
    CHECK(error_of("[bridge]\ntls = true\ncert_file = \"c\"\nkey_file = \"k\"\n"
                   "require_certificate = true\n") ==
          "t.toml:5: bridge.require_certificate: needs ca_file (the CA certificates that sign "
          "client certificates)");
    CHECK(error_of("[bridge]\ntls = true\ncert_file = \"c\"\nkey_file = \"k\"\n"
                   "tls_min_version = \"1.1\"\n") ==
          "t.toml:5: bridge.tls_min_version: '1.1' is not one of 1.2, 1.3");
}
