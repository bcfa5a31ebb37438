// The broker under test (address from TERN_TEST_HOST / TERN_TEST_PORT) and per-run unique names.
#pragma once

#include <mqtt/async_client.h>

#include <string>
#include <string_view>

namespace tern::paho_tests {

inline constexpr int kMqtt311 = MQTTVERSION_3_1_1;
inline constexpr int kMqtt5 = MQTTVERSION_5;

// Reads the broker address once; every test case talks to the same running broker, so names
// carry a random per-run tag and the protocol version to keep cases and reruns independent.
class TestBroker {
  public:
    // The process-wide instance; throws std::runtime_error when TERN_TEST_PORT is missing or bad.
    static const TestBroker& get();

    const std::string& host() const { return _host; }
    int port() const { return _port; }
    // "tcp://HOST:PORT", the form Paho expects.
    std::string server_uri() const;

    // A client id such as "persist-v5-1a2b3c4d": unique per run and version.
    static std::string client_id(std::string_view base, int version);
    // A topic such as "paho/retained/v311/1a2b3c4d": unique per run and version.
    static std::string topic(std::string_view base, int version);

  private:
    TestBroker(std::string host, int port) : _host(std::move(host)), _port(port) {}

    std::string _host;
    int _port;
};

// "v311" or "v5", for names and messages.
std::string_view version_label(int version);

}  // namespace tern::paho_tests
