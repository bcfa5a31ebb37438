// tern-sub: subscribes to topic filters and prints what arrives, with mosquitto_sub-compatible
// flags plus --json.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/connection_flags.hpp"
#include "common/tool_connection.hpp"
#include "common/tool_error.hpp"
#include "common/topic_filter.hpp"
#include "event_queue.hpp"
#include "message_formatter.hpp"
#include "signal_watcher.hpp"
#include "subscriber.hpp"

namespace {

using namespace tern::tools;

const ToolInfo kInfo{"tern-sub", "tern-sub {-t filter... | -L URL} [options]"};

constexpr const char* kFooter =
    R"(Output: the payload (default), "topic payload" (-v), a -F format or one JSON object
per line (--json). -F fields: %t topic, %p payload, %q QoS, %r retain, %l length,
%m message id, %x/%X hex payload, %I ISO-8601 time, %U Unix time, %C content type,
%D correlation data, %E expiry, %F payload format, %R response topic,
%S subscription ids, %P user properties, %A topic alias, %% '%'; @X strftime,
@N nanoseconds; escapes \\ \0 \a \e \n \r \t \v. See tern-sub(1).

Examples:
  tern-sub -t 'sensors/#' -v
  tern-sub -V 5 -t cmd/+ --json -D subscribe subscription-identifier 7
  tern-sub -t status -C 1 -W 5 -F '%I %t %p'
  tern-sub -c -i logger -q 1 -t 'logs/#'      (persistent session, reconnects)

Exit status:
  0   -C messages received, -E done, or stopped by SIGINT/SIGTERM
  1   connection, TLS, protocol or output error, a rejected subscription, or the
      connection was lost (without -c)
  2   bad command line
  27  -W seconds passed before -C messages arrived (as mosquitto_sub))";

struct SubFlags {
    std::vector<std::string> topics;
    std::vector<std::string> filter_out;
    int qos = 0;
    std::optional<long> count;
    std::optional<int> timeout;
    bool verbose = false;
    bool no_eol = false;
    bool no_stale = false;
    bool retained_only = false;
    bool exit_after_subscribe = false;
    std::optional<std::string> format;
    bool json = false;
};

void add_sub_flags(CLI::App& app, SubFlags& flags) {
    const std::string group = "Subscribe";
    app.add_option("-t,--topic", flags.topics, "Topic filter to subscribe to (repeatable)")
        ->group(group)
        ->option_text("FILTER");
    app.add_option("-T,--filter-out", flags.filter_out,
                   "Do not print topics matching this filter (repeatable)")
        ->group(group)
        ->option_text("FILTER");
    app.add_option("-q,--qos", flags.qos, "Subscription QoS 0, 1 or 2 (default 0)")
        ->check(CLI::Range(0, 2))
        ->group(group)
        ->option_text("QOS");
    app.add_option("-C,--count", flags.count, "Exit after printing this many messages")
        ->check(CLI::Range(1L, 2000000000L))
        ->group(group)
        ->option_text("N");
    app.add_option("-W,--timeout", flags.timeout, "Exit (status 27) after this many seconds")
        ->check(CLI::Range(1, 31536000))
        ->group(group)
        ->option_text("SECONDS");
    app.add_flag("-R,--no-stale", flags.no_stale,
                 "Do not print stale messages (those with the retain flag set)")
        ->group(group);
    app.add_flag("--retained-only", flags.retained_only,
                 "Print only retained messages; exit at the first live one")
        ->group(group);
    app.add_flag("-E,--exit-after-subscribe", flags.exit_after_subscribe,
                 "Exit once the subscriptions are acknowledged")
        ->group(group);
    const std::string output = "Output";
    app.add_flag("-v,--verbose", flags.verbose, "Print \"topic payload\"")->group(output);
    app.add_option("-F,--format", flags.format, "Output format, see below")
        ->group(output)
        ->option_text("FORMAT");
    app.add_flag("--json", flags.json, "One JSON object per message and line")->group(output);
    app.add_flag("-N,--no-eol", flags.no_eol, "Do not print a newline after each message")
        ->group(output);
}

std::vector<std::string> choose_filters(const SubFlags& flags, const ConnectionPlan& plan) {
    std::vector<std::string> filters = flags.topics;
    if (plan.url_topic) {
        filters.insert(filters.begin(), *plan.url_topic);
    }
    if (filters.empty()) {
        throw UsageError("no topic: use -t or put it in the -L URL");
    }
    for (const std::string& filter : filters) {
        if (!is_valid_topic_filter(filter)) {
            throw UsageError("invalid topic filter '" + filter + "'");
        }
    }
    for (const std::string& filter : flags.filter_out) {
        if (!is_valid_topic_filter(filter)) {
            throw UsageError("invalid -T filter '" + filter + "'");
        }
    }
    return filters;
}

MessageFormatter make_formatter(const SubFlags& flags) {
    if ((flags.verbose ? 1 : 0) + (flags.format ? 1 : 0) + (flags.json ? 1 : 0) > 1) {
        throw UsageError("use only one of -v, -F and --json");
    }
    if (flags.json) {
        return MessageFormatter(OutputMode::kJson, std::nullopt, true);
    }
    if (flags.format) {
        return MessageFormatter(OutputMode::kFormat, FormatString::parse(*flags.format),
                                !flags.no_eol);
    }
    OutputMode mode = flags.verbose ? OutputMode::kVerbose : OutputMode::kPayload;
    return MessageFormatter(mode, std::nullopt, !flags.no_eol);
}

void write_output(const std::string& bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0) {
        int error = errno;
        // A reader that went away (tern-sub ... | head -1) is a normal way to stop: no message.
        throw ToolError(
            kExitFailure,
            error == EPIPE ? "" : std::string("cannot write output: ") + std::strerror(error));
    }
}

bool filtered_out(const SubFlags& flags, const std::string& topic) {
    for (const std::string& filter : flags.filter_out) {
        if (topic_matches(filter, topic)) {
            return true;
        }
    }
    return false;
}

int timed_out(const SubFlags& flags, ToolConnection& connection, long printed) {
    connection.disconnect(std::chrono::seconds(2));
    std::string line = "timed out after " + std::to_string(*flags.timeout) + " s";
    if (flags.count) {
        line +=
            " (" + std::to_string(printed) + " of " + std::to_string(*flags.count) + " messages)";
    }
    throw ToolError(kExitTimeout, line);
}

// Pops events until -C is reached, -W expires, a stop is requested or an error ends the run.
int receive_loop(const SubFlags& flags, const MessageFormatter& formatter,
                 ToolConnection& connection, Subscriber& subscriber, EventQueue& queue,
                 EventQueue::Deadline deadline) {
    long printed = 0;
    while (true) {
        std::optional<SubEvent> event = queue.pop(deadline);
        if (!event) {
            if (queue.stop_requested()) {
                connection.disconnect(std::chrono::seconds(2));
                return kExitOk;
            }
            return timed_out(flags, connection, printed);
        }
        if (event->kind == SubEvent::Kind::kConnectionLost) {
            std::string reason = connection.loss_reason(event->cause);
            if (!connection.plan().persistent) {
                throw ToolError(kExitFailure, "connection lost: " + reason);
            }
            connection.debug("connection lost, will reconnect: " + reason);
            if (!subscriber.reconnect(deadline)) {
                return queue.stop_requested() ? kExitOk : timed_out(flags, connection, printed);
            }
            continue;
        }
        const mqtt::message& message = *event->message;
        if (flags.retained_only && !message.is_retained()) {
            connection.disconnect(std::chrono::seconds(2));
            return kExitOk;
        }
        if ((flags.no_stale && message.is_retained()) || filtered_out(flags, message.get_topic())) {
            continue;
        }
        write_output(formatter.format(message, event->received));
        if (flags.count && ++printed >= *flags.count) {
            connection.disconnect(std::chrono::seconds(2));
            return kExitOk;
        }
    }
}

int run(const SubFlags& flags, const ConnectionFlags& connection_flags) {
    auto started = std::chrono::steady_clock::now();
    ToolIdentity identity{kInfo.name,
                          {PropertyCommand::kConnect, PropertyCommand::kSubscribe,
                           PropertyCommand::kWill, PropertyCommand::kDisconnect}};
    ConnectionPlan plan = make_connection_plan(connection_flags, identity);
    SubscribeSettings settings;
    settings.filters = choose_filters(flags, plan);
    settings.qos = flags.qos;
    settings.properties = plan.properties.subscribe;
    MessageFormatter formatter = make_formatter(flags);
    EventQueue::Deadline deadline;
    if (flags.timeout) {
        deadline = started + std::chrono::seconds(*flags.timeout);
    }

    EventQueue queue;
    SignalWatcher signals([&queue] { queue.request_stop(); });
    ToolConnection connection(std::move(plan));
    Subscriber subscriber(connection, queue, std::move(settings));
    subscriber.start();
    if (flags.exit_after_subscribe) {
        connection.disconnect(std::chrono::seconds(2));
        return kExitOk;
    }
    return receive_loop(flags, formatter, connection, subscriber, queue, deadline);
}

}  // namespace

int main(int argc, char** argv) {
    prepare_process();
    CLI::App app(
        "Subscribe to MQTT topics and print the messages (mosquitto_sub-compatible "
        "flags).",
        kInfo.name);
    configure_app(app, kInfo, kFooter);
    ConnectionFlags connection_flags;
    SubFlags sub_flags;
    add_sub_flags(app, sub_flags);
    add_connection_flags(app, connection_flags);
    if (std::optional<int> exit_code = parse_command_line(app, kInfo, argc, argv)) {
        return *exit_code;
    }
    return run_guarded(kInfo, connection_flags.quiet,
                       [&] { return run(sub_flags, connection_flags); });
}
