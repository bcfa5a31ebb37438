// Table-driven TOML configuration loader: one row per "section.key" with its type, range and
// setter.
#include "app/config_loader.hpp"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "app/bridge_config.hpp"
#include "app/config_reader.hpp"
#include "core/topic.hpp"

namespace tern::app {

namespace {

using core::BrokerSettings;
using core::LimitSettings;
using core::ListenerSettings;

using namespace config;  // NOLINT: the loader is made of these pieces

std::string check_log_level(std::string_view value) {
    if (is_valid_log_level(value)) {
        return {};
    }
    std::string reason = "'" + std::string(value) + "' is not one of ";
    for (size_t i = 0; i < kLogLevels.size(); ++i) {
        reason += (i == 0 ? "" : ", ") + std::string(kLogLevels[i]);
    }
    return reason;
}

std::string check_durability(std::string_view value) {
    return value == "memory" || value == "async" || value == "sync"
               ? ""
               : "'" + std::string(value) + "' is not one of memory, async, sync";
}

std::string check_queue_policy(std::string_view value) {
    return value == "refuse-newest" || value == "drop-oldest"
               ? ""
               : "'" + std::string(value) + "' is not one of refuse-newest, drop-oldest";
}

std::string check_listener_type(std::string_view value) {
    return value == "mqtt" || value == "mqtt+tls"
               ? ""
               : "'" + std::string(value) +
                     "' is not a supported listener type (supported: mqtt, mqtt+tls)";
}

// Every key of the [broker], [limits], [storage] and [auth] sections ([bridge]: bridge_config.cpp).
// Ranges are what a sane deployment can want; the comments in configs/tern.toml describe each key.
constexpr std::array kSettingKeys{
    integer_key<BrokerSettings, &BrokerSettings::workers>("broker.workers", 0, kMaxWorkers),
    string_key<BrokerSettings, &BrokerSettings::log_level>("broker.log_level", &check_log_level),
    integer_key<BrokerSettings, &BrokerSettings::sys_interval_s>("broker.sys_interval", 0,
                                                                 kMaxSysIntervalS),
    boolean_key<BrokerSettings, &BrokerSettings::allow_zero_length_client_id>(
        "broker.allow_zero_length_client_id"),
    boolean_key<BrokerSettings, &BrokerSettings::retain_available>("broker.retain_available"),
    // Maximum QoS is 0, 1 or 2 [MQTT-3.2.2-9].
    integer_key<BrokerSettings, &BrokerSettings::maximum_qos>("broker.maximum_qos", 0, 2),
    boolean_key<BrokerSettings, &BrokerSettings::wildcard_subscriptions>(
        "broker.wildcard_subscriptions"),
    boolean_key<BrokerSettings, &BrokerSettings::shared_subscriptions>(
        "broker.shared_subscriptions"),
    boolean_key<BrokerSettings, &BrokerSettings::subscription_identifiers>(
        "broker.subscription_identifiers"),
    integer_key<BrokerSettings, &LimitSettings::max_connections>("limits.max_connections", 0,
                                                                 10'000'000),
    // 16 bytes is about the smallest useful PUBLISH; 268,435,460 is the largest packet the
    // Remaining Length can describe (268,435,455 + 5 bytes of fixed header) [MQTT-2.2.3].
    integer_key<BrokerSettings, &LimitSettings::max_packet_size>("limits.max_packet_size", 16,
                                                                 268'435'460),
    integer_key<BrokerSettings, &LimitSettings::connect_timeout_ms>("limits.connect_timeout_ms",
                                                                    100, 3'600'000),
    integer_key<BrokerSettings, &LimitSettings::max_subscriptions_per_client>(
        "limits.max_subscriptions_per_client", 0, 10'000'000),
    // A topic name is a UTF-8 string of at most 65,535 bytes [MQTT-1.5.3].
    integer_key<BrokerSettings, &LimitSettings::max_topic_length>("limits.max_topic_length", 0,
                                                                  kU16),
    integer_key<BrokerSettings, &LimitSettings::max_topic_levels>("limits.max_topic_levels", 0,
                                                                  kU16),
    // The server MUST allow client ids of 1 to 23 bytes [MQTT-3.1.3-5]; a UTF-8 string field
    // cannot exceed 65,535 bytes.
    integer_key<BrokerSettings, &LimitSettings::max_client_id_length>("limits.max_client_id_length",
                                                                      23, kU16),
    integer_key<BrokerSettings, &LimitSettings::max_keep_alive>("limits.max_keep_alive", 0, kU16),
    // Receive Maximum 0 is a Protocol Error (MQTT 5 §3.2.2.3.3).
    integer_key<BrokerSettings, &LimitSettings::receive_maximum>("limits.receive_maximum", 1, kU16),
    integer_key<BrokerSettings, &LimitSettings::max_inflight>("limits.max_inflight", 1, kU16),
    integer_key<BrokerSettings, &LimitSettings::max_queued_messages>("limits.max_queued_messages",
                                                                     0, 100'000'000),
    integer_key<BrokerSettings, &LimitSettings::max_queued_bytes>("limits.max_queued_bytes", 0,
                                                                  1024 * kGiB),
    boolean_key<BrokerSettings, &LimitSettings::queue_qos0_offline>("limits.queue_qos0_offline"),
    integer_key<BrokerSettings, &LimitSettings::topic_alias_maximum>("limits.topic_alias_maximum",
                                                                     0, kU16),
    // 0xFFFFFFFF means "never expires" (MQTT 5 §3.1.2.11.2).
    integer_key<BrokerSettings, &LimitSettings::max_session_expiry>("limits.max_session_expiry", 0,
                                                                    kU32),
    integer_key<BrokerSettings, &LimitSettings::max_outgoing_buffer>("limits.max_outgoing_buffer",
                                                                     64 * kKiB, 64 * kGiB),
    string_key<BrokerSettings, &LimitSettings::queue_full_policy>("limits.queue_full_policy",
                                                                  &check_queue_policy),
    boolean_key<BrokerSettings, &LimitSettings::pause_publishers>("limits.pause_publishers"),
    integer_key<BrokerSettings, &LimitSettings::slow_subscriber_messages>(
        "limits.slow_subscriber_messages", 2, 100'000'000),
    integer_key<BrokerSettings, &LimitSettings::slow_subscriber_bytes>(
        "limits.slow_subscriber_bytes", 4 * kKiB, 64 * kGiB),
    integer_key<BrokerSettings, &LimitSettings::max_connections_per_ip>(
        "limits.max_connections_per_ip", 0, 10'000'000),
    integer_key<BrokerSettings, &LimitSettings::connection_rate_per_ip>(
        "limits.connection_rate_per_ip", 0, 1'000'000),
    integer_key<BrokerSettings, &LimitSettings::max_publish_rate>("limits.max_publish_rate", 0,
                                                                  10'000'000),
    integer_key<BrokerSettings, &LimitSettings::max_publish_bytes_rate>(
        "limits.max_publish_bytes_rate", 0, 64 * kGiB),
    integer_key<BrokerSettings, &LimitSettings::max_memory>("limits.max_memory", 0, 1024 * kGiB),
    string_key<BrokerSettings, &BrokerSettings::data_dir>("storage.data_dir", &check_not_empty),
    string_key<BrokerSettings, &core::StorageConfig::durability>("storage.durability",
                                                                 &check_durability),
    integer_key<BrokerSettings, &core::StorageConfig::max_retained_messages>(
        "storage.max_retained_messages", 0, 1'000'000'000),
    integer_key<BrokerSettings, &core::StorageConfig::max_retained_bytes>(
        "storage.max_retained_bytes", 0, 1024 * kGiB),
    integer_key<BrokerSettings, &core::StorageConfig::write_delay_ms>("storage.write_delay_ms", 0,
                                                                      1'000),
    boolean_key<BrokerSettings, &core::AuthConfig::allow_anonymous>("auth.allow_anonymous"),
    string_key<BrokerSettings, &core::AuthConfig::password_file>("auth.password_file", nullptr),
    string_key<BrokerSettings, &core::AuthConfig::acl_file>("auth.acl_file", nullptr),
};

std::string check_history_filter(std::string_view value) {
    // $share filters deliver to one member; a history is for every reader of a topic.
    if (!core::is_valid_topic_filter(value) || core::is_shared_filter(value)) {
        return "'" + std::string(value) + "' is not a valid topic filter";
    }
    return "";
}

// The keys of one [[storage.history]] table.
constexpr std::array kHistoryKeys{
    string_key<core::HistoryConfig, &core::HistoryConfig::filter>("filter", &check_history_filter),
    integer_key<core::HistoryConfig, &core::HistoryConfig::max_messages>("max_messages", 1,
                                                                         1'000'000),
    integer_key<core::HistoryConfig, &core::HistoryConfig::max_age_s>("max_age", 0, kU32),
};
constexpr std::string_view kHistoryKey = "history";

// The keys of one [[listeners]] table.
constexpr std::array kListenerKeys{
    string_key<ListenerSettings, &ListenerSettings::type>("type", &check_listener_type),
    string_key<ListenerSettings, &ListenerSettings::address>("address", &check_listener_address),
    integer_key<ListenerSettings, &ListenerSettings::port>("port", 0, kU16),
    // TLS, "mqtt+tls" listeners only (check_tls_listener).
    string_key<ListenerSettings, &ListenerSettings::cert_file>("cert_file", &check_not_empty),
    string_key<ListenerSettings, &ListenerSettings::key_file>("key_file", &check_not_empty),
    string_key<ListenerSettings, &ListenerSettings::ca_file>("ca_file", &check_not_empty),
    boolean_key<ListenerSettings, &ListenerSettings::require_certificate>("require_certificate"),
    boolean_key<ListenerSettings, &ListenerSettings::use_identity_as_username>(
        "use_identity_as_username"),
    string_key<ListenerSettings, &ListenerSettings::tls_min_version>("tls_min_version",
                                                                     &check_tls_version),
    string_key<ListenerSettings, &ListenerSettings::ciphers>("ciphers", &check_not_empty),
    string_key<ListenerSettings, &ListenerSettings::ciphersuites>("ciphersuites", &check_not_empty),
};
// The listener keys above that only a "mqtt+tls" listener may have.
constexpr std::array<std::string_view, 8> kTlsListenerKeys{
    "cert_file",       "key_file", "ca_file",     "require_certificate", "use_identity_as_username",
    "tls_min_version", "ciphers",  "ciphersuites"};
constexpr std::string_view kTlsListenerType = "mqtt+tls";
constexpr uint16_t kDefaultTlsPort = 8883;  // IANA's "secure-mqtt"

constexpr std::string_view kListenersSection = "listeners";
constexpr std::array<std::string_view, 6> kSections{"broker",  "listeners", "limits",
                                                    "storage", "auth",      "bridge"};

// TLS keys belong to "mqtt+tls" listeners, which need a certificate and key; mTLS options need
// what they depend on. A TLS listener without a port gets 8883.
void check_tls_listener(const toml::table& table, const std::string& name,
                        ListenerSettings& listener, Diagnostics& diagnostics) {
    if (listener.type != kTlsListenerType) {
        for (const auto& [key, node] : table) {
            if (std::find(kTlsListenerKeys.begin(), kTlsListenerKeys.end(), key.str()) !=
                kTlsListenerKeys.end()) {
                diagnostics.report(key.source(), name + "." + std::string(key.str()) +
                                                     ": only a type = \"mqtt+tls\" listener has "
                                                     "TLS keys");
            }
        }
        return;
    }
    if (!table.contains("port")) {
        listener.port = kDefaultTlsPort;
    }
    const toml::source_region& where = table.source();
    for (const auto& [key, value, what] :
         {std::tuple{"cert_file", &listener.cert_file, "the server certificate chain"},
          std::tuple{"key_file", &listener.key_file, "the server's private key"}}) {
        if (value->empty() && !table.contains(key)) {  // present but empty: reported already
            diagnostics.report(where, name + ": a \"mqtt+tls\" listener needs " + std::string(key) +
                                          " (" + what + ", PEM)");
        }
    }
    if (listener.require_certificate && listener.ca_file.empty()) {
        const std::string reason =
            ".require_certificate: needs ca_file (the CA certificates that sign client "
            "certificates)";
        diagnostics.report(table.get("require_certificate")->source(), name + reason);
    }
    if (listener.use_identity_as_username && !listener.require_certificate) {
        diagnostics.report(table.get("use_identity_as_username")->source(),
                           name + ".use_identity_as_username: needs require_certificate = true");
    }
}

void read_listeners(const toml::node& node, BrokerSettings& settings, Diagnostics& diagnostics) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
        const std::string hint = node.is_table() ? " ([[listeners]])" : "";
        return diagnostics.report(node.source(), "listeners: expected an array of tables" + hint +
                                                     ", got " + std::string(describe(node.type())));
    }
    if (array->empty()) {
        return diagnostics.report(node.source(), "listeners: at least one listener is required");
    }
    struct Read {
        size_t index;
        uint32_t line;
    };
    std::vector<ListenerSettings> listeners;
    std::vector<Read> reads;  // parallel to listeners: where each came from
    for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string name = "listeners[" + std::to_string(i) + "]";
        const toml::table* table = element.as_table();
        if (table == nullptr) {
            diagnostics.report(element.source(), name + ": expected a table, got " +
                                                     std::string(describe(element.type())));
            continue;
        }
        ListenerSettings listener;
        const size_t problems_before = diagnostics.count();
        read_table(*table, "", name + ".", kListenerKeys, listener, diagnostics);
        check_tls_listener(*table, name, listener, diagnostics);
        // A listener with a bad key keeps defaults that could clash by accident.
        for (size_t j = 0; problems_before == diagnostics.count() && j < listeners.size(); ++j) {
            if (same_endpoint(listeners[j], listener)) {
                diagnostics.report(element.source(), name + ": " + format_endpoint(listener) +
                                                         " is already used by listeners[" +
                                                         std::to_string(reads[j].index) +
                                                         "] (line " +
                                                         std::to_string(reads[j].line) + ")");
            }
        }
        listeners.push_back(std::move(listener));
        reads.push_back({i, static_cast<uint32_t>(element.source().begin.line)});
    }
    settings.listeners = std::move(listeners);
}

// [[storage.history]]: an array of tables, one per history policy.
void read_history(const toml::node& node, BrokerSettings& settings, Diagnostics& diagnostics) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
        return diagnostics.report(node.source(),
                                  "storage.history: expected an array of tables "
                                  "([[storage.history]]), got " +
                                      std::string(describe(node.type())));
    }
    for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string name = "storage.history[" + std::to_string(i) + "]";
        const toml::table* table = element.as_table();
        if (table == nullptr) {
            diagnostics.report(element.source(), name + ": expected a table, got " +
                                                     std::string(describe(element.type())));
            continue;
        }
        if (!table->contains("filter")) {
            diagnostics.report(element.source(), name + ": 'filter' is required");
        }
        core::HistoryConfig policy;
        read_table(*table, "", name + ".", kHistoryKeys, policy, diagnostics);
        settings.storage.history.push_back(std::move(policy));
    }
}

// A section's table; [storage] also holds the [[storage.history]] array; [bridge] has its own
// file.
void read_section(const std::string& name, const toml::table& table, BrokerSettings& settings,
                  Diagnostics& diagnostics) {
    if (name == kBridgeSection) {
        return read_bridge_section(table, settings.bridge, diagnostics);
    }
    if (name != "storage" || !table.contains(kHistoryKey)) {
        return read_table(table, name + ".", name + ".", kSettingKeys, settings, diagnostics);
    }
    toml::table rest = table;
    rest.erase(kHistoryKey);
    read_table(rest, name + ".", name + ".", kSettingKeys, settings, diagnostics);
    read_history(*table.get(kHistoryKey), settings, diagnostics);
}

void read_document(const toml::table& root, BrokerSettings& settings, Diagnostics& diagnostics) {
    const std::vector<std::string_view> sections(kSections.begin(), kSections.end());
    std::vector<std::string_view> everything = names_of(kSettingKeys);
    const std::vector<std::string> bridge_keys = bridge_config_keys();
    everything.insert(everything.end(), bridge_keys.begin(), bridge_keys.end());
    everything.insert(everything.end(), kSections.begin(), kSections.end());

    for (const auto& [key, node] : root) {
        const std::string name(key.str());
        if (name == kListenersSection) {
            read_listeners(node, settings, diagnostics);
        } else if (std::find(kSections.begin(), kSections.end(), name) != kSections.end()) {
            if (const toml::table* table = node.as_table()) {
                read_section(name, *table, settings, diagnostics);
            } else {
                diagnostics.report(node.source(), name + ": expected a table, got " +
                                                      std::string(describe(node.type())));
            }
        } else if (node.is_table()) {
            diagnostics.report(key.source(), unknown("section", name, sections));
        } else {
            diagnostics.report(key.source(), unknown("key", name, everything));
        }
    }
}

// Parsed address bytes (4 or 16), or the literal "localhost"; nullopt when not acceptable.
std::optional<std::string> address_identity(std::string_view address) {
    if (address == "localhost") {
        return std::string(address);
    }
    const std::string text(address);
    unsigned char bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        return std::string(reinterpret_cast<const char*>(bytes), 4);
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
        return std::string(reinterpret_cast<const char*>(bytes), 16);
    }
    return std::nullopt;
}

// The message of a ConfigError is one line: control characters, which toml++ descriptions and
// quoted user values can contain, are written as escapes.
std::string one_line(std::string_view text) {
    std::string line;
    for (const char c : text) {
        if (c == '\n') {
            line += "\\n";
        } else if (c == '\r') {
            line += "\\r";
        } else if (c == '\t') {
            line += "\\t";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            line += "\\x";
            line += kHex[(c >> 4) & 0xf];
            line += kHex[c & 0xf];
        } else {
            line += c;
        }
    }
    return line;
}

}  // namespace

ConfigError::ConfigError(std::string source, uint32_t line, uint32_t column, std::string reason)
    : std::runtime_error(one_line(source) + (line == 0 ? "" : ":" + std::to_string(line)) +
                         (line == 0 || column == 0 ? "" : ":" + std::to_string(column)) + ": " +
                         one_line(reason)),
      _source(std::move(source)),
      _line(line),
      _column(column),
      _reason(one_line(reason)) {}

core::BrokerSettings load_config_string(std::string_view text, const std::string& source_name) {
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(source_name));
    } catch (const toml::parse_error& error) {
        throw ConfigError(source_name, static_cast<uint32_t>(error.source().begin.line),
                          static_cast<uint32_t>(error.source().begin.column),
                          std::string(error.description()));
    }
    BrokerSettings settings;
    Diagnostics diagnostics(source_name);
    read_document(root, settings, diagnostics);
    diagnostics.throw_if_any();
    // The start-up rule on anonymous access needs to know whether the default was chosen.
    settings.auth.allow_anonymous_set = root["auth"]["allow_anonymous"].is_boolean();
    if (!settings.auth.allow_anonymous_set && !settings.auth.password_file.empty()) {
        // With a password file, users are expected to log in: anonymous access must be asked for.
        settings.auth.allow_anonymous = false;
    }
    return settings;
}

core::BrokerSettings load_config_file(const std::string& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) {
        throw ConfigError(path, 0, 0,
                          "cannot open file (" + std::string(std::strerror(errno)) + ")");
    }
    std::string text;
    char buffer[16 * 1024];
    size_t count = 0;
    while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
        text.append(buffer, count);
    }
    if (std::ferror(file.get()) != 0) {
        throw ConfigError(path, 0, 0,
                          "cannot read file (" + std::string(std::strerror(errno)) + ")");
    }
    return load_config_string(text, path);
}

std::vector<std::string> known_config_keys() {
    std::vector<std::string> keys;
    for (const auto& spec : kSettingKeys) {
        keys.emplace_back(spec.name);
    }
    for (const auto& spec : kListenerKeys) {
        keys.push_back(std::string(kListenersSection) + "." + std::string(spec.name));
    }
    const std::vector<std::string> bridge_keys = bridge_config_keys();
    keys.insert(keys.end(), bridge_keys.begin(), bridge_keys.end());
    return keys;
}

bool is_loopback_address(std::string_view address) {
    if (address == "localhost") {
        return true;
    }
    const std::string text(address);
    unsigned char bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        return bytes[0] == 127;
    }
    static constexpr unsigned char kIpv6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 0, 0, 0, 1};
    return inet_pton(AF_INET6, text.c_str(), bytes) == 1 &&
           std::memcmp(bytes, kIpv6Loopback, sizeof bytes) == 0;
}

void check_anonymous_access(const core::BrokerSettings& settings, const std::string& source) {
    if (!settings.auth.allow_anonymous || settings.auth.allow_anonymous_set) {
        return;
    }
    for (const auto& listener : settings.listeners) {
        if (!is_loopback_address(listener.address)) {
            throw ConfigError(source, 0, 0,
                              "auth.allow_anonymous: anonymous access on a non-loopback listener " +
                                  format_endpoint(listener) +
                                  " must be allowed explicitly (set allow_anonymous = true or "
                                  "configure a password_file)");
        }
    }
}

bool is_valid_log_level(std::string_view level) {
    return std::find(kLogLevels.begin(), kLogLevels.end(), level) != kLogLevels.end();
}

bool is_valid_listener_address(std::string_view address) {
    return address_identity(address).has_value();
}

bool same_endpoint(const core::ListenerSettings& a, const core::ListenerSettings& b) {
    if (a.port == 0 || a.port != b.port) {
        return false;
    }
    const auto identity_a = address_identity(a.address);
    return identity_a.has_value() && identity_a == address_identity(b.address);
}

std::string format_endpoint(const core::ListenerSettings& listener) {
    const bool ipv6 = listener.address.find(':') != std::string::npos;
    return (ipv6 ? "[" + listener.address + "]" : listener.address) + ":" +
           std::to_string(listener.port);
}

}  // namespace tern::app
