// REST endpoints: /healthz, /metrics, /api/retained, /api/publish, /api/presence.
#include <algorithm>
#include <limits>

#include "bridge.hpp"
#include "core/topic.hpp"
#include "envelope.hpp"
#include "handlers.hpp"
#include "loop_context.hpp"
#include "metrics.hpp"
#include "net/ack_barrier.hpp"
#include "net/broker.hpp"
#include "net/history.hpp"
#include "net/presence.hpp"
#include "net/worker_loop.hpp"

#ifndef TERN_VERSION
#define TERN_VERSION "0.0.0"
#endif

namespace tern::bridge {

using Json = nlohmann::ordered_json;

HttpResponse json_response(std::string body) {
    HttpResponse response;
    response.body = std::move(body);
    return response;
}

bool may_receive(Bridge& bridge, const Identity& who, std::string_view topic) {
    net::Broker& broker = bridge.broker();
    if (!broker.acl_enabled()) {
        return true;
    }
    const auto acl = broker.acl();
    return !acl || acl->can_receive(who.username, kBridgeClientId, topic);
}

std::optional<HttpResponse> check_filter(Bridge& bridge, const Identity& who,
                                         std::string_view filter) {
    net::Broker& broker = bridge.broker();
    const core::BrokerSettings& settings = broker.settings();
    std::string quoted = "'";  // (not "'" + std::string(...): GCC 12 warns falsely)
    quoted.append(filter).append("'");
    if (core::is_shared_filter(filter)) {
        return json_error(400, "bad_request",
                          "shared subscriptions ($share/...) are not available over HTTP");
    }
    if (!is_valid_utf8(filter) ||
        !core::is_valid_topic_filter(filter, settings.limits.max_topic_length,
                                     settings.limits.max_topic_levels)) {
        return json_error(400, "bad_request", quoted + " is not a valid topic filter");
    }
    if (!settings.wildcard_subscriptions && filter.find_first_of("+#") != std::string_view::npos) {
        return json_error(400, "bad_request", "wildcard subscriptions are disabled");
    }
    if (broker.acl_enabled()) {
        const auto acl = broker.acl();
        if (acl && !acl->can_subscribe(who.username, kBridgeClientId, filter)) {
            return json_error(403, "forbidden", "not allowed to read " + quoted);
        }
    }
    return std::nullopt;
}

Json presence_json(const net::PresenceRecord& record) {
    Json out;
    out["client_id"] = record.client_id;
    out["online"] = record.online;
    out["connected_at"] = record.connected_at_ms;
    out["last_seen"] = record.last_seen_ms;
    out["peer"] = record.peer;
    out["protocol"] = record.protocol_version == 5   ? "5.0"
                      : record.protocol_version == 4 ? "3.1.1"
                                                     : "3.1";
    return out;
}

namespace handlers {

void healthz(HttpConnection& connection, const HttpRequest&, const Identity&) {
    Bridge& bridge = connection.bridge();
    net::Broker& broker = bridge.broker();
    const net::StatsSnapshot stats = broker.stats();
    Json body;
    body["status"] = "ok";
    body["version"] = TERN_VERSION;
    body["uptime_seconds"] = broker.uptime_seconds();
    body["connections"] = {{"mqtt", stats.clients}, {"bridge", bridge.open_connections()}};
    connection.respond(json_response(dump_json(body)));
}

void metrics(HttpConnection& connection, const HttpRequest&, const Identity&) {
    HttpResponse response;
    response.content_type = std::string(kPrometheusContentType);
    response.body = render_metrics(connection.bridge());
    connection.respond(std::move(response));
}

void retained(HttpConnection& connection, const HttpRequest& request, const Identity& who) {
    Bridge& bridge = connection.bridge();
    const std::string* filter = request.query_value("filter");
    if (filter == nullptr) {
        return connection.respond(
            json_error(400, "bad_request", "missing query parameter 'filter'"));
    }
    if (auto refusal = check_filter(bridge, who, *filter)) {
        return connection.respond(std::move(*refusal));
    }
    std::vector<core::MessagePtr> messages;
    bridge.broker().retained().match(*filter, connection.loop().now(), messages);
    std::sort(
        messages.begin(), messages.end(),
        [](const core::MessagePtr& a, const core::MessagePtr& b) { return a->topic < b->topic; });
    const uint64_t epoch = bridge.broker().history().epoch();
    const uint64_t now_ms = net::Presence::unix_now_ms();
    Json list = Json::array();
    for (const core::MessagePtr& message : messages) {
        if (may_receive(bridge, who, message->topic)) {
            list.push_back(envelope(*message, true, epoch, now_ms));
        }
    }
    connection.respond(json_response(dump_json(list)));
}

void presence(HttpConnection& connection, const HttpRequest&, const Identity&) {
    Json list = Json::array();
    for (const net::PresenceRecord& record : connection.bridge().broker().presence().snapshot()) {
        list.push_back(presence_json(record));
    }
    connection.respond(json_response(dump_json(list)));
}

}  // namespace handlers

}  // namespace tern::bridge
