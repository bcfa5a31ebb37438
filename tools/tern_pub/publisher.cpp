// Windowed QoS 0/1/2 publishing with per-delivery error reporting.
#include "publisher.hpp"

#include "common/reason_code_text.hpp"
#include "common/tool_error.hpp"

namespace tern::tools {
namespace {

// MQTT 5 reason codes of 0x80 and above are failures (spec §2.4).
constexpr int kFirstFailureReason = 0x80;

}  // namespace

Publisher::Publisher(ToolConnection& connection, PublishSettings settings)
    : _connection(connection), _settings(std::move(settings)) {
    _connection.client().set_connection_lost_handler(
        [state = _lost_state](const std::string& cause) {
            std::lock_guard lock(state->mutex);
            state->lost = true;
            state->cause = cause;
        });
}

void Publisher::publish(const std::string& payload) {
    while (_in_flight.size() >= _settings.window) {
        complete_oldest();
    }
    auto message = mqtt::message::create(_settings.topic, payload.data(), payload.size(),
                                         _settings.qos, _settings.retain, _settings.properties);
    try {
        _in_flight.push_back(_connection.client().publish(message));
    } catch (const mqtt::exception& error) {
        fail(error);
    }
}

void Publisher::flush() {
    while (!_in_flight.empty()) {
        complete_oldest();
    }
}

void Publisher::complete_oldest() {
    mqtt::delivery_token_ptr token = _in_flight.front();
    _in_flight.pop_front();
    try {
        token->wait();
    } catch (const mqtt::exception& error) {
        fail(error);
    }
    ++_completed;
}

void Publisher::fail(const mqtt::exception& error) {
    int reason = error.get_reason_code();
    // A PUBACK or PUBREC with a failure reason code: the broker refused this message
    // (MQTT 5 §3.4.2.1, §3.5.2.1).
    if (reason >= kFirstFailureReason) {
        throw ToolError(kExitFailure, "publish rejected: " + describe_reason_code(reason));
    }
    std::string cause;
    bool lost = false;
    {
        std::lock_guard lock(_lost_state->mutex);
        lost = _lost_state->lost;
        cause = _lost_state->cause;
    }
    if (lost || !_connection.client().is_connected()) {
        throw ToolError(kExitFailure,
                        "publish failed: connection lost: " + _connection.loss_reason(cause));
    }
    throw ToolError(kExitFailure, std::string("publish failed: ") + error.what());
}

}  // namespace tern::tools
