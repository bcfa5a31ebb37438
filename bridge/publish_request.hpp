// A publish asked for by a web client (POST /api/publish, /ws "publish" and "request"): its JSON
// fields, the checks an MQTT PUBLISH gets, and the publish itself with a durable acknowledgement.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "codec/properties.hpp"
#include "request_auth.hpp"

namespace tern::net {
class WorkerLoop;
}

namespace tern::bridge {

class Bridge;

// A publish as read from JSON; `error` is set when the fields are refused.
struct PublishRequest {
    std::string topic;
    std::string payload;
    uint8_t qos = 0;
    bool retain = false;
    codec::Properties properties;
    std::string error;
};

// Why a publish is refused: 400 (malformed) or 403 (ACL, $SYS), and a sentence for the client.
// `invalid_topic` tells a bad topic name from other malformed fields.
struct PublishRefusal {
    int status = 400;
    bool invalid_topic = false;
    std::string message;
};

// Reads {"topic", one of "payload" (text) | "json" (any value, sent serialized) |
// "payload_base64", "qos", "retain", "properties": {"content_type", "response_topic",
// "correlation_data" (base64), "user_properties" ([[k,v],...] or {k:v}),
// "message_expiry_interval", "payload_format_indicator"}}. Keys in `extra_keys` are ignored (the
// caller reads them); any other key is an error.
PublishRequest read_publish(const nlohmann::json& body,
                            std::initializer_list<std::string_view> extra_keys = {});

// The checks an MQTT PUBLISH gets (the parse error first, then the topic name, $SYS, maximum
// QoS, retain availability, UTF-8 payload when declared, and the ACL's write rule for `who`).
std::optional<PublishRefusal> check_publish(Bridge& bridge, const Identity& who,
                                            const PublishRequest& request);

struct PublishResult {
    std::string position;  // "<epoch>-<seq>", empty when messages are not numbered
    std::size_t receivers = 0;
};

// Publishes a checked request on `loop`'s thread, as the bridge. `on_durable` (may be empty) runs
// on `loop` once the writes the message caused (retained message, queue entries of persistent
// subscribers on any loop) are durable, like a PUBACK: inside this call for QoS 0 or when nothing
// was written, later otherwise. The caller must check in `on_durable` that its client still
// exists.
PublishResult publish_request(Bridge& bridge, net::WorkerLoop& loop, PublishRequest request,
                              std::function<void(const PublishResult&)> on_durable);

}  // namespace tern::bridge
