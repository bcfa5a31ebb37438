// Tests of the checks and defaults of make_connection_plan.
#include "common/connection_flags.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include "common/tool_error.hpp"

using namespace tern::tools;

namespace {

const ToolIdentity kTool{"tern-test",
                         {PropertyCommand::kConnect, PropertyCommand::kPublish,
                          PropertyCommand::kWill, PropertyCommand::kDisconnect}};

}  // namespace

TEST_CASE("defaults: localhost:1883, MQTT 3.1.1, clean session, generated id") {
    ConnectionFlags flags;
    ConnectionPlan plan = make_connection_plan(flags, kTool);
    CHECK(plan.server_uri == "tcp://localhost:1883");
    CHECK(plan.mqtt_version == 4);
    CHECK(plan.client_id == "tern-test-" + std::to_string(::getpid()));
    CHECK(plan.options.is_clean_session());
    CHECK(plan.options.get_keep_alive_interval() == std::chrono::seconds(60));
    CHECK_FALSE(plan.url_topic.has_value());
}

TEST_CASE("protocol version spellings") {
    CHECK(parse_protocol_version("31") == 3);
    CHECK(parse_protocol_version("mqttv31") == 3);
    CHECK(parse_protocol_version("311") == 4);
    CHECK(parse_protocol_version("mqttv311") == 4);
    CHECK(parse_protocol_version("5") == 5);
    CHECK(parse_protocol_version("mqttv5") == 5);
    CHECK_THROWS_AS(parse_protocol_version("3"), UsageError);
}

TEST_CASE("a URL sets the endpoint, credentials and topic") {
    ConnectionFlags flags;
    flags.url = "mqtts://u:p@example.org/x/y";
    ConnectionPlan plan = make_connection_plan(flags, kTool);
    CHECK(plan.server_uri == "ssl://example.org:8883");
    CHECK(plan.url_topic == "x/y");
    CHECK(plan.options.get_user_name() == "u");
    CHECK(plan.options.get_password_str() == "p");
    CHECK(plan.tls.check_host);
}

TEST_CASE("explicit -u/-P override the URL's credentials") {
    ConnectionFlags flags;
    flags.url = "mqtt://u:p@h/t";
    flags.user = "other";
    flags.password = "pw";
    ConnectionPlan plan = make_connection_plan(flags, kTool);
    CHECK(plan.options.get_user_name() == "other");
    CHECK(plan.options.get_password_str() == "pw");
}

TEST_CASE("a CA file switches to TLS on port 8883") {
    ConnectionFlags flags;
    flags.host = "h";
    flags.cafile = "/dev/null";
    ConnectionPlan plan = make_connection_plan(flags, kTool);
    CHECK(plan.server_uri == "ssl://h:8883");
    flags.url = "ws://h:9001/t";
    flags.host.reset();
    CHECK(make_connection_plan(flags, kTool).server_uri == "wss://h:9001/mqtt");
}

TEST_CASE("a persistent MQTT 5 session never expires unless told otherwise") {
    ConnectionFlags flags;
    flags.protocol_version = "5";
    flags.persistent = true;
    flags.client_id = "keeper";
    ConnectionPlan plan = make_connection_plan(flags, kTool);
    CHECK_FALSE(plan.options.is_clean_start());
    CHECK(mqtt::get<uint32_t>(plan.properties.connect, mqtt::property::SESSION_EXPIRY_INTERVAL) ==
          0xFFFFFFFFu);
    flags.session_expiry = 120;
    plan = make_connection_plan(flags, kTool);
    CHECK(mqtt::get<uint32_t>(plan.properties.connect, mqtt::property::SESSION_EXPIRY_INTERVAL) ==
          120);
    flags.property_args = {{"connect", "session-expiry-interval", "5"}};
    CHECK_THROWS_WITH_AS(make_connection_plan(flags, kTool),
                         "-x and -D connect session-expiry-interval cannot be used together",
                         UsageError);
}

TEST_CASE("a persistent MQTT 3.1.1 session clears the clean session flag") {
    ConnectionFlags flags;
    flags.persistent = true;
    flags.client_id = "keeper";
    CHECK_FALSE(make_connection_plan(flags, kTool).options.is_clean_session());
}

TEST_CASE("bad combinations are usage errors") {
    ConnectionFlags persistent_without_id;
    persistent_without_id.persistent = true;
    CHECK_THROWS_AS(make_connection_plan(persistent_without_id, kTool), UsageError);

    ConnectionFlags both_ids;
    both_ids.client_id = "a";
    both_ids.id_prefix = "b";
    CHECK_THROWS_WITH_AS(make_connection_plan(both_ids, kTool), "-i and -I cannot be used together",
                         UsageError);

    ConnectionFlags will_topic_wildcard;
    will_topic_wildcard.will_topic = "a/+";
    CHECK_THROWS_WITH_AS(make_connection_plan(will_topic_wildcard, kTool),
                         "invalid will topic 'a/+'", UsageError);

    ConnectionFlags cert_without_key;
    cert_without_key.cert = "/dev/null";
    CHECK_THROWS_WITH_AS(make_connection_plan(cert_without_key, kTool),
                         "--cert and --key must be given together", UsageError);

    ConnectionFlags bad_ws_path;
    bad_ws_path.ws_path = "mqtt";
    CHECK_THROWS_WITH_AS(make_connection_plan(bad_ws_path, kTool), "--ws-path must start with '/'",
                         UsageError);
}

TEST_CASE("an id prefix gets the pid appended") {
    ConnectionFlags flags;
    flags.id_prefix = "dev-";
    CHECK(make_connection_plan(flags, kTool).client_id == "dev-" + std::to_string(::getpid()));
}
