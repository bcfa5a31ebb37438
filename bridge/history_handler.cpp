// GET /api/history: one topic's kept messages, read from net::History like an SSE resume.
#include "history_handler.hpp"

#include <charconv>

#include "bridge.hpp"
#include "core/topic.hpp"
#include "envelope.hpp"
#include "handlers.hpp"
#include "http_connection.hpp"
#include "net/broker.hpp"
#include "net/history.hpp"

namespace tern::bridge {

namespace {

std::string in_quotes(std::string_view text) {
    std::string out = "'";
    out.append(text).append("'");
    return out;
}

// Whether a [[storage.history]] policy covers `topic` (the first match decides, as when
// recording; any match keeps the topic's history).
bool history_kept_for(const core::StorageConfig& storage, std::string_view topic) {
    for (const core::HistoryConfig& policy : storage.history) {
        if (core::topic_matches(policy.filter, topic)) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<HttpResponse> parse_history_query(const HttpRequest& request,
                                                const core::LimitSettings& limits,
                                                HistoryQuery& out) {
    const std::string* topic = request.query_value("topic");
    if (topic == nullptr) {
        return json_error(400, "bad_request", "missing query parameter 'topic'");
    }
    if (topic->find_first_of("+#") != std::string::npos) {
        return json_error(400, "bad_request",
                          "topic " + in_quotes(*topic) + " has wildcards: give one topic name");
    }
    // [MQTT-3.3.2-2] and the server's topic limits, as for a PUBLISH.
    if (!is_valid_utf8(*topic) ||
        !core::is_valid_topic_name(*topic, limits.max_topic_length, limits.max_topic_levels)) {
        return json_error(400, "bad_request", in_quotes(*topic) + " is not a valid topic name");
    }
    std::size_t limit = HistoryQuery::kDefaultLimit;
    if (const std::string* text = request.query_value("limit")) {
        const char* end = text->data() + text->size();
        const auto [stop, error] = std::from_chars(text->data(), end, limit);
        if (text->empty() || error != std::errc{} || stop != end || limit == 0 ||
            limit > HistoryQuery::kMaxLimit) {
            return json_error(400, "bad_request",
                              "limit must be a whole number from 1 to " +
                                  std::to_string(HistoryQuery::kMaxLimit));
        }
    }
    out.topic = *topic;
    out.limit = limit;
    return std::nullopt;
}

namespace handlers {

void history(HttpConnection& connection, const HttpRequest& request, const Identity& who) {
    Bridge& bridge = connection.bridge();
    net::Broker& broker = bridge.broker();
    HistoryQuery query;
    if (auto refusal = parse_history_query(request, broker.settings().limits, query)) {
        return connection.respond(std::move(*refusal));
    }
    // The same rights as a subscription to the topic and the delivery of its messages.
    if (broker.acl_enabled()) {
        const auto acl = broker.acl();
        if (acl && (!acl->can_subscribe(who.username, kBridgeClientId, query.topic) ||
                    !acl->can_receive(who.username, kBridgeClientId, query.topic))) {
            return connection.respond(
                json_error(403, "forbidden", "not allowed to read " + in_quotes(query.topic)));
        }
    }
    net::History& history = broker.history();
    if (!history.enabled() || !history_kept_for(broker.settings().storage, query.topic)) {
        return connection.respond(json_error(
            404, "not_found",
            "no history is kept for " + in_quotes(query.topic) + " (see [[storage.history]])"));
    }
    // From the start of what is kept: position 0 of this run reads every entry of every run.
    const net::HistoryRead read =
        history.read(query.topic, net::StreamPosition{history.epoch(), 0}, query.limit);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const net::HistoryEntry& entry : read.entries) {
        list.push_back(envelope(*entry.message, false, history.epoch(), entry.timestamp_ms));
    }
    connection.respond(json_response(dump_json(list)));
}

}  // namespace handlers

}  // namespace tern::bridge
