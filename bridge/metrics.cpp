// Prometheus text rendering of the broker, storage and bridge counters.
#include "metrics.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bridge.hpp"
#include "net/broker.hpp"
#include "net/presence.hpp"
#include "storage/store.hpp"

namespace tern::bridge {

namespace {

std::string format_value(double value) {
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    if (std::isnan(value)) {
        return "NaN";
    }
    char text[40];
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
        std::snprintf(text, sizeof(text), "%.0f", value);
        return text;
    }
    // The shortest form that reads back as the same double (0.0005, not 0.00050000000000000001).
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(text, sizeof(text), "%.*g", precision, value);
        if (std::strtod(text, nullptr) == value) {
            break;
        }
    }
    return text;
}

std::vector<MetricsWriter::Sample> by_qos(const uint64_t (&values)[3]) {
    std::vector<MetricsWriter::Sample> samples;
    for (int qos = 0; qos < 3; ++qos) {
        samples.push_back(
            {"qos=\"" + std::to_string(qos) + "\"", static_cast<double>(values[qos])});
    }
    return samples;
}

void broker_metrics(MetricsWriter& out, net::Broker& broker) {
    const net::StatsSnapshot stats = broker.stats();
    out.single("tern_uptime_seconds", "gauge", "Seconds since the broker started.",
               static_cast<double>(broker.uptime_seconds()));
    out.single("tern_connections", "gauge", "MQTT clients connected (CONNACK sent).",
               static_cast<double>(stats.clients));
    out.single("tern_sockets", "gauge", "Open MQTT sockets, connected or not yet.",
               static_cast<double>(stats.connections));
    out.single("tern_sessions", "gauge", "MQTT sessions, online or offline.",
               static_cast<double>(stats.sessions));
    out.family("tern_messages_received_total", "counter",
               "PUBLISH packets received from MQTT clients, by QoS.",
               by_qos(stats.messages_received_by_qos));
    out.family("tern_messages_sent_total", "counter",
               "PUBLISH packets sent to MQTT clients, by QoS.", by_qos(stats.messages_sent_by_qos));
    out.family("tern_payload_bytes_received_total", "counter",
               "Payload bytes of the PUBLISH packets received, by QoS.",
               by_qos(stats.payload_bytes_received_by_qos));
    out.family("tern_payload_bytes_sent_total", "counter",
               "Payload bytes of the PUBLISH packets sent, by QoS.",
               by_qos(stats.payload_bytes_sent_by_qos));
    out.single("tern_bytes_received_total", "counter", "Bytes read from MQTT sockets.",
               static_cast<double>(stats.bytes_received));
    out.single("tern_bytes_sent_total", "counter", "Bytes written to MQTT sockets.",
               static_cast<double>(stats.bytes_sent));
    out.single("tern_messages_dropped_total", "counter",
               "Messages dropped: full queues, slow consumers, oversize, refused publishes.",
               static_cast<double>(stats.publish_dropped));
    out.single("tern_retained_refused_total", "counter",
               "Retained messages not stored because of the retained limits.",
               static_cast<double>(stats.retained_refused));
    out.single("tern_auth_failures_total", "counter",
               "MQTT connections refused for credentials or ACL.",
               static_cast<double>(stats.auth_failures));
    out.single("tern_subscriptions", "gauge",
               "Subscriptions in the tree (MQTT sessions and bridge clients).",
               static_cast<double>(broker.subscriptions().size()));
    out.single("tern_retained_messages", "gauge", "Retained messages held.",
               static_cast<double>(broker.retained().size()));
    out.single("tern_clients_online", "gauge", "Client ids currently online (presence).",
               static_cast<double>(broker.presence().online_count()));
}

void storage_metrics(MetricsWriter& out, net::Broker& broker) {
    const std::vector<uint64_t>& bounds_us = storage::StoreStats::latency_bounds_us();
    std::vector<double> bounds;
    bounds.reserve(bounds_us.size());
    for (const uint64_t bound : bounds_us) {
        bounds.push_back(static_cast<double>(bound) / 1e6);
    }
    storage::StoreStats stats;
    if (storage::Store* store = broker.store()) {
        stats = store->stats();
    }
    std::vector<uint64_t> cumulative = stats.commit_latency_buckets;
    cumulative.resize(bounds.size() + 1, cumulative.empty() ? 0 : cumulative.back());
    out.histogram("tern_storage_commit_latency_seconds",
                  "Time from a write batch's submission to its durable group commit.", bounds,
                  cumulative, static_cast<double>(stats.commit_latency_us_sum) / 1e6);
    out.single("tern_storage_write_errors_total", "counter",
               "Group commits that failed after retries.", static_cast<double>(stats.write_errors));
    out.single("tern_storage_ops_written_total", "counter", "Operations written to the database.",
               static_cast<double>(stats.ops_written));
    out.single("tern_storage_ops_cancelled_total", "counter",
               "Queue entries' operations never written: acknowledged within the write delay.",
               static_cast<double>(stats.ops_cancelled));
}

void bridge_metrics(MetricsWriter& out, Bridge& bridge) {
    BridgeStats& stats = bridge.stats();
    std::vector<MetricsWriter::Sample> clients;
    for (std::size_t kind = 0; kind < kClientKinds; ++kind) {
        const int64_t count = stats.clients[kind].load(std::memory_order_relaxed);
        clients.push_back(
            {"kind=\"" + std::string(client_kind_name(static_cast<ClientKind>(kind))) + "\"",
             static_cast<double>(std::max<int64_t>(count, 0))});
    }
    out.family("tern_bridge_clients", "gauge",
               "Open bridge connections by kind (http: requests, sse: event streams).", clients);
    const auto counter = [&](std::string_view name, std::string_view help,
                             const std::atomic<uint64_t>& value) {
        out.single(name, "counter", help,
                   static_cast<double>(value.load(std::memory_order_relaxed)));
    };
    counter("tern_bridge_connections_total", "HTTP connections accepted.", stats.connections_total);
    counter("tern_bridge_connections_refused_total",
            "HTTP connections answered 503 over bridge.max_connections.",
            stats.connections_refused);
    counter("tern_bridge_requests_total", "HTTP requests read.", stats.requests);
    counter("tern_bridge_timeouts_total", "Requests answered 408 (too slow).", stats.timeouts);
    counter("tern_bridge_auth_failures_total", "Requests refused for wrong credentials.",
            stats.auth_failures);
    counter("tern_bridge_publishes_total", "Messages published through POST /api/publish and /ws.",
            stats.publishes);
    counter("tern_bridge_events_sent_total", "Messages written to SSE and /ws streams.",
            stats.events_sent);
    counter("tern_bridge_slow_consumers_total",
            "Bridge clients cut off at bridge.max_client_buffer.", stats.slow_consumers_cut);
    counter("tern_bridge_bytes_sent_total", "Bytes written to bridge clients.", stats.bytes_sent);
}

}  // namespace

void MetricsWriter::sample(std::string_view name, std::string_view labels, double value) {
    _text += name;
    if (!labels.empty()) {
        _text += '{';
        _text += labels;
        _text += '}';
    }
    _text += ' ';
    _text += format_value(value);
    _text += '\n';
}

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help,
                           const std::vector<Sample>& samples) {
    _text += "# HELP ";
    _text += name;
    _text += ' ';
    _text += help;
    _text += "\n# TYPE ";
    _text += name;
    _text += ' ';
    _text += type;
    _text += '\n';
    for (const Sample& item : samples) {
        sample(name, item.labels, item.value);
    }
}

void MetricsWriter::histogram(std::string_view name, std::string_view help,
                              const std::vector<double>& bounds,
                              const std::vector<uint64_t>& cumulative, double sum) {
    family(name, "histogram", help, {});
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        sample(bucket, "le=\"" + format_value(bounds[i]) + "\"",
               static_cast<double>(cumulative[i]));
    }
    const double total = static_cast<double>(cumulative[bounds.size()]);
    sample(bucket, "le=\"+Inf\"", total);
    sample(std::string(name) + "_sum", "", sum);
    sample(std::string(name) + "_count", "", total);
}

std::string render_metrics(Bridge& bridge) {
    MetricsWriter out;
    broker_metrics(out, bridge.broker());
    storage_metrics(out, bridge.broker());
    bridge_metrics(out, bridge);
    return out.text();
}

}  // namespace tern::bridge
