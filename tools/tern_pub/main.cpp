// tern-pub: publishes a message, a file, stdin or stdin line by line to an MQTT broker, with
// mosquitto_pub-compatible flags.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "common/command_line.hpp"
#include "common/connection_flags.hpp"
#include "common/tool_connection.hpp"
#include "common/tool_error.hpp"
#include "common/topic_filter.hpp"
#include "message_source.hpp"
#include "publisher.hpp"
#include "token_bucket.hpp"

namespace {

using namespace tern::tools;

const ToolInfo kInfo{
    "tern-pub", "tern-pub {-t topic | -L URL} {-m message | -f file | -s | -l | -n} [options]"};

constexpr const char* kFooter =
    R"(Exactly one payload source: -m MESSAGE, -f FILE, -s (all of stdin),
-l (one message per stdin line) or -n (a zero-length message).

Examples:
  tern-pub -t sensors/t1 -m 21.5
  tern-pub -V 5 -q 1 -t cmd -m on -D publish response-topic replies
  tail -f app.log | tern-pub -t logs -l --rate 100
  tern-pub -L mqtt://alice:secret@broker:1883/a/b -m hello

Exit status:
  0   every message was sent (QoS 1/2: acknowledged by the broker)
  1   connection, TLS, protocol or I/O error, or the broker rejected a message
  2   bad command line)";

struct PubFlags {
    std::optional<std::string> topic;
    std::optional<std::string> message;
    std::optional<std::string> file;
    bool line_mode = false;
    bool stdin_whole = false;
    bool null_message = false;
    int qos = 0;
    bool retain = false;
    long repeat = 1;
    double repeat_delay = 0.0;
    std::optional<double> rate;
    int max_inflight = 20;
};

void add_pub_flags(CLI::App& app, PubFlags& flags) {
    const std::string group = "Publish";
    app.add_option("-t,--topic", flags.topic, "Topic to publish to")
        ->group(group)
        ->option_text("TOPIC");
    app.add_option("-m,--message", flags.message, "Payload to send")
        ->group(group)
        ->option_text("MESSAGE");
    app.add_option("-f,--file", flags.file, "Send the contents of a file as the payload")
        ->group(group)
        ->option_text("FILE");
    app.add_flag("-s,--stdin-file", flags.stdin_whole, "Send all of stdin as one message")
        ->group(group);
    app.add_flag("-l,--stdin-line", flags.line_mode, "Send each line of stdin as a message")
        ->group(group);
    app.add_flag("-n,--null-message", flags.null_message, "Send a zero-length message")
        ->group(group);
    app.add_option("-q,--qos", flags.qos, "QoS 0, 1 or 2 (default 0)")
        ->check(CLI::Range(0, 2))
        ->group(group)
        ->option_text("QOS");
    app.add_flag("-r,--retain", flags.retain, "Ask the broker to retain the message")->group(group);
    app.add_option("--repeat", flags.repeat, "Send the -m/-f/-s/-n payload N times")
        ->check(CLI::Range(1L, 1000000000L))
        ->group(group)
        ->option_text("N");
    app.add_option("--repeat-delay", flags.repeat_delay, "Seconds between repeated messages")
        ->check(CLI::Range(0.0, 86400.0))
        ->group(group)
        ->option_text("SECONDS");
    app.add_option("--rate", flags.rate, "At most this many messages per second")
        ->check(CLI::Range(0.001, 1e9))
        ->group(group)
        ->option_text("PER_SECOND");
    app.add_option("-M,--max-inflight", flags.max_inflight,
                   "Deliveries in flight at once (default 20; 1 waits for each)")
        ->check(CLI::Range(1, 65535))
        ->group(group)
        ->option_text("N");
}

MessageSource make_source(const PubFlags& flags) {
    int sources = (flags.message ? 1 : 0) + (flags.file ? 1 : 0) + (flags.line_mode ? 1 : 0) +
                  (flags.stdin_whole ? 1 : 0) + (flags.null_message ? 1 : 0);
    if (sources != 1) {
        throw UsageError("give exactly one of -m, -f, -s, -l or -n");
    }
    if (flags.line_mode) {
        if (flags.repeat != 1) {
            throw UsageError("--repeat cannot be used with -l");
        }
        return MessageSource::lines(std::cin);
    }
    if (flags.message) {
        return MessageSource::repeated(*flags.message, flags.repeat);
    }
    if (flags.file) {
        return MessageSource::repeated(read_file(*flags.file), flags.repeat);
    }
    if (flags.stdin_whole) {
        return MessageSource::repeated(read_all(std::cin), flags.repeat);
    }
    return MessageSource::repeated(std::string(), flags.repeat);
}

std::string choose_topic(const PubFlags& flags, const ConnectionPlan& plan) {
    if (flags.topic && plan.url_topic) {
        throw UsageError("give the topic either with -t or in the -L URL, not both");
    }
    std::optional<std::string> topic = flags.topic ? flags.topic : plan.url_topic;
    if (!topic) {
        throw UsageError("no topic: use -t or put it in the -L URL");
    }
    // A PUBLISH topic name must not contain wildcards [MQTT-3.3.2-2].
    if (!is_valid_topic_name(*topic)) {
        throw UsageError("invalid topic '" + *topic + "': no wildcards, not empty");
    }
    return *topic;
}

// The broker's CONNACK limits (MQTT 5 §3.2.2.3.4, §3.2.2.3.5): refuse early instead of being
// disconnected for exceeding them [MQTT-3.2.2-11] [MQTT-3.2.2-14].
void check_broker_limits(const PubFlags& flags, const ConnectResult& result) {
    if (flags.qos > result.maximum_qos) {
        throw ToolError(kExitFailure, "the broker accepts QoS up to " +
                                          std::to_string(result.maximum_qos) + ", not " +
                                          std::to_string(flags.qos));
    }
    if (flags.retain && !result.retain_available) {
        throw ToolError(kExitFailure, "the broker does not support retained messages");
    }
}

void publish_all(const PubFlags& flags, MessageSource& source, Publisher& publisher) {
    std::optional<TokenBucket> bucket;
    if (flags.rate) {
        bucket.emplace(*flags.rate, 1.0, TokenBucket::Clock::now());
    }
    auto delay = std::chrono::duration<double>(flags.repeat_delay);
    bool first = true;
    while (std::optional<std::string> payload = source.next()) {
        if (!first && flags.repeat_delay > 0.0) {
            std::this_thread::sleep_for(delay);
        }
        first = false;
        if (bucket) {
            std::this_thread::sleep_for(bucket->take(TokenBucket::Clock::now()));
        }
        publisher.publish(*payload);
    }
    publisher.flush();
}

int run(const PubFlags& flags, const ConnectionFlags& connection_flags) {
    ToolIdentity identity{kInfo.name,
                          {PropertyCommand::kConnect, PropertyCommand::kPublish,
                           PropertyCommand::kWill, PropertyCommand::kDisconnect}};
    ConnectionPlan plan = make_connection_plan(connection_flags, identity);
    PublishSettings settings;
    settings.topic = choose_topic(flags, plan);
    settings.qos = flags.qos;
    settings.retain = flags.retain;
    settings.properties = plan.properties.publish;
    MessageSource source = make_source(flags);

    ToolConnection connection(std::move(plan));
    ConnectResult result = connection.connect();
    check_broker_limits(flags, result);
    // Never more in flight than the broker's Receive Maximum [MQTT-3.3.4-7].
    settings.window = std::min<size_t>(static_cast<size_t>(flags.max_inflight),
                                       static_cast<size_t>(result.receive_maximum));
    Publisher publisher(connection, std::move(settings));
    publish_all(flags, source, publisher);
    connection.debug("published " + std::to_string(publisher.completed()) + " message(s)");
    connection.disconnect(std::chrono::seconds(5));
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    prepare_process();
    std::ios::sync_with_stdio(false);
    CLI::App app("Publish MQTT messages (mosquitto_pub-compatible flags).", kInfo.name);
    configure_app(app, kInfo, kFooter);
    ConnectionFlags connection_flags;
    PubFlags pub_flags;
    add_pub_flags(app, pub_flags);
    add_connection_flags(app, connection_flags);
    if (std::optional<int> exit_code = parse_command_line(app, kInfo, argc, argv)) {
        return *exit_code;
    }
    return run_guarded(kInfo, connection_flags.quiet,
                       [&] { return run(pub_flags, connection_flags); });
}
