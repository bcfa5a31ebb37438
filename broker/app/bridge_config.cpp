// The [bridge] table: one row per key, plus the checks between keys (origins, JWT secret, TLS).
#include "app/bridge_config.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <tuple>

namespace tern::app::config {

namespace {

using core::BridgeSettings;

// "*", or an origin as browsers send it: scheme "://" host [":" port], no path.
std::string check_origin(std::string_view value) {
    if (value == "*") {
        return {};
    }
    const std::string bad = "'" + std::string(value) + "' is not \"*\" or an origin like " +
                            "https://example.com or http://host:8080 (no path)";
    const std::size_t scheme_end = value.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
        return bad;
    }
    const std::string_view host = value.substr(scheme_end + 3);
    if (host.empty() || host.find_first_of("/?# ") != std::string_view::npos) {
        return bad;
    }
    return {};
}

// A JWT claim name: a JSON member name, kept printable so error messages stay one line.
std::string check_claim(std::string_view value) {
    if (value.empty()) {
        return "must not be empty";
    }
    for (const char c : value) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return "must not contain control characters";
        }
    }
    return {};
}

// Every key of [bridge] but allowed_origins (an array, read_origins).
constexpr std::array kBridgeKeys{
    boolean_key<BridgeSettings, &BridgeSettings::enabled>("enabled"),
    string_key<BridgeSettings, &BridgeSettings::address>("address", &check_listener_address),
    integer_key<BridgeSettings, &BridgeSettings::port>("port", 0, kU16),
    integer_key<BridgeSettings, &BridgeSettings::max_header_bytes>("max_header_bytes", 1 * kKiB,
                                                                   1024 * kKiB),
    integer_key<BridgeSettings, &BridgeSettings::max_body_bytes>("max_body_bytes", 0, kGiB),
    integer_key<BridgeSettings, &BridgeSettings::header_timeout_ms>("header_timeout_ms", 100,
                                                                    3'600'000),
    integer_key<BridgeSettings, &BridgeSettings::idle_timeout_ms>("idle_timeout_ms", 100,
                                                                  86'400'000),
    integer_key<BridgeSettings, &BridgeSettings::max_connections>("max_connections", 0, 10'000'000),
    integer_key<BridgeSettings, &BridgeSettings::heartbeat_interval_ms>("heartbeat_interval_ms",
                                                                        100, 3'600'000),
    integer_key<BridgeSettings, &BridgeSettings::max_client_buffer>("max_client_buffer", 4 * kKiB,
                                                                    64 * kGiB),
    integer_key<BridgeSettings, &BridgeSettings::max_total_buffer>("max_total_buffer", 64 * kKiB,
                                                                   1024 * kGiB),
    // JWT (HS256) bearer tokens.
    string_key<BridgeSettings, &BridgeSettings::jwt_secret>("jwt_secret", nullptr),
    string_key<BridgeSettings, &BridgeSettings::jwt_secret_file>("jwt_secret_file",
                                                                 &check_not_empty),
    string_key<BridgeSettings, &BridgeSettings::jwt_username_claim>("jwt_username_claim",
                                                                    &check_claim),
    string_key<BridgeSettings, &BridgeSettings::jwt_issuer>("jwt_issuer", &check_not_empty),
    string_key<BridgeSettings, &BridgeSettings::jwt_audience>("jwt_audience", &check_not_empty),
    integer_key<BridgeSettings, &BridgeSettings::jwt_leeway_s>("jwt_leeway", 0, 3600),
    // https and wss: the keys of a "mqtt+tls" listener.
    boolean_key<BridgeSettings, &BridgeSettings::tls>("tls"),
    string_key<BridgeSettings, &BridgeSettings::cert_file>("cert_file", &check_not_empty),
    string_key<BridgeSettings, &BridgeSettings::key_file>("key_file", &check_not_empty),
    string_key<BridgeSettings, &BridgeSettings::ca_file>("ca_file", &check_not_empty),
    boolean_key<BridgeSettings, &BridgeSettings::require_certificate>("require_certificate"),
    string_key<BridgeSettings, &BridgeSettings::tls_min_version>("tls_min_version",
                                                                 &check_tls_version),
    string_key<BridgeSettings, &BridgeSettings::ciphers>("ciphers", &check_not_empty),
    string_key<BridgeSettings, &BridgeSettings::ciphersuites>("ciphersuites", &check_not_empty),
};
constexpr std::string_view kOriginsKey = "allowed_origins";
constexpr std::array<std::string_view, 7> kTlsKeys{
    "cert_file",       "key_file", "ca_file",     "require_certificate",
    "tls_min_version", "ciphers",  "ciphersuites"};
// Checks that mean nothing without a secret (a likely mistake: tokens would not be accepted).
constexpr std::array<std::string_view, 2> kJwtCheckKeys{"jwt_issuer", "jwt_audience"};
constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

// bridge.allowed_origins: an array of strings.
void read_origins(const toml::node& node, BridgeSettings& bridge, Diagnostics& diagnostics) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
        return diagnostics.report(node.source(),
                                  "bridge.allowed_origins: expected an array of "
                                  "strings, got " +
                                      std::string(describe(node.type())));
    }
    for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string name = "bridge.allowed_origins[" + std::to_string(i) + "]";
        const auto* text = element.as_string();
        if (text == nullptr) {
            diagnostics.report(element.source(), name + ": expected a string, got " +
                                                     std::string(describe(element.type())));
            continue;
        }
        if (std::string reason = check_origin(text->get()); !reason.empty()) {
            diagnostics.report(element.source(), name + ": " + reason);
            continue;
        }
        bridge.allowed_origins.push_back(text->get());
    }
}

// The secret in `path` without its trailing line break, or the reason it cannot be read. Only
// regular files: a device or a FIFO named by mistake must not block start-up.
std::string read_secret_file(const std::string& path, std::string& secret) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        return "cannot read '" + path + "' (" + std::strerror(errno) + ")";
    }
    if (!S_ISREG(info.st_mode)) {
        return "'" + path + "' is not a regular file";
    }
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) {
        return "cannot read '" + path + "' (" + std::strerror(errno) + ")";
    }
    char buffer[4096];
    size_t count = 0;
    while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
        secret.append(buffer, count);
        if (secret.size() > kMaxSecretFileBytes) {
            return "'" + path + "' is larger than " + std::to_string(kMaxSecretFileBytes) +
                   " bytes: not a secret";
        }
    }
    if (std::ferror(file.get()) != 0) {
        return "cannot read '" + path + "' (" + std::strerror(errno) + ")";
    }
    // Files written by `echo` or an editor end with a line break that is not part of the key.
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
        secret.pop_back();
    }
    return {};
}

std::string too_short(std::size_t size) {
    return "the secret is " + std::to_string(size) + " bytes; HS256 needs at least " +
           std::to_string(kMinJwtSecretBytes) + " (e.g. openssl rand -base64 48)";
}

// jwt_secret or jwt_secret_file (not both), at least kMinJwtSecretBytes; the issuer and audience
// checks need one of them.
void check_jwt(const toml::table& table, BridgeSettings& bridge, Diagnostics& diagnostics) {
    const toml::node* inline_secret = table.get("jwt_secret");
    const toml::node* secret_file = table.get("jwt_secret_file");
    if (inline_secret != nullptr && secret_file != nullptr) {
        return diagnostics.report(secret_file->source(),
                                  "bridge.jwt_secret_file: set jwt_secret or jwt_secret_file, "
                                  "not both");
    }
    if (secret_file != nullptr && !bridge.jwt_secret_file.empty()) {
        std::string secret;
        if (std::string reason = read_secret_file(bridge.jwt_secret_file, secret);
            !reason.empty()) {
            return diagnostics.report(secret_file->source(), "bridge.jwt_secret_file: " + reason);
        }
        if (secret.size() < kMinJwtSecretBytes) {
            return diagnostics.report(secret_file->source(),
                                      "bridge.jwt_secret_file: " + too_short(secret.size()));
        }
        bridge.jwt_secret = std::move(secret);
    } else if (inline_secret != nullptr && inline_secret->is_string() &&
               bridge.jwt_secret.size() < kMinJwtSecretBytes) {
        return diagnostics.report(inline_secret->source(),
                                  "bridge.jwt_secret: " + too_short(bridge.jwt_secret.size()));
    }
    if (inline_secret != nullptr || secret_file != nullptr) {
        return;
    }
    for (const std::string_view key : kJwtCheckKeys) {
        if (const toml::node* node = table.get(key)) {
            diagnostics.report(node->source(), "bridge." + std::string(key) +
                                                   ": needs jwt_secret_file (or jwt_secret)");
        }
    }
}

// TLS keys need tls = true, which needs a certificate and key; require_certificate needs the CA.
void check_tls(const toml::table& table, const BridgeSettings& bridge, Diagnostics& diagnostics) {
    if (!bridge.tls) {
        for (const std::string_view key : kTlsKeys) {
            if (const toml::node* node = table.get(key)) {
                diagnostics.report(node->source(),
                                   "bridge." + std::string(key) + ": only used with tls = true");
            }
        }
        return;
    }
    for (const auto& [key, what] : {std::tuple{"cert_file", "the server certificate chain"},
                                    std::tuple{"key_file", "the server's private key"}}) {
        if (!table.contains(key)) {
            diagnostics.report(table.get("tls")->source(),
                               "bridge.tls: needs " + std::string(key) + " (" + what + ", PEM)");
        }
    }
    if (bridge.require_certificate && bridge.ca_file.empty()) {
        diagnostics.report(table.get("require_certificate")->source(),
                           "bridge.require_certificate: needs ca_file (the CA certificates that "
                           "sign client certificates)");
    }
}

}  // namespace

void read_bridge_section(const toml::table& table, BridgeSettings& bridge,
                         Diagnostics& diagnostics) {
    const std::string prefix = std::string(kBridgeSection) + ".";
    const size_t problems_before = diagnostics.count();
    if (table.contains(kOriginsKey)) {
        toml::table rest = table;
        rest.erase(kOriginsKey);
        read_table(rest, "", prefix, kBridgeKeys, bridge, diagnostics);
        read_origins(*table.get(kOriginsKey), bridge, diagnostics);
    } else {
        read_table(table, "", prefix, kBridgeKeys, bridge, diagnostics);
    }
    if (diagnostics.count() != problems_before) {
        return;  // the checks below would report consequences of the problems found
    }
    check_jwt(table, bridge, diagnostics);
    check_tls(table, bridge, diagnostics);
}

std::vector<std::string> bridge_config_keys() {
    std::vector<std::string> keys;
    for (const auto& spec : kBridgeKeys) {
        keys.push_back(std::string(kBridgeSection) + "." + std::string(spec.name));
    }
    keys.push_back(std::string(kBridgeSection) + "." + std::string(kOriginsKey));
    return keys;
}

}  // namespace tern::app::config
