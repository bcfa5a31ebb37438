// Command-line flags both tools share (broker address, identity, session, will, TLS, -D) and
// the checked connection plan built from them.
#pragma once

#include <mqtt/connect_options.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "broker_url.hpp"
#include "property_set.hpp"
#include "tls_probe.hpp"

namespace tern::tools {

// Raw values of the shared flags as CLI11 fills them in.
struct ConnectionFlags {
    std::optional<std::string> host;
    std::optional<int> port;
    std::optional<std::string> url;
    std::string ws_path = "/mqtt";
    std::optional<std::string> client_id;
    std::optional<std::string> id_prefix;
    std::optional<std::string> user;
    std::optional<std::string> password;
    int keepalive = 60;
    std::string protocol_version = "311";
    bool persistent = false;
    std::optional<long long> session_expiry;
    std::optional<std::string> will_topic;
    std::optional<std::string> will_payload;
    int will_qos = 0;
    bool will_retain = false;
    std::optional<std::string> cafile;
    std::optional<std::string> capath;
    std::optional<std::string> cert;
    std::optional<std::string> key;
    bool insecure = false;
    int connect_timeout = 10;
    bool debug = false;
    bool quiet = false;
    std::vector<std::vector<std::string>> property_args;
};

// What the calling tool is: its name (for messages and the default client id) and the packets
// it sends (for -D).
struct ToolIdentity {
    std::string name;
    std::vector<PropertyCommand> property_commands;
};

// Everything needed to create the Paho client and connect, already validated.
struct ConnectionPlan {
    std::string tool_name;
    Endpoint endpoint;
    TlsSettings tls;  // meaningful only for TLS transports
    std::string server_uri;
    std::string client_id;
    int mqtt_version = 4;  // 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0 (the protocol level byte)
    bool persistent = false;
    bool debug = false;
    int connect_timeout = 10;
    std::optional<std::string> url_topic;  // the topic part of -L, if any
    PropertySet properties;
    mqtt::connect_options options;
};

// Registers -h -p -L -i -I -u -P -k -V -c -x -D --will-* --cafile --capath --cert --key
// --insecure --ws-path --connect-timeout -d --quiet on app; values land in flags, which must
// outlive the parse.
void add_connection_flags(CLI::App& app, ConnectionFlags& flags);

// "31"/"mqttv31" -> 3, "311"/"mqttv311" -> 4, "5"/"mqttv5" -> 5; throws UsageError otherwise.
int parse_protocol_version(const std::string& text);

// Checks flag combinations and builds the plan. Throws UsageError on bad combinations.
ConnectionPlan make_connection_plan(const ConnectionFlags& flags, const ToolIdentity& tool);

}  // namespace tern::tools
