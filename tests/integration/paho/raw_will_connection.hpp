// A hand-built MQTT CONNECT carrying a will over a plain TCP socket that can be dropped abruptly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tern::paho_tests {

// The will a RawWillConnection registers.
struct Will {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
};

// Paho always ends a connection politely, so a will can only be triggered through a connection
// the test controls byte by byte: CONNECT with the will, read the CONNACK, then close the socket
// without sending DISCONNECT ([MQTT-3.1.2-8]: the will must then be published).
class RawWillConnection {
  public:
    // Opens the TCP connection to the broker under test; throws std::runtime_error on failure.
    RawWillConnection();
    ~RawWillConnection();
    RawWillConnection(const RawWillConnection&) = delete;
    RawWillConnection& operator=(const RawWillConnection&) = delete;

    // Sends CONNECT (protocol level `version`, clean session/start, keep alive 60) with the
    // will and waits for CONNACK; returns its return/reason code (0 = accepted).
    int connect(int version, const std::string& client_id, const Will& will);
    // Closes the socket without DISCONNECT.
    void drop();

  private:
    void send_all(const std::vector<std::uint8_t>& bytes);
    std::uint8_t read_byte();

    int _fd = -1;
};

}  // namespace tern::paho_tests
