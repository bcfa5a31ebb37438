// Blocking, time-bounded wrappers around Paho's asynchronous client calls.
#include "paho_client.hpp"

#include <stdexcept>

#include "test_broker.hpp"

namespace tern::paho_tests {

namespace {

// Waits for an asynchronous Paho operation; a failure names the operation and Paho's codes.
void wait_or_throw(const mqtt::token_ptr& token, const std::string& what) {
    bool done = false;
    try {
        done = token->wait_for(kWait);
    } catch (const mqtt::exception& error) {
        throw std::runtime_error(what + " failed: " + error.what() + " (return code " +
                                 std::to_string(error.get_return_code()) + ", reason code " +
                                 std::to_string(error.get_reason_code()) + ")");
    }
    if (!done) {
        throw std::runtime_error(what + " did not complete within " +
                                 std::to_string(kWait.count()) + " ms");
    }
}

mqtt::connect_options_builder base_options(int version) {
    mqtt::connect_options_builder builder;
    builder.mqtt_version(version)
        .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(kWait))
        .keep_alive_interval(std::chrono::seconds(30))
        .automatic_reconnect(false);
    return builder;
}

}  // namespace

PahoClient::PahoClient(int version, std::string client_id)
    : _version(version),
      _client_id(std::move(client_id)),
      _client(TestBroker::get().server_uri(), _client_id, mqtt::create_options(version)) {
    // Consuming must start before connecting so that messages a resumed session delivers
    // right after CONNACK are queued, not dropped.
    _client.start_consuming();
}

PahoClient::~PahoClient() {
    try {
        if (_client.is_connected()) {
            _client.disconnect(std::chrono::milliseconds(1000))->wait_for(kWait);
        }
    } catch (const std::exception&) {
        // Teardown only: a failure here cannot change the test's outcome.
    }
}

mqtt::connect_response PahoClient::connect_clean() {
    return wait_connected(start_connect_clean());
}

mqtt::token_ptr PahoClient::start_connect_clean() {
    auto builder = base_options(_version);
    if (_version == kMqtt5) {
        builder.clean_start(true);
    } else {
        builder.clean_session(true);
    }
    return _client.connect(builder.finalize());
}

mqtt::connect_response PahoClient::connect_persistent(bool fresh) {
    auto builder = base_options(_version);
    if (_version == kMqtt5) {
        // [MQTT-3.1.2-23] the session is kept after the network connection closes while the
        // Session Expiry Interval is greater than 0.
        builder.clean_start(fresh).properties(
            {mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, kLongSessionExpiry)});
    } else {
        builder.clean_session(false);
    }
    return connect(builder.finalize());
}

mqtt::connect_response PahoClient::connect(const mqtt::connect_options& options) {
    return wait_connected(_client.connect(options));
}

mqtt::connect_response PahoClient::wait_connected(const mqtt::token_ptr& token) {
    wait_or_throw(token, "CONNECT of " + _client_id);
    return token->get_connect_response();
}

std::vector<int> PahoClient::subscribe(const std::string& filter, int qos,
                                       const mqtt::subscribe_options& options,
                                       const mqtt::properties& props) {
    auto token = _client.subscribe(filter, qos, options, props);
    wait_or_throw(token, "SUBSCRIBE of " + _client_id + " to " + filter);
    // Kept in a local: a range-for over a member of the returned temporary would dangle.
    const mqtt::subscribe_response response = token->get_subscribe_response();
    std::vector<int> codes;
    for (mqtt::ReasonCode code : response.get_reason_codes()) {
        codes.push_back(static_cast<int>(code));
    }
    return codes;
}

void PahoClient::publish(const std::string& topic, const std::string& payload, int qos,
                         bool retained, const mqtt::properties& props) {
    auto message = mqtt::make_message(topic, payload, qos, retained);
    message->set_properties(props);
    wait_or_throw(_client.publish(message), "PUBLISH of " + _client_id + " to " + topic);
}

mqtt::delivery_token_ptr PahoClient::publish_async(const std::string& topic,
                                                   const std::string& payload, int qos) {
    return _client.publish(mqtt::make_message(topic, payload, qos, false));
}

mqtt::const_message_ptr PahoClient::receive(std::chrono::milliseconds timeout) {
    mqtt::const_message_ptr message;
    if (!_client.try_consume_message_for(&message, timeout)) {
        return nullptr;
    }
    if (!message) {
        throw std::runtime_error("client " + _client_id + " lost its connection");
    }
    return message;
}

mqtt::const_message_ptr PahoClient::expect_message(std::chrono::milliseconds timeout) {
    auto message = receive(timeout);
    if (!message) {
        throw std::runtime_error("client " + _client_id + " received no message within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    return message;
}

void PahoClient::disconnect() {
    wait_or_throw(_client.disconnect(), "DISCONNECT of " + _client_id);
}

void connect_clean_all(std::initializer_list<PahoClient*> clients) {
    std::vector<mqtt::token_ptr> tokens;
    for (PahoClient* client : clients) {
        tokens.push_back(client->start_connect_clean());
    }
    auto token = tokens.begin();
    for (PahoClient* client : clients) {
        wait_or_throw(*token++, "CONNECT of " + client->client_id());
    }
}

std::vector<std::pair<std::string, std::string>> user_properties(const mqtt::properties& props) {
    std::vector<std::pair<std::string, std::string>> pairs;
    const size_t count = props.count(mqtt::property::USER_PROPERTY);
    for (size_t index = 0; index < count; ++index) {
        auto [name, value] =
            mqtt::get<mqtt::string_pair>(props, mqtt::property::USER_PROPERTY, index);
        pairs.emplace_back(std::move(name), std::move(value));
    }
    return pairs;
}

}  // namespace tern::paho_tests

doctest::String doctest::StringMaker<std::vector<int>>::convert(const std::vector<int>& values) {
    std::string text = "{";
    for (std::size_t index = 0; index < values.size(); ++index) {
        text += (index == 0 ? "" : ", ") + std::to_string(values[index]);
    }
    text += "}";
    return doctest::String(text.c_str());
}
