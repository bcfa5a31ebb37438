// Tests of the TOML configuration loader: defaults, every key, and the exact text of each error.
#include "app/config_loader.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "config_error.hpp"

using tern::app::ConfigError;
using tern::app::load_config_file;
using tern::app::load_config_string;
using tern::app::test::error_of;
using tern::core::BrokerSettings;
using tern::core::ListenerSettings;

namespace {

void check_same(const BrokerSettings& a, const BrokerSettings& b) {
    CHECK(a.workers == b.workers);
    CHECK(a.log_level == b.log_level);
    CHECK(a.sys_interval_s == b.sys_interval_s);
    CHECK(a.allow_zero_length_client_id == b.allow_zero_length_client_id);
    CHECK(a.retain_available == b.retain_available);
    CHECK(a.maximum_qos == b.maximum_qos);
    CHECK(a.wildcard_subscriptions == b.wildcard_subscriptions);
    CHECK(a.shared_subscriptions == b.shared_subscriptions);
    CHECK(a.subscription_identifiers == b.subscription_identifiers);
    REQUIRE(a.listeners.size() == b.listeners.size());
    for (size_t i = 0; i < a.listeners.size(); ++i) {
        CHECK(a.listeners[i].type == b.listeners[i].type);
        CHECK(a.listeners[i].address == b.listeners[i].address);
        CHECK(a.listeners[i].port == b.listeners[i].port);
    }
    CHECK(a.limits.max_connections == b.limits.max_connections);
    CHECK(a.limits.max_packet_size == b.limits.max_packet_size);
    CHECK(a.limits.connect_timeout_ms == b.limits.connect_timeout_ms);
    CHECK(a.limits.max_subscriptions_per_client == b.limits.max_subscriptions_per_client);
    CHECK(a.limits.max_topic_length == b.limits.max_topic_length);
    CHECK(a.limits.max_topic_levels == b.limits.max_topic_levels);
    CHECK(a.limits.max_client_id_length == b.limits.max_client_id_length);
    CHECK(a.limits.max_keep_alive == b.limits.max_keep_alive);
    CHECK(a.limits.receive_maximum == b.limits.receive_maximum);
    CHECK(a.limits.max_inflight == b.limits.max_inflight);
    CHECK(a.limits.max_queued_messages == b.limits.max_queued_messages);
    CHECK(a.limits.max_queued_bytes == b.limits.max_queued_bytes);
    CHECK(a.limits.queue_qos0_offline == b.limits.queue_qos0_offline);
    CHECK(a.limits.topic_alias_maximum == b.limits.topic_alias_maximum);
    CHECK(a.limits.max_session_expiry == b.limits.max_session_expiry);
    CHECK(a.limits.max_outgoing_buffer == b.limits.max_outgoing_buffer);
    CHECK(a.limits.pause_publishers == b.limits.pause_publishers);
    CHECK(a.limits.slow_subscriber_messages == b.limits.slow_subscriber_messages);
    CHECK(a.limits.slow_subscriber_bytes == b.limits.slow_subscriber_bytes);
    CHECK(a.data_dir == b.data_dir);
    CHECK(a.storage.durability == b.storage.durability);
    CHECK(a.storage.max_retained_messages == b.storage.max_retained_messages);
    CHECK(a.storage.max_retained_bytes == b.storage.max_retained_bytes);
    CHECK(a.storage.write_delay_ms == b.storage.write_delay_ms);
}

ListenerSettings endpoint(const char* address, uint16_t port) {
    ListenerSettings settings;
    settings.address = address;
    settings.port = port;
    return settings;
}

std::string repo_file(const char* relative) {
    return std::string(TERN_SOURCE_DIR) + "/" + relative;
}

// A file in the temporary directory, removed when the test ends.
class TempFile {
  public:
    TempFile(const std::string& name, std::string_view content)
        : _path(std::filesystem::temp_directory_path() /
                ("tern_app_" + std::to_string(::getpid()) + "_" + name)) {
        std::ofstream(_path, std::ios::binary) << content;
    }
    ~TempFile() { std::filesystem::remove(_path); }
    std::string path() const { return _path.string(); }

  private:
    std::filesystem::path _path;
};

constexpr std::string_view kEveryKey = R"(# every key, none at its default
[broker]
workers = 256
log_level = "debug"
sys_interval = 0
allow_zero_length_client_id = false
retain_available = false
maximum_qos = 1
wildcard_subscriptions = false
shared_subscriptions = false
subscription_identifiers = false

[[listeners]]
type = "mqtt"
address = "0.0.0.0"
port = 1884

[[listeners]]
address = "::1"
port = 65535

[[listeners]]
address = "localhost"
port = 0

[limits]
max_connections = 10000000
max_packet_size = 16
connect_timeout_ms = 3600000
max_subscriptions_per_client = 0
max_topic_length = 65535
max_topic_levels = 0
max_client_id_length = 23
max_keep_alive = 65535
receive_maximum = 1
max_inflight = 65535
max_queued_messages = 0
max_queued_bytes = 1099511627776
queue_qos0_offline = true
topic_alias_maximum = 0
max_session_expiry = 4294967295
max_outgoing_buffer = 68719476736
queue_full_policy = "drop-oldest"
pause_publishers = false
slow_subscriber_messages = 100000000
slow_subscriber_bytes = 4096

[storage]
data_dir = "/var/lib/tern"
durability = "sync"
max_retained_messages = 1000000000
max_retained_bytes = 7
write_delay_ms = 250

[auth]
allow_anonymous = false
password_file = "/etc/tern/passwd"
acl_file = "/etc/tern/acl"
)";

}  // namespace

TEST_CASE("an empty or comment-only file gives the built-in defaults") {
    check_same(load_config_string("", "t.toml"), BrokerSettings{});
    check_same(load_config_string("# nothing here\n\n   # at all\n", "t.toml"), BrokerSettings{});
    const BrokerSettings defaults = load_config_string("", "t.toml");
    REQUIRE(defaults.listeners.size() == 1);
    CHECK(defaults.listeners[0].type == "mqtt");
    CHECK(defaults.listeners[0].address == "127.0.0.1");
    CHECK(defaults.listeners[0].port == 1883);
}

TEST_CASE("every key is read into its field") {
    BrokerSettings expected;
    expected.workers = 256;
    expected.log_level = "debug";
    expected.sys_interval_s = 0;
    expected.allow_zero_length_client_id = false;
    expected.retain_available = false;
    expected.maximum_qos = 1;
    expected.wildcard_subscriptions = false;
    expected.shared_subscriptions = false;
    expected.subscription_identifiers = false;
    auto listener = [](const char* address, uint16_t port) {
        ListenerSettings settings;
        settings.address = address;
        settings.port = port;
        return settings;
    };
    expected.listeners = {listener("0.0.0.0", 1884), listener("::1", 65535),
                          listener("localhost", 0)};
    expected.limits.max_connections = 10'000'000;
    expected.limits.max_packet_size = 16;
    expected.limits.connect_timeout_ms = 3'600'000;
    expected.limits.max_subscriptions_per_client = 0;
    expected.limits.max_topic_length = 65535;
    expected.limits.max_topic_levels = 0;
    expected.limits.max_client_id_length = 23;
    expected.limits.max_keep_alive = 65535;
    expected.limits.receive_maximum = 1;
    expected.limits.max_inflight = 65535;
    expected.limits.max_queued_messages = 0;
    expected.limits.max_queued_bytes = 1'099'511'627'776;
    expected.limits.queue_qos0_offline = true;
    expected.limits.topic_alias_maximum = 0;
    expected.limits.max_session_expiry = 4'294'967'295;
    expected.limits.max_outgoing_buffer = 68'719'476'736;
    expected.limits.queue_full_policy = "drop-oldest";
    expected.limits.pause_publishers = false;
    expected.limits.slow_subscriber_messages = 100'000'000;
    expected.limits.slow_subscriber_bytes = 4096;
    expected.data_dir = "/var/lib/tern";
    expected.storage.durability = "sync";
    expected.storage.max_retained_messages = 1'000'000'000;
    expected.storage.max_retained_bytes = 7;
    expected.storage.write_delay_ms = 250;
    const BrokerSettings loaded = load_config_string(kEveryKey, "t.toml");
    check_same(loaded, expected);
    CHECK(loaded.limits.queue_full_policy == "drop-oldest");
    CHECK(loaded.storage.durability == "sync");
    CHECK(loaded.storage.max_retained_messages == 1'000'000'000);
    CHECK(loaded.storage.max_retained_bytes == 7);
    CHECK(loaded.storage.write_delay_ms == 250);
    CHECK_FALSE(loaded.auth.allow_anonymous);
    CHECK(loaded.auth.allow_anonymous_set);
    CHECK(loaded.auth.password_file == "/etc/tern/passwd");
    CHECK(loaded.auth.acl_file == "/etc/tern/acl");
}

TEST_CASE("anonymous access on a non-loopback listener must be allowed explicitly") {
    using tern::app::check_anonymous_access;
    const std::string open_listener = "[[listeners]]\naddress = \"0.0.0.0\"\nport = 1883\n";
    const BrokerSettings implicit = load_config_string(open_listener, "t.toml");
    CHECK(implicit.auth.allow_anonymous);
    CHECK_FALSE(implicit.auth.allow_anonymous_set);
    try {
        check_anonymous_access(implicit, "t.toml");
        FAIL("expected a ConfigError");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) ==
              "t.toml: auth.allow_anonymous: anonymous access on a non-loopback listener "
              "0.0.0.0:1883 must be allowed explicitly (set allow_anonymous = true or configure a "
              "password_file)");
    }
    CHECK_NOTHROW(check_anonymous_access(
        load_config_string(open_listener + "[auth]\nallow_anonymous = true\n", "t.toml"),
        "t.toml"));
    const BrokerSettings with_passwords =
        load_config_string(open_listener + "[auth]\npassword_file = \"p\"\n", "t.toml");
    CHECK_FALSE(with_passwords.auth.allow_anonymous);
    CHECK_NOTHROW(check_anonymous_access(with_passwords, "t.toml"));
    for (const char* address : {"127.0.0.1", "127.8.9.10", "::1", "localhost"}) {
        CHECK_NOTHROW(check_anonymous_access(
            load_config_string("[[listeners]]\naddress = \"" + std::string(address) + "\"\n",
                               "t.toml"),
            "t.toml"));
    }
}

TEST_CASE("keys that are absent keep their defaults") {
    const BrokerSettings settings =
        load_config_string("[limits]\nmax_inflight = 7\n[broker]\nworkers = 3\n", "t.toml");
    BrokerSettings expected;
    expected.limits.max_inflight = 7;
    expected.workers = 3;
    check_same(settings, expected);
}

TEST_CASE("inline tables and dotted keys are the same as sections") {
    const BrokerSettings settings = load_config_string(
        "broker = { workers = 2 }\nlimits.max_inflight = 9\n"
        "listeners = [{ address = \"::\", port = 1885 }]\n",
        "t.toml");
    CHECK(settings.workers == 2);
    CHECK(settings.limits.max_inflight == 9);
    REQUIRE(settings.listeners.size() == 1);
    CHECK(settings.listeners[0].type == "mqtt");
    CHECK(settings.listeners[0].address == "::");
    CHECK(settings.listeners[0].port == 1885);
}

TEST_CASE("the repository's configs/tern.toml loads and equals the built-in defaults") {
    const std::string path = repo_file("configs/tern.toml");
    check_same(load_config_file(path), BrokerSettings{});
}

TEST_CASE("configs/tern.toml sets every known key explicitly") {
    std::ifstream file(repo_file("configs/tern.toml"));
    REQUIRE(file.good());
    std::stringstream content;
    content << file.rdbuf();
    const std::string text = content.str();
    const std::vector<std::string> keys = tern::app::known_config_keys();
    CHECK(keys.size() == 79);
    const std::set<std::string> commented_bridge_keys{
        "jwt_secret_file", "jwt_secret", "jwt_issuer",  "jwt_audience",
        "cert_file",       "key_file",   "ca_file",     "require_certificate",
        "tls_min_version", "ciphers",    "ciphersuites"};
    for (const std::string& key : keys) {
        const std::string section = key.substr(0, key.find('.'));
        const std::string bare = key.substr(key.find('.') + 1);
        const std::string header =
            section == "listeners" ? "\n[[listeners]]\n" : "\n[" + section + "]\n";
        const size_t header_at = text.find(header);
        INFO("key: " << key);
        REQUIRE(header_at != std::string::npos);
        const size_t next_section = text.find("\n[", header_at + header.size());
        // The TLS keys of a listener are shown on a commented-out "mqtt+tls" listener: the
        // default listener is plain TCP, where they are errors. So are the bridge's TLS keys
        // (tls = false) and JWT secret and checks (no default value).
        const bool tls_key =
            (section == "listeners" && bare != "type" && bare != "address" && bare != "port") ||
            (section == "bridge" && commented_bridge_keys.count(bare) != 0);
        const size_t key_at = text.find((tls_key ? "\n# " : "\n") + bare + " = ", header_at);
        CHECK(key_at != std::string::npos);
        CHECK(key_at < next_section);
    }
}

TEST_CASE("storage durability and queue policy accept only their names") {
    CHECK(error_of("[storage]\ndurability = \"fast\"\n") ==
          "t.toml:2: storage.durability: 'fast' is not one of memory, async, sync");
    CHECK(error_of("[limits]\nqueue_full_policy = \"oldest\"\n") ==
          "t.toml:2: limits.queue_full_policy: 'oldest' is not one of refuse-newest, drop-oldest");
}

TEST_CASE("unknown keys and sections are named, with the closest known name") {
    CHECK(error_of("[limits]\nmax_conections = 5\n") ==
          "t.toml:2: unknown key 'limits.max_conections'; did you mean 'limits.max_connections'?");
    CHECK(error_of("[broker]\nmax_connections = 5\n") ==
          "t.toml:2: unknown key 'broker.max_connections'; did you mean 'limits.max_connections'?");
    CHECK(error_of("[broker]\nworkers = 1\nfrobnicate = 1\n") ==
          "t.toml:3: unknown key 'broker.frobnicate'");
    CHECK(error_of("# top\nworkers = 4\n") ==
          "t.toml:2: unknown key 'workers'; did you mean 'broker.workers'?");
    CHECK(error_of("\n[limit]\nmax_connections = 5\n") ==
          "t.toml:2: unknown section 'limit'; did you mean 'limits'?");
    CHECK(error_of("[mqtt]\nport = 1\n") == "t.toml:1: unknown section 'mqtt'");
    CHECK(error_of("[broker.extra]\nx = 1\n") == "t.toml:1: unknown key 'broker.extra'");
}

TEST_CASE("a value of the wrong type names the expected and the actual type") {
    CHECK(error_of("[limits]\nmax_packet_size = \"1MB\"\n") ==
          "t.toml:2: limits.max_packet_size: expected an integer, got a string");
    CHECK(error_of("[broker]\nworkers = 2.0\n") ==
          "t.toml:2: broker.workers: expected an integer, got a float");
    CHECK(error_of("[broker]\nretain_available = 1\n") ==
          "t.toml:2: broker.retain_available: expected a boolean, got an integer");
    CHECK(error_of("[broker]\nlog_level = true\n") ==
          "t.toml:2: broker.log_level: expected a string, got a boolean");
    CHECK(error_of("[storage]\ndata_dir = [\"a\"]\n") ==
          "t.toml:2: storage.data_dir: expected a string, got an array");
    CHECK(error_of("[limits]\nmax_inflight = 1979-05-27\n") ==
          "t.toml:2: limits.max_inflight: expected an integer, got a date");
    CHECK(error_of("broker = 1\n") == "t.toml:1: broker: expected a table, got an integer");
}

TEST_CASE("integers outside their range are refused with the range") {
    CHECK(error_of("[broker]\nmaximum_qos = 3\n") ==
          "t.toml:2: broker.maximum_qos: 3 is out of range 0..2");
    CHECK(error_of("[broker]\nworkers = -1\n") ==
          "t.toml:2: broker.workers: -1 is out of range 0..256");
    CHECK(error_of("[broker]\nworkers = 257\n") ==
          "t.toml:2: broker.workers: 257 is out of range 0..256");
    CHECK(error_of("[limits]\nreceive_maximum = 0\n") ==
          "t.toml:2: limits.receive_maximum: 0 is out of range 1..65535");
    CHECK(error_of("[limits]\nmax_packet_size = 268435461\n") ==
          "t.toml:2: limits.max_packet_size: 268435461 is out of range 16..268435460");
    CHECK(error_of("[limits]\nmax_packet_size = 15\n") ==
          "t.toml:2: limits.max_packet_size: 15 is out of range 16..268435460");
    CHECK(error_of("[limits]\nconnect_timeout_ms = 99\n") ==
          "t.toml:2: limits.connect_timeout_ms: 99 is out of range 100..3600000");
    CHECK(error_of("[limits]\nmax_inflight = 65536\n") ==
          "t.toml:2: limits.max_inflight: 65536 is out of range 1..65535");
    CHECK(error_of("[limits]\nmax_client_id_length = 22\n") ==
          "t.toml:2: limits.max_client_id_length: 22 is out of range 23..65535");
    CHECK(error_of("[limits]\nmax_session_expiry = 4294967296\n") ==
          "t.toml:2: limits.max_session_expiry: 4294967296 is out of range 0..4294967295");
    CHECK(error_of("[broker]\nsys_interval = 86401\n") ==
          "t.toml:2: broker.sys_interval: 86401 is out of range 0..86400");
}

TEST_CASE("string values are checked") {
    CHECK(error_of("[broker]\nlog_level = \"verbose\"\n") ==
          "t.toml:2: broker.log_level: 'verbose' is not one of trace, debug, info, warn, error, "
          "off");
    CHECK(error_of("[storage]\ndata_dir = \"\"\n") ==
          "t.toml:2: storage.data_dir: must not be empty");
    for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
        CHECK(load_config_string(std::string("broker.log_level = \"") + level + "\"", "t.toml")
                  .log_level == level);
    }
}

TEST_CASE("listener entries are validated") {
    CHECK(error_of("[[listeners]]\ntype = \"ws\"\n") ==
          "t.toml:2: listeners[0].type: 'ws' is not a supported listener type (supported: mqtt, "
          "mqtt+tls)");
    CHECK(error_of("[[listeners]]\nport = 65536\n") ==
          "t.toml:2: listeners[0].port: 65536 is out of range 0..65535");
    CHECK(error_of("[[listeners]]\nport = -1\n") ==
          "t.toml:2: listeners[0].port: -1 is out of range 0..65535");
    CHECK(error_of("[[listeners]]\nport = \"1883\"\n") ==
          "t.toml:2: listeners[0].port: expected an integer, got a string");
    CHECK(error_of("[[listeners]]\nport = 1\n[[listeners]]\naddress = \"example.com\"\n") ==
          "t.toml:4: listeners[1].address: 'example.com' is not an IPv4 or IPv6 address or "
          "'localhost'");
    CHECK(error_of("[[listeners]]\naddress = \"256.0.0.1\"\n") ==
          "t.toml:2: listeners[0].address: '256.0.0.1' is not an IPv4 or IPv6 address or "
          "'localhost'");
    CHECK(error_of("[[listeners]]\naddress = \"[::1]\"\n") ==
          "t.toml:2: listeners[0].address: '[::1]' is not an IPv4 or IPv6 address or "
          "'localhost' (write IPv6 addresses without brackets)");
    CHECK(error_of("[[listeners]]\nadress = \"::1\"\n") ==
          "t.toml:2: unknown key 'listeners[0].adress'; did you mean 'listeners[0].address'?");
    CHECK(error_of("listeners = [1]\n") ==
          "t.toml:1: listeners[0]: expected a table, got an integer");
    CHECK(error_of("[listeners]\nport = 1\n") ==
          "t.toml:1: listeners: expected an array of tables ([[listeners]]), got a table");
    CHECK(error_of("listeners = \"127.0.0.1:1883\"\n") ==
          "t.toml:1: listeners: expected an array of tables, got a string");
}

TEST_CASE("an empty listener list is refused") {
    CHECK(error_of("# no listeners\nlisteners = []\n") ==
          "t.toml:2: listeners: at least one listener is required");
}

TEST_CASE("two listeners on the same address and port are refused") {
    CHECK(error_of("[[listeners]]\nport = 1883\n\n[[listeners]]\naddress = \"127.0.0.1\"\n") ==
          "t.toml:4: listeners[1]: 127.0.0.1:1883 is already used by listeners[0] (line 1)");
    // Addresses are compared as parsed, not as written.
    CHECK(error_of("[[listeners]]\naddress = \"::1\"\n[[listeners]]\naddress = \"::1\"\nport = 1\n"
                   "[[listeners]]\naddress = \"0:0:0:0:0:0:0:1\"\n") ==
          "t.toml:6: listeners[2]: [0:0:0:0:0:0:0:1]:1883 is already used by listeners[0] "
          "(line 1)");
    // Port 0 picks a free port each time, so it never clashes; other ports and addresses differ.
    const BrokerSettings settings = load_config_string(
        "[[listeners]]\nport = 0\n[[listeners]]\nport = 0\n[[listeners]]\naddress = "
        "\"127.0.0.2\"\n[[listeners]]\nport = 1884\n",
        "t.toml");
    CHECK(settings.listeners.size() == 4);
}

TEST_CASE("a listener with a bad key is not also reported as a duplicate") {
    CHECK(error_of("[[listeners]]\nport = 1883\n[[listeners]]\naddress = \"nowhere\"\n") ==
          "t.toml:4: listeners[1].address: 'nowhere' is not an IPv4 or IPv6 address or "
          "'localhost'");
}

TEST_CASE("syntax errors give the line and column of the TOML parser") {
    CHECK(error_of("[broker]\nworkers = \n") ==
          "t.toml:2:11: Error while parsing key-value pair: expected value, saw '\\n'");
    CHECK(error_of("[broker]\nworkers = 1\nworkers = 2\n") ==
          "t.toml:3:11: Error while parsing key-value pair: cannot redefine existing integer "
          "'workers'");
    CHECK(error_of("[limits]\nmax_queued_bytes = 99999999999999999999\n") ==
          "t.toml:2:40: Error while parsing decimal integer: '99999999999999999999' is not "
          "representable in 64 bits");
    try {
        (void)load_config_string("[broker\n", "t.toml");
        FAIL("no error");
    } catch (const ConfigError& error) {
        CHECK(error.source() == "t.toml");
        CHECK(error.line() == 1);
        CHECK(error.column() > 0);
    }
}

TEST_CASE("error messages stay on one line") {
    CHECK(error_of("[broker]\nretain_available = t\n") ==
          "t.toml:2:21: Error while parsing boolean: expected 'true', saw 't\\n'");
    CHECK(error_of("[broker]\nlog_level = \"a\\nb\\t\\u0001\"\n") ==
          "t.toml:2: broker.log_level: 'a\\nb\\t\\x01' is not one of trace, debug, info, warn, "
          "error, off");
}

TEST_CASE("the earliest problem in the file is reported, whatever the section order") {
    // toml++ iterates sections alphabetically ("broker" first); the [storage] error comes first
    // in the file.
    CHECK(error_of("[storage]\ndata_dir = 1\n\n[broker]\nworkers = 999\n") ==
          "t.toml:2: storage.data_dir: expected a string, got an integer");
    CHECK(error_of("[broker]\nworkers = 999\nlog_level = 1\n") ==
          "t.toml:2: broker.workers: 999 is out of range 0..256");
}

TEST_CASE("ConfigError keeps its parts") {
    try {
        (void)load_config_string("\n\n[limits]\nmax_inflight = 0\n", "conf/x.toml");
        FAIL("no error");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) ==
              "conf/x.toml:4: limits.max_inflight: 0 is out of range 1..65535");
        CHECK(error.source() == "conf/x.toml");
        CHECK(error.line() == 4);
        CHECK(error.column() == 0);
        CHECK(error.reason() == "limits.max_inflight: 0 is out of range 1..65535");
    }
}

TEST_CASE("load_config_file reads the file and names it in errors") {
    const TempFile good("good.toml", "[broker]\nworkers = 5\n");
    CHECK(load_config_file(good.path()).workers == 5);

    const TempFile bad("bad.toml", "[broker]\n\nworkers = \"five\"\n");
    try {
        (void)load_config_file(bad.path());
        FAIL("no error");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) ==
              bad.path() + ":3: broker.workers: expected an integer, got a string");
    }
}

TEST_CASE("a file that cannot be read is an error without a line") {
    try {
        (void)load_config_file("/nonexistent/tern.toml");
        FAIL("no error");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) ==
              "/nonexistent/tern.toml: cannot open file (No such file or directory)");
        CHECK(error.line() == 0);
    }
    const std::string directory = std::filesystem::temp_directory_path().string();
    try {
        (void)load_config_file(directory);
        FAIL("no error");
    } catch (const ConfigError& error) {
        CHECK(std::string(error.what()) == directory + ": cannot read file (Is a directory)");
    }
}

TEST_CASE("listener address helpers") {
    using tern::app::format_endpoint;
    using tern::app::is_valid_listener_address;
    using tern::app::same_endpoint;
    CHECK(is_valid_listener_address("0.0.0.0"));
    CHECK(is_valid_listener_address("::"));
    CHECK(is_valid_listener_address("fe80::1"));
    CHECK(is_valid_listener_address("localhost"));
    CHECK_FALSE(is_valid_listener_address(""));
    CHECK_FALSE(is_valid_listener_address("1.2.3"));
    CHECK_FALSE(is_valid_listener_address("localhost.localdomain"));
    CHECK(same_endpoint(endpoint("::1", 1), endpoint("0::1", 1)));
    CHECK_FALSE(same_endpoint(endpoint("::1", 1), endpoint("::1", 2)));
    CHECK_FALSE(same_endpoint(endpoint("::1", 0), endpoint("::1", 0)));
    CHECK_FALSE(same_endpoint(endpoint("127.0.0.1", 1), endpoint("localhost", 1)));
    CHECK(format_endpoint(endpoint("::1", 1883)) == "[::1]:1883");
    CHECK(format_endpoint(endpoint("10.0.0.1", 0)) == "10.0.0.1:0");
}
