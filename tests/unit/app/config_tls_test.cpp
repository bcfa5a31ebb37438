// Tests of the TLS keys of [[listeners]]: values, defaults, and the errors that name the line.
#include <doctest/doctest.h>

#include <string>

#include "app/config_loader.hpp"
#include "config_error.hpp"

using tern::app::ConfigError;
using tern::app::load_config_string;
using tern::app::test::error_of;

namespace {

constexpr const char* kTlsListener =
    "[[listeners]]\n"
    "type = \"mqtt+tls\"\n"
    "cert_file = \"/etc/tern/server.pem\"\n"
    "key_file = \"/etc/tern/server.key\"\n";

}  // namespace

TEST_CASE("a mqtt+tls listener reads every TLS key") {
    const auto settings = load_config_string(
        "[[listeners]]\n"
        "type = \"mqtt+tls\"\n"
        "address = \"0.0.0.0\"\n"
        "port = 18883\n"
        "cert_file = \"/etc/tern/server.pem\"\n"
        "key_file = \"/etc/tern/server.key\"\n"
        "ca_file = \"/etc/tern/ca.pem\"\n"
        "require_certificate = true\n"
        "use_identity_as_username = true\n"
        "tls_min_version = \"1.3\"\n"
        "ciphers = \"ECDHE-ECDSA-AES128-GCM-SHA256\"\n"
        "ciphersuites = \"TLS_AES_128_GCM_SHA256\"\n",
        "t.toml");
    REQUIRE(settings.listeners.size() == 1);
    const auto& listener = settings.listeners[0];
    CHECK(listener.type == "mqtt+tls");
    CHECK(listener.address == "0.0.0.0");
    CHECK(listener.port == 18883);
    CHECK(listener.cert_file == "/etc/tern/server.pem");
    CHECK(listener.key_file == "/etc/tern/server.key");
    CHECK(listener.ca_file == "/etc/tern/ca.pem");
    CHECK(listener.require_certificate);
    CHECK(listener.use_identity_as_username);
    CHECK(listener.tls_min_version == "1.3");
    CHECK(listener.ciphers == "ECDHE-ECDSA-AES128-GCM-SHA256");
    CHECK(listener.ciphersuites == "TLS_AES_128_GCM_SHA256");
}

TEST_CASE("a mqtt+tls listener defaults to port 8883, TLS 1.2 and no client certificates") {
    const auto settings = load_config_string(kTlsListener, "t.toml");
    REQUIRE(settings.listeners.size() == 1);
    const auto& listener = settings.listeners[0];
    CHECK(listener.port == 8883);
    CHECK(listener.address == "127.0.0.1");
    CHECK(listener.tls_min_version == "1.2");
    CHECK(listener.ca_file.empty());
    CHECK_FALSE(listener.require_certificate);
    CHECK_FALSE(listener.use_identity_as_username);
    CHECK(listener.ciphers.empty());
    CHECK(listener.ciphersuites.empty());
}

TEST_CASE("a plain and a TLS listener side by side keep their own ports") {
    const auto settings =
        load_config_string(std::string("[[listeners]]\nport = 1883\n\n") + kTlsListener, "t.toml");
    REQUIRE(settings.listeners.size() == 2);
    CHECK(settings.listeners[0].type == "mqtt");
    CHECK(settings.listeners[0].port == 1883);
    CHECK(settings.listeners[1].port == 8883);
}

TEST_CASE("a mqtt+tls listener needs a certificate and a key") {
    CHECK(error_of("[[listeners]]\ntype = \"mqtt+tls\"\nkey_file = \"k.pem\"\n") ==
          "t.toml:1: listeners[0]: a \"mqtt+tls\" listener needs cert_file (the server "
          "certificate chain, PEM)");
    CHECK(error_of("\n[[listeners]]\ntype = \"mqtt+tls\"\ncert_file = \"c.pem\"\n") ==
          "t.toml:2: listeners[0]: a \"mqtt+tls\" listener needs key_file (the server's private "
          "key, PEM)");
    CHECK(error_of("[[listeners]]\ntype = \"mqtt+tls\"\ncert_file = \"\"\nkey_file = \"k\"\n") ==
          "t.toml:3: listeners[0].cert_file: must not be empty");
}

TEST_CASE("TLS keys on a plain listener are errors naming the key's line") {
    CHECK(error_of("[[listeners]]\nport = 1883\ncert_file = \"c.pem\"\n") ==
          "t.toml:3: listeners[0].cert_file: only a type = \"mqtt+tls\" listener has TLS keys");
    CHECK(error_of(std::string(kTlsListener) +
                   "\n[[listeners]]\ntype = \"mqtt\"\nport = 1\nrequire_certificate = true\n") ==
          "t.toml:9: listeners[1].require_certificate: only a type = \"mqtt+tls\" listener has "
          "TLS keys");
}

TEST_CASE("TLS options that depend on others say what they need") {
    CHECK(error_of(std::string(kTlsListener) + "require_certificate = true\n") ==
          "t.toml:5: listeners[0].require_certificate: needs ca_file (the CA certificates that "
          "sign client certificates)");
    CHECK(error_of(std::string(kTlsListener) +
                   "ca_file = \"ca.pem\"\nuse_identity_as_username = true\n") ==
          "t.toml:6: listeners[0].use_identity_as_username: needs require_certificate = true");
}

TEST_CASE("tls_min_version accepts 1.2 and 1.3 only") {
    CHECK(error_of(std::string(kTlsListener) + "tls_min_version = \"1.1\"\n") ==
          "t.toml:5: listeners[0].tls_min_version: '1.1' is not one of 1.2, 1.3");
    CHECK(error_of(std::string(kTlsListener) + "tls_min_version = 1.3\n") ==
          "t.toml:5: listeners[0].tls_min_version: expected a string, got a float");
}

TEST_CASE("two TLS listeners on the default port clash") {
    CHECK(error_of(std::string(kTlsListener) + "\n" + kTlsListener) ==
          "t.toml:6: listeners[1]: 127.0.0.1:8883 is already used by listeners[0] (line 1)");
}

TEST_CASE("a mqtt+tls listener on a public address is under the anonymous access rule") {
    auto settings =
        load_config_string(std::string(kTlsListener) + "address = \"0.0.0.0\"\n", "t.toml");
    CHECK_THROWS_WITH_AS(
        tern::app::check_anonymous_access(settings, "t.toml"),
        "t.toml: auth.allow_anonymous: anonymous access on a non-loopback listener 0.0.0.0:8883 "
        "must be allowed explicitly (set allow_anonymous = true or configure a password_file)",
        ConfigError);
}

TEST_CASE("configs/tls.toml loads with a loopback TCP and a public TLS listener") {
    const auto settings =
        tern::app::load_config_file(std::string(TERN_SOURCE_DIR) + "/configs/tls.toml");
    REQUIRE(settings.listeners.size() == 2);
    CHECK(settings.listeners[0].type == "mqtt");
    CHECK(settings.listeners[0].address == "127.0.0.1");
    CHECK(settings.listeners[1].type == "mqtt+tls");
    CHECK(settings.listeners[1].address == "0.0.0.0");
    CHECK(settings.listeners[1].port == 8883);
    CHECK(settings.listeners[1].cert_file == "/etc/tern/tls/server.pem");
    CHECK(settings.listeners[1].key_file == "/etc/tern/tls/server.key");
    CHECK_FALSE(settings.auth.allow_anonymous);
    CHECK_NOTHROW(tern::app::check_anonymous_access(settings, "configs/tls.toml"));
}
