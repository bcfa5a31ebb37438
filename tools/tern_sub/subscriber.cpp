// Subscription set-up and the reconnect loop of tern-sub.
#include "subscriber.hpp"

#include <algorithm>

#include "common/reason_code_text.hpp"
#include "common/tool_error.hpp"

namespace tern::tools {
namespace {

// SUBACK codes of 0x80 and above refuse the subscription (MQTT 5 §3.9.3; 3.1.1 §3.9.3 has
// only 0x80).
constexpr int kFirstFailureReason = 0x80;
constexpr auto kFirstBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(30);

std::string describe_rejections(const std::vector<std::string>& filters,
                                const std::vector<mqtt::ReasonCode>& codes) {
    std::string out;
    for (size_t i = 0; i < filters.size() && i < codes.size(); ++i) {
        int code = static_cast<int>(codes[i]);
        if (code < kFirstFailureReason) {
            continue;
        }
        if (!out.empty()) {
            out += "; ";
        }
        out += "subscription to '" + filters[i] + "' rejected: " + describe_reason_code(code);
    }
    return out;
}

}  // namespace

Subscriber::Subscriber(ToolConnection& connection, EventQueue& queue, SubscribeSettings settings)
    : _connection(connection), _queue(queue), _settings(std::move(settings)) {
    // The handlers capture the queue, not this: the queue outlives the connection, whose
    // callbacks may still run while the subscriber is being destroyed.
    EventQueue& events = _queue;
    mqtt::async_client& client = _connection.client();
    client.set_message_callback([&events](mqtt::const_message_ptr message) {
        SubEvent event;
        event.message = std::move(message);
        event.received = std::chrono::system_clock::now();
        events.push(std::move(event));
    });
    client.set_connection_lost_handler([&events](const std::string& cause) {
        SubEvent event;
        event.kind = SubEvent::Kind::kConnectionLost;
        event.cause = cause;
        events.push(std::move(event));
    });
    // An MQTT 5 server ends the connection with DISCONNECT (e.g. 0x8B Server shutting down);
    // Paho reports that here, not as a lost connection. Treat it the same way: reconnect.
    client.set_disconnected_handler([&events](const mqtt::properties&, mqtt::ReasonCode code) {
        SubEvent event;
        event.kind = SubEvent::Kind::kConnectionLost;
        event.cause = "the server sent DISCONNECT: " + describe_reason_code(static_cast<int>(code));
        events.push(std::move(event));
    });
}

void Subscriber::start() {
    // The first connect always subscribes, even to a stored session, so that the -t list is
    // what the session holds (as mosquitto_sub does).
    _connection.connect();
    subscribe();
}

void Subscriber::connect_and_subscribe() {
    ConnectResult result = _connection.connect();
    // With a session present the broker still has our subscriptions (MQTT 5 §3.2.2.1.1);
    // subscribing again would make it resend retained messages.
    if (_connection.plan().persistent && result.session_present) {
        _connection.debug("session present: keeping the existing subscriptions");
        return;
    }
    subscribe();
}

void Subscriber::subscribe() {
    const ConnectionPlan& plan = _connection.plan();
    auto filters = mqtt::string_collection::create(_settings.filters);
    mqtt::iasync_client::qos_collection qos(_settings.filters.size(), _settings.qos);
    mqtt::token_ptr token;
    try {
        if (plan.mqtt_version >= 5) {
            std::vector<mqtt::subscribe_options> options(_settings.filters.size());
            token = _connection.client().subscribe(filters, qos, options, _settings.properties);
        } else {
            token = _connection.client().subscribe(filters, qos);
        }
        token->wait();
    } catch (const mqtt::exception& error) {
        int reason = error.get_reason_code();
        if (reason >= kFirstFailureReason) {
            throw ToolError(kExitFailure, "subscribe rejected: " + describe_reason_code(reason));
        }
        throw ToolError(kExitFailure, std::string("subscribe failed: ") + error.what());
    }
    std::vector<mqtt::ReasonCode> codes = token->get_subscribe_response().get_reason_codes();
    std::string rejections = describe_rejections(_settings.filters, codes);
    if (!rejections.empty()) {
        throw ToolError(kExitFailure, rejections);
    }
    for (size_t i = 0; i < _settings.filters.size() && i < codes.size(); ++i) {
        _connection.debug("subscribed to '" + _settings.filters[i] + "', granted QoS " +
                          std::to_string(static_cast<int>(codes[i])));
    }
}

bool Subscriber::reconnect(EventQueue::Deadline deadline) {
    auto backoff = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kFirstBackoff);
    while (true) {
        auto wake = std::chrono::steady_clock::now() + backoff;
        if (deadline && *deadline < wake) {
            _queue.sleep_until(*deadline);
            return false;
        }
        _connection.debug(
            "reconnecting in " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(backoff).count()) +
            " s");
        if (!_queue.sleep_until(wake)) {
            return false;
        }
        try {
            connect_and_subscribe();
            return true;
        } catch (const ConnectError& error) {
            // A broker that answers with a refusing CONNACK will keep refusing; give up then.
            if (error.refused()) {
                throw;
            }
            _connection.debug(std::string("reconnect failed: ") + error.what());
        }
        backoff = std::min<std::chrono::steady_clock::duration>(backoff * 2, kMaxBackoff);
    }
}

}  // namespace tern::tools
