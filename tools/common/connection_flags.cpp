// Registration and validation of the connection flags tern-pub and tern-sub share.
#include "connection_flags.hpp"

#include <mqtt/will_options.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "tool_error.hpp"
#include "topic_filter.hpp"

namespace tern::tools {
namespace {

constexpr uint32_t kSessionNeverExpires = 0xFFFFFFFFu;

void add_broker_flags(CLI::App& app, ConnectionFlags& flags) {
    const std::string group = "Broker";
    app.add_option("-h,--host", flags.host, "Broker host name or address (default localhost)")
        ->group(group)
        ->option_text("HOST");
    app.add_option("-p,--port", flags.port,
                   "Broker port (default 1883; 8883 with TLS; 80/443 for ws/wss URLs)")
        ->check(CLI::Range(1, 65535))
        ->group(group)
        ->option_text("PORT");
    app.add_option("-L,--url", flags.url,
                   "mqtt|mqtts|ws|wss://[user[:password]@]host[:port]/topic instead of -h -p -t")
        ->group(group)
        ->option_text("URL");
    app.add_option("--ws-path", flags.ws_path,
                   "HTTP path of the WebSocket upgrade for ws:// and wss:// (default /mqtt)")
        ->group(group)
        ->option_text("PATH");
    app.add_option("--connect-timeout", flags.connect_timeout,
                   "Seconds to wait for the connection and CONNACK (default 10)")
        ->check(CLI::Range(1, 3600))
        ->group(group)
        ->option_text("SECONDS");
    app.add_flag("-d,--debug", flags.debug, "Print connection events on stderr")->group(group);
    app.add_flag("--quiet", flags.quiet, "Do not print error messages")->group(group);
}

void add_session_flags(CLI::App& app, ConnectionFlags& flags) {
    const std::string group = "Session";
    app.add_option("-i,--id", flags.client_id, "Client id (default <tool>-<pid>)")
        ->group(group)
        ->option_text("ID");
    app.add_option("-I,--id-prefix", flags.id_prefix, "Client id prefix; the pid is appended")
        ->group(group)
        ->option_text("PREFIX");
    app.add_option("-u,--username", flags.user, "User name")->group(group)->option_text("USER");
    app.add_option("-P,--pw", flags.password, "Password")->group(group)->option_text("PASSWORD");
    app.add_option("-k,--keepalive", flags.keepalive, "Keep alive in seconds (default 60)")
        ->check(CLI::Range(0, 65535))
        ->group(group)
        ->option_text("SECONDS");
    app.add_option("-V,--protocol-version", flags.protocol_version,
                   "MQTT version: 31, 311 or 5 (or mqttv31, mqttv311, mqttv5); default 311")
        ->group(group)
        ->option_text("VERSION");
    app.add_flag("-c,--disable-clean-session", flags.persistent,
                 "Persistent session (needs -i); with MQTT 5 it never expires unless -x is given")
        ->group(group);
    app.add_option("-x,--session-expiry-interval", flags.session_expiry,
                   "MQTT 5 session expiry in seconds; -1 means never")
        ->check(CLI::Range(-1LL, 4294967295LL))
        ->group(group)
        ->option_text("SECONDS");
    app.add_option("-D,--property", flags.property_args,
                   "MQTT 5 property, e.g. -D publish content-type text/plain or "
                   "-D connect user-property KEY VALUE (see the man page)")
        ->expected(3, 4)
        ->allow_extra_args(false)
        ->group(group)
        ->option_text("COMMAND NAME VALUE");
}

void add_will_and_tls_flags(CLI::App& app, ConnectionFlags& flags) {
    const std::string will = "Will";
    app.add_option("--will-topic", flags.will_topic, "Topic of the will message")
        ->group(will)
        ->option_text("TOPIC");
    app.add_option("--will-payload", flags.will_payload, "Payload of the will message")
        ->group(will)
        ->option_text("PAYLOAD");
    app.add_option("--will-qos", flags.will_qos, "QoS of the will message")
        ->check(CLI::Range(0, 2))
        ->group(will)
        ->option_text("QOS");
    app.add_flag("--will-retain", flags.will_retain, "Retain the will message")->group(will);
    const std::string tls = "TLS";
    app.add_option("--cafile", flags.cafile, "CA certificates (PEM) to trust; enables TLS")
        ->group(tls)
        ->option_text("FILE");
    app.add_option("--capath", flags.capath, "Directory of CA certificates; enables TLS")
        ->group(tls)
        ->option_text("DIR");
    app.add_option("--cert", flags.cert, "Client certificate (PEM); enables TLS")
        ->group(tls)
        ->option_text("FILE");
    app.add_option("--key", flags.key, "Client private key (PEM) for --cert")
        ->group(tls)
        ->option_text("FILE");
    app.add_flag("--insecure", flags.insecure,
                 "Do not check that the server certificate names the host")
        ->group(tls);
}

Endpoint resolve_endpoint(const ConnectionFlags& flags, const std::optional<BrokerUrl>& url) {
    Endpoint endpoint;
    endpoint.ws_path = flags.ws_path;
    if (url) {
        endpoint.transport = url->transport;
        endpoint.host = url->host;
    } else if (flags.host) {
        endpoint.host = *flags.host;
    }
    bool tls_files = flags.cafile || flags.capath || flags.cert;
    if (tls_files && endpoint.transport == Transport::kTcp) {
        endpoint.transport = Transport::kTls;
    }
    if (tls_files && endpoint.transport == Transport::kWebSocket) {
        endpoint.transport = Transport::kSecureWebSocket;
    }
    if (url && url->port) {
        endpoint.port = *url->port;
    } else {
        endpoint.port = flags.port.value_or(default_port(endpoint.transport));
    }
    if (endpoint.ws_path.empty() || endpoint.ws_path.front() != '/') {
        throw UsageError("--ws-path must start with '/'");
    }
    return endpoint;
}

std::string choose_client_id(const ConnectionFlags& flags, const ToolIdentity& tool) {
    if (flags.client_id && flags.id_prefix) {
        throw UsageError("-i and -I cannot be used together");
    }
    if (flags.persistent && !flags.client_id) {
        throw UsageError(
            "-c needs a client id (-i): a generated id would not find the session "
            "again");
    }
    if (flags.client_id) {
        return *flags.client_id;
    }
    std::string pid = std::to_string(static_cast<long>(::getpid()));
    return flags.id_prefix ? *flags.id_prefix + pid : tool.name + "-" + pid;
}

// Paho only says "TLS connect failure" for a missing file; name it before connecting.
void check_readable(const std::optional<std::string>& path, const std::string& flag) {
    if (path && ::access(path->c_str(), R_OK) != 0) {
        throw ToolError(kExitFailure,
                        "cannot read " + flag + " '" + *path + "': " + std::strerror(errno));
    }
}

mqtt::ssl_options make_ssl_options(const ConnectionFlags& flags) {
    if (flags.cert.has_value() != flags.key.has_value()) {
        throw UsageError("--cert and --key must be given together");
    }
    check_readable(flags.cafile, "--cafile");
    check_readable(flags.capath, "--capath");
    check_readable(flags.cert, "--cert");
    check_readable(flags.key, "--key");
    mqtt::ssl_options ssl;
    if (flags.cafile) {
        ssl.set_trust_store(*flags.cafile);
    }
    if (flags.capath) {
        ssl.ca_path(*flags.capath);
    }
    if (flags.cert) {
        ssl.set_key_store(*flags.cert);
        ssl.set_private_key(*flags.key);
    }
    ssl.set_enable_server_cert_auth(true);
    // --insecure skips only the host name check, as in mosquitto; the chain is still verified.
    ssl.set_verify(!flags.insecure);
    return ssl;
}

void apply_will(const ConnectionFlags& flags, ConnectionPlan& plan) {
    if (!flags.will_topic) {
        if (flags.will_payload || flags.will_qos != 0 || flags.will_retain) {
            throw UsageError("--will-payload, --will-qos and --will-retain need --will-topic");
        }
        if (!plan.properties.will.empty()) {
            throw UsageError("-D will ... needs --will-topic");
        }
        return;
    }
    // The Will Topic is a topic name, so no wildcards [MQTT-4.7.0-1].
    if (!is_valid_topic_name(*flags.will_topic)) {
        throw UsageError("invalid will topic '" + *flags.will_topic + "'");
    }
    std::string payload = flags.will_payload.value_or("");
    mqtt::will_options will(*flags.will_topic, payload.data(), payload.size(), flags.will_qos,
                            flags.will_retain, plan.properties.will);
    plan.options.set_will(will);
}

// Clean Start / Clean Session and the session expiry: a persistent MQTT 5 session never
// expires unless -x or -D connect session-expiry-interval says otherwise (mosquitto's rule).
void apply_session(const ConnectionFlags& flags, ConnectionPlan& plan) {
    if (plan.mqtt_version < 5) {
        plan.options.set_clean_session(!flags.persistent);
        return;
    }
    plan.options.set_clean_session(false);
    plan.options.set_clean_start(!flags.persistent);
    mqtt::properties& connect = plan.properties.connect;
    bool explicit_expiry = connect.contains(mqtt::property::SESSION_EXPIRY_INTERVAL);
    if (flags.session_expiry && explicit_expiry) {
        throw UsageError("-x and -D connect session-expiry-interval cannot be used together");
    }
    if (flags.session_expiry) {
        uint32_t value = *flags.session_expiry < 0 ? kSessionNeverExpires
                                                   : static_cast<uint32_t>(*flags.session_expiry);
        connect.add({mqtt::property::SESSION_EXPIRY_INTERVAL, static_cast<int32_t>(value)});
    } else if (flags.persistent && !explicit_expiry) {
        connect.add(
            {mqtt::property::SESSION_EXPIRY_INTERVAL, static_cast<int32_t>(kSessionNeverExpires)});
    }
    plan.options.set_properties(connect);
}

void apply_credentials(const ConnectionFlags& flags, const std::optional<BrokerUrl>& url,
                       ConnectionPlan& plan) {
    std::optional<std::string> user = flags.user ? flags.user : (url ? url->user : std::nullopt);
    std::optional<std::string> password =
        flags.password ? flags.password : (url ? url->password : std::nullopt);
    // MQTT 3.1.1 allows a password only together with a user name [MQTT-3.1.2-22].
    if (password && !user && plan.mqtt_version < 5) {
        throw UsageError("-P needs -u with MQTT 3.1/3.1.1");
    }
    if (user) {
        plan.options.set_user_name(*user);
    }
    if (password) {
        plan.options.set_password(*password);
    }
}

}  // namespace

void add_connection_flags(CLI::App& app, ConnectionFlags& flags) {
    add_broker_flags(app, flags);
    add_session_flags(app, flags);
    add_will_and_tls_flags(app, flags);
}

int parse_protocol_version(const std::string& text) {
    if (text == "31" || text == "mqttv31") {
        return 3;
    }
    if (text == "311" || text == "mqttv311") {
        return 4;
    }
    if (text == "5" || text == "mqttv5") {
        return 5;
    }
    throw UsageError("-V: unknown protocol version '" + text + "' (use 31, 311 or 5)");
}

ConnectionPlan make_connection_plan(const ConnectionFlags& flags, const ToolIdentity& tool) {
    ConnectionPlan plan;
    plan.tool_name = tool.name;
    plan.debug = flags.debug;
    plan.connect_timeout = flags.connect_timeout;
    plan.mqtt_version = parse_protocol_version(flags.protocol_version);
    plan.persistent = flags.persistent;
    std::optional<BrokerUrl> url;
    if (flags.url) {
        if (flags.host || flags.port) {
            throw UsageError("-L cannot be combined with -h or -p");
        }
        url = parse_broker_url(*flags.url);
        plan.url_topic = url->topic;
    }
    plan.endpoint = resolve_endpoint(flags, url);
    plan.server_uri = paho_server_uri(plan.endpoint);
    plan.client_id = choose_client_id(flags, tool);
    if (!flags.property_args.empty() && plan.mqtt_version != 5) {
        throw UsageError("-D needs MQTT 5 (-V 5)");
    }
    if (flags.session_expiry && plan.mqtt_version != 5) {
        throw UsageError("-x needs MQTT 5 (-V 5)");
    }
    for (const auto& args : flags.property_args) {
        add_property_arg(plan.properties, args, tool.property_commands);
    }
    if (flags.insecure && !is_tls(plan.endpoint.transport)) {
        throw UsageError("--insecure needs TLS (--cafile, --capath, mqtts:// or wss://)");
    }
    plan.options.set_mqtt_version(plan.mqtt_version);
    plan.options.set_keep_alive_interval(flags.keepalive);
    plan.options.set_connect_timeout(flags.connect_timeout);
    plan.options.set_automatic_reconnect(false);
    apply_session(flags, plan);
    apply_credentials(flags, url, plan);
    apply_will(flags, plan);
    if (is_tls(plan.endpoint.transport)) {
        plan.options.set_ssl(make_ssl_options(flags));
        plan.tls = {flags.cafile, flags.capath, flags.cert, flags.key, !flags.insecure};
    } else if (flags.key) {
        throw UsageError("--key needs --cert");
    }
    return plan;
}

}  // namespace tern::tools
