// Publishes asked for by web clients: JSON fields, the MQTT PUBLISH checks, and the publish with a
// durable acknowledgement (shared by POST /api/publish and /ws).
#include "publish_request.hpp"

#include <algorithm>
#include <limits>

#include "bridge.hpp"
#include "core/topic.hpp"
#include "envelope.hpp"
#include "net/ack_barrier.hpp"
#include "net/broker.hpp"
#include "net/history.hpp"
#include "net/worker_loop.hpp"

namespace tern::bridge {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kPublishKeys[] = {"topic", "payload", "json",      "payload_base64",
                                             "qos",   "retain",  "properties"};

bool fail(PublishRequest& out, std::string message) {
    out.error = std::move(message);
    return false;
}

bool read_string(const Json& value, std::string_view name, std::string& out,
                 PublishRequest& request) {
    if (!value.is_string()) {
        std::string message = "'";
        message.append(name).append("' must be a string");
        return fail(request, std::move(message));
    }
    out = value.get<std::string>();
    return true;
}

bool read_user_properties(const Json& value, PublishRequest& request) {
    codec::UserProperties& out = request.properties.user_properties;
    if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
            if (!item.is_string()) {
                return fail(request, "user property values must be strings");
            }
            out.emplace_back(key, item.get<std::string>());
        }
        return true;
    }
    if (!value.is_array()) {
        return fail(request, "'user_properties' must be [[name, value], ...] or an object");
    }
    for (const Json& pair : value) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
            return fail(request, "'user_properties' must be [[name, value], ...] of strings");
        }
        out.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
    return true;
}

bool read_properties(const Json& value, PublishRequest& request) {
    if (!value.is_object()) {
        return fail(request, "'properties' must be an object");
    }
    codec::Properties& props = request.properties;
    for (const auto& [key, item] : value.items()) {
        std::string text;
        if (key == "content_type") {
            if (!read_string(item, key, text, request)) {
                return false;
            }
            props.content_type = std::move(text);
        } else if (key == "response_topic") {
            if (!read_string(item, key, text, request)) {
                return false;
            }
            // A Response Topic is a topic name, without wildcards [MQTT-3.3.2-14].
            if (!core::is_valid_topic_name(text)) {
                return fail(request, "'response_topic' is not a valid topic name");
            }
            props.response_topic = std::move(text);
        } else if (key == "correlation_data") {
            std::string bytes;
            if (!read_string(item, key, text, request) || !base64_decode(text, bytes)) {
                return fail(request, "'correlation_data' must be base64");
            }
            props.correlation_data = std::move(bytes);
        } else if (key == "user_properties") {
            if (!read_user_properties(item, request)) {
                return false;
            }
        } else if (key == "message_expiry_interval") {
            if (!item.is_number_unsigned() ||
                item.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
                return fail(request, "'message_expiry_interval' must be 0..4294967295 seconds");
            }
            props.message_expiry_interval = item.get<uint32_t>();
        } else if (key == "payload_format_indicator") {
            if (!item.is_number_unsigned() || item.get<uint64_t>() > 1) {
                return fail(request, "'payload_format_indicator' must be 0 or 1");
            }
            props.payload_format_indicator = item.get<uint8_t>();
        } else {
            return fail(request, "unknown property '" + key + "'");
        }
    }
    return true;
}

// Reads the payload from exactly one of "payload" (text), "json" (any JSON value, sent
// serialized) and "payload_base64"; none means an empty payload.
bool read_payload(const Json& body, PublishRequest& request) {
    const int given = static_cast<int>(body.contains("payload")) +
                      static_cast<int>(body.contains("json")) +
                      static_cast<int>(body.contains("payload_base64"));
    if (given > 1) {
        return fail(request, "give only one of 'payload', 'json' and 'payload_base64'");
    }
    if (body.contains("payload")) {
        return read_string(body["payload"], "payload", request.payload, request);
    }
    if (body.contains("json")) {
        request.payload = body["json"].dump();
        return true;
    }
    if (body.contains("payload_base64")) {
        std::string text;
        if (!read_string(body["payload_base64"], "payload_base64", text, request) ||
            !base64_decode(text, request.payload)) {
            return fail(request, "'payload_base64' is not valid base64");
        }
    }
    return true;
}

bool known_key(std::string_view key, std::initializer_list<std::string_view> extra_keys) {
    return std::find(std::begin(kPublishKeys), std::end(kPublishKeys), key) !=
               std::end(kPublishKeys) ||
           std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end();
}

PublishRefusal refuse(int status, std::string message, bool invalid_topic = false) {
    return PublishRefusal{status, invalid_topic, std::move(message)};
}

}  // namespace

PublishRequest read_publish(const Json& body, std::initializer_list<std::string_view> extra_keys) {
    PublishRequest request;
    if (!body.is_object()) {
        fail(request, "the body must be a JSON object");
        return request;
    }
    for (const auto& [key, item] : body.items()) {
        if (!known_key(key, extra_keys)) {
            fail(request, "unknown key '" + key + "'");
            return request;
        }
    }
    if (!body.contains("topic")) {
        fail(request, "missing 'topic'");
        return request;
    }
    if (!read_string(body["topic"], "topic", request.topic, request) ||
        !read_payload(body, request)) {
        return request;
    }
    if (body.contains("qos")) {
        const Json& qos = body["qos"];
        if (!qos.is_number_unsigned() || qos.get<uint64_t>() > 2) {
            fail(request, "'qos' must be 0, 1 or 2");
            return request;
        }
        request.qos = qos.get<uint8_t>();
    }
    if (body.contains("retain")) {
        if (!body["retain"].is_boolean()) {
            fail(request, "'retain' must be true or false");
            return request;
        }
        request.retain = body["retain"].get<bool>();
    }
    if (body.contains("properties")) {
        read_properties(body["properties"], request);
    }
    return request;
}

std::optional<PublishRefusal> check_publish(Bridge& bridge, const Identity& who,
                                            const PublishRequest& request) {
    const core::BrokerSettings& settings = bridge.broker().settings();
    if (!request.error.empty()) {
        return refuse(400, request.error);
    }
    if (!is_valid_utf8(request.topic) ||
        !core::is_valid_topic_name(request.topic, settings.limits.max_topic_length,
                                   settings.limits.max_topic_levels)) {
        return refuse(400, "'" + request.topic + "' is not a valid topic name", true);
    }
    if (request.topic.starts_with("$SYS")) {
        return refuse(403, "$SYS topics belong to the broker");
    }
    if (request.qos > settings.maximum_qos) {
        return refuse(400, "QoS " + std::to_string(request.qos) + " is above the broker's " +
                               "maximum_qos " + std::to_string(settings.maximum_qos));
    }
    if (request.retain && !settings.retain_available) {
        return refuse(400, "retained messages are disabled");
    }
    if (request.properties.payload_format_indicator.value_or(0) == 1 &&
        !is_valid_utf8(request.payload)) {
        // A payload declared UTF-8 must be [MQTT-3.3.2-4].
        return refuse(400, "payload_format_indicator 1 needs UTF-8 text");
    }
    net::Broker& broker = bridge.broker();
    if (broker.acl_enabled()) {
        const auto acl = broker.acl();
        if (acl && !acl->can_publish(who.username, kBridgeClientId, request.topic)) {
            return refuse(403, "not allowed to publish to '" + request.topic + "'");
        }
    }
    return std::nullopt;
}

PublishResult publish_request(Bridge& bridge, net::WorkerLoop& loop, PublishRequest request,
                              std::function<void(const PublishResult&)> on_durable) {
    net::Broker& broker = bridge.broker();
    const uint8_t qos = request.qos;
    core::MessagePtr message =
        net::Broker::make_message(std::move(request.topic), request.payload, qos, request.retain,
                                  std::move(request.properties), 0, loop.now());
    // QoS 1/2: acknowledged once the writes the message caused are durable, like a PUBACK.
    net::AckBarrierPtr barrier;
    if (qos > 0 && on_durable) {
        barrier = std::make_shared<net::AckBarrier>(loop, 0, net::Acknowledgement{});
        loop.set_publishing_barrier(barrier);
    }
    PublishResult result;
    result.receivers = broker.publish(loop, message).receivers;
    loop.set_publishing_barrier(nullptr);
    bridge.stats().publishes.fetch_add(1, std::memory_order_relaxed);
    if (message->seq != 0) {
        result.position = net::StreamPosition{broker.history().epoch(), message->seq}.to_string();
    }
    if (!on_durable) {
        return result;
    }
    if (!barrier) {
        on_durable(result);
        return result;
    }
    barrier->on_ready = [result, done = std::move(on_durable)](net::WorkerLoop&) { done(result); };
    barrier->release(true);  // runs on_ready now when nothing was written
    return result;
}

}  // namespace tern::bridge
