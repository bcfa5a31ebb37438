// Paho client set-up, connect with failure diagnosis, and disconnect for both tools.
#include "tool_connection.hpp"

#include <iostream>

#include "connect_failure.hpp"
#include "reason_code_text.hpp"

namespace tern::tools {
namespace {

std::string version_label(int mqtt_version) {
    switch (mqtt_version) {
        case 3:
            return "MQTT 3.1";
        case 4:
            return "MQTT 3.1.1";
        default:
            return "MQTT 5";
    }
}

ConnectResult read_connack(const mqtt::token& token) {
    ConnectResult result;
    mqtt::connect_response response = token.get_connect_response();
    result.session_present = response.is_session_present();
    const mqtt::properties& props = response.get_properties();
    if (props.contains(mqtt::property::RECEIVE_MAXIMUM)) {
        result.receive_maximum = mqtt::get<uint16_t>(props, mqtt::property::RECEIVE_MAXIMUM);
    }
    if (props.contains(mqtt::property::MAXIMUM_QOS)) {
        result.maximum_qos = mqtt::get<uint8_t>(props, mqtt::property::MAXIMUM_QOS);
    }
    if (props.contains(mqtt::property::RETAIN_AVAILABLE)) {
        result.retain_available = mqtt::get<uint8_t>(props, mqtt::property::RETAIN_AVAILABLE) != 0;
    }
    return result;
}

}  // namespace

ToolConnection::ToolConnection(ConnectionPlan plan) : _plan(std::move(plan)) {
    mqtt::create_options create(_plan.mqtt_version >= 5 ? MQTTVERSION_5 : MQTTVERSION_DEFAULT);
    _client =
        std::make_unique<mqtt::async_client>(_plan.server_uri, _plan.client_id, create, nullptr);
    // No ssl_options error handler: Paho C++ 1.2 calls it through a pointer to a copy of the
    // options that has gone out of scope by then (AddressSanitizer: stack-use-after-scope).
    // A failed handshake is explained by probe_tls() instead.
    _client->set_disconnected_handler([this](const mqtt::properties&, mqtt::ReasonCode code) {
        std::lock_guard lock(_mutex);
        _server_disconnect = "broker sent DISCONNECT: " + describe_reason_code(code);
    });
}

ToolConnection::~ToolConnection() {
    // Reached while still connected only when a run ends early with an error; a DISCONNECT
    // then keeps the broker from publishing the will [MQTT-3.1.2-10].
    disconnect(std::chrono::seconds(1));
    _client->disable_callbacks();
    // Destroy the client (and its threads) before _mutex, which its handlers lock.
    _client.reset();
}

ConnectResult ToolConnection::connect() {
    debug("connecting to " + _plan.server_uri + " as '" + _plan.client_id + "' (" +
          version_label(_plan.mqtt_version) + ")");
    {
        std::lock_guard lock(_mutex);
        _tls_error.clear();
        _server_disconnect.clear();
    }
    try {
        mqtt::token_ptr token = _client->connect(_plan.options);
        token->wait();
        ConnectResult result = read_connack(*token);
        debug(std::string("connected, session present: ") +
              (result.session_present ? "yes" : "no"));
        return result;
    } catch (const mqtt::exception& error) {
        ConnectFailure failure;
        failure.return_code = error.get_return_code();
        failure.mqtt_version = _plan.mqtt_version;
        failure.paho_message = error.get_message();
        {
            std::lock_guard lock(_mutex);
            failure.tls_error = _tls_error;
        }
        throw ConnectError(describe_connect_failure(failure, _plan.endpoint, _plan.tls),
                           failure.return_code > 0);
    }
}

void ToolConnection::disconnect(std::chrono::milliseconds timeout) noexcept {
    try {
        if (!_client->is_connected()) {
            return;
        }
        mqtt::disconnect_options options(static_cast<int>(timeout.count()));
        if (_plan.mqtt_version >= 5) {
            options.set_properties(_plan.properties.disconnect);
        }
        _client->disconnect(options)->wait_for(timeout + std::chrono::seconds(1));
        debug("disconnected");
    } catch (const mqtt::exception&) {
        // The connection is going away anyway; nothing useful to report.
    }
}

std::string ToolConnection::loss_reason(const std::string& paho_cause) const {
    std::lock_guard lock(_mutex);
    if (!_server_disconnect.empty()) {
        return _server_disconnect;
    }
    return paho_cause.empty() ? "the connection closed" : paho_cause;
}

void ToolConnection::debug(const std::string& line) const {
    if (_plan.debug) {
        std::cerr << _plan.tool_name << ": " << line << '\n';
    }
}

}  // namespace tern::tools
