// A Paho MQTT C++ async client wrapped in blocking, time-bounded calls for the integration tests.
#pragma once

#include <doctest/doctest.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tern::paho_tests {

// How long any single broker interaction may take before the test fails.
inline constexpr std::chrono::milliseconds kWait{5000};
// The MQTT 5 Session Expiry Interval used for persistent sessions: outlives any test.
inline constexpr int kLongSessionExpiry = 300;

// One MQTT connection through Paho. Every call either completes within kWait or throws
// std::runtime_error (Paho's own failures arrive as mqtt::exception), which doctest reports
// as a failure of the running test case. Received messages queue up until receive() takes them.
class PahoClient {
  public:
    // version is kMqtt311 or kMqtt5; the client is not connected yet.
    PahoClient(int version, std::string client_id);
    // Disconnects if still connected (errors ignored: the test outcome is already decided).
    ~PahoClient();
    PahoClient(const PahoClient&) = delete;
    PahoClient& operator=(const PahoClient&) = delete;

    int version() const { return _version; }
    const std::string& client_id() const { return _client_id; }
    mqtt::async_client& paho() { return _client; }

    // A session that ends with the connection: 3.1.1 clean session 1; 5 clean start 1 and no
    // Session Expiry Interval. Returns the CONNACK as Paho reports it.
    mqtt::connect_response connect_clean();
    // A session that outlives the connection: 3.1.1 clean session 0; 5 Session Expiry
    // Interval kLongSessionExpiry with clean start = fresh (3.1.1 ignores fresh).
    mqtt::connect_response connect_persistent(bool fresh);
    // Connects with options the caller built (the MQTT version must match the client's).
    mqtt::connect_response connect(const mqtt::connect_options& options);
    // Starts connect_clean() without waiting; see connect_clean_all().
    mqtt::token_ptr start_connect_clean();

    // SUBSCRIBE to one filter; returns the SUBACK codes (the granted QoS on success).
    std::vector<int> subscribe(const std::string& filter, int qos,
                               const mqtt::subscribe_options& options = mqtt::subscribe_options(),
                               const mqtt::properties& props = mqtt::properties());

    // PUBLISH and wait until the QoS flow completes (QoS 0: until Paho wrote it).
    void publish(const std::string& topic, const std::string& payload, int qos,
                 bool retained = false, const mqtt::properties& props = mqtt::properties());
    // PUBLISH without waiting; the caller waits on the returned token.
    mqtt::delivery_token_ptr publish_async(const std::string& topic, const std::string& payload,
                                           int qos);

    // The next message received, or nullptr when none arrives within timeout. Throws if the
    // connection was lost meanwhile (Paho queues an empty message for that).
    mqtt::const_message_ptr receive(std::chrono::milliseconds timeout = kWait);
    // The next message; throws naming the client when none arrives within timeout.
    mqtt::const_message_ptr expect_message(std::chrono::milliseconds timeout = kWait);

    // DISCONNECT (reason 0) and wait until Paho has closed the connection.
    void disconnect();

  private:
    mqtt::connect_response wait_connected(const mqtt::token_ptr& token);

    int _version;
    std::string _client_id;
    mqtt::async_client _client;
};

// Connects every client with a clean session, all at once. Paho's shared network thread picks up
// a new socket only when its current poll (up to a second) ends, so each connection made while
// other clients are idle costs one to two seconds; connecting in parallel pays that only once.
void connect_clean_all(std::initializer_list<PahoClient*> clients);

// The User Property pairs of a property list, in wire order (duplicates kept).
std::vector<std::pair<std::string, std::string>> user_properties(const mqtt::properties& props);

}  // namespace tern::paho_tests

// Lets doctest print SUBACK code lists in failed assertions.
template <>
struct doctest::StringMaker<std::vector<int>> {
    static doctest::String convert(const std::vector<int>& values);
};
