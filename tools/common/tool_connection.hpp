// One Paho client per tool run: connect with readable errors, remember why the connection
// ended, disconnect politely.
#pragma once

#include <mqtt/async_client.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "connection_flags.hpp"
#include "tool_error.hpp"

namespace tern::tools {

// A failed connect (exit 1). refused() tells a broker's refusing CONNACK, which retrying will
// not fix, from transport failures (refused TCP connection, DNS, TLS), which it may.
class ConnectError : public ToolError {
  public:
    ConnectError(const std::string& message, bool refused)
        : ToolError(kExitFailure, message), _refused(refused) {}

    bool refused() const { return _refused; }

  private:
    bool _refused;
};

// What the CONNACK told us (MQTT 5 §3.2.2.3; defaults apply when a property is absent).
struct ConnectResult {
    bool session_present = false;
    int receive_maximum = 65535;
    int maximum_qos = 2;
    bool retain_available = true;
};

class ToolConnection {
  public:
    // Creates the Paho client without persistence (nothing is written to the working
    // directory). Callbacks for messages and connection loss are the caller's to set on
    // client() before connect().
    explicit ToolConnection(ConnectionPlan plan);
    // Disconnects if still connected.
    ~ToolConnection();

    ToolConnection(const ToolConnection&) = delete;
    ToolConnection& operator=(const ToolConnection&) = delete;

    mqtt::async_client& client() { return *_client; }
    const ConnectionPlan& plan() const { return _plan; }

    // Connects and waits for the CONNACK. Throws ConnectError with a line such as
    // "cannot connect to 127.0.0.1:1884: connection refused". Call again to reconnect.
    ConnectResult connect();

    // Sends DISCONNECT with the -D disconnect properties and waits up to timeout for
    // outstanding work; never throws.
    void disconnect(std::chrono::milliseconds timeout) noexcept;

    // Why the connection ended: the server's DISCONNECT reason (MQTT 5) or Paho's cause.
    std::string loss_reason(const std::string& paho_cause) const;

    // Writes "tool: line" on stderr when -d was given.
    void debug(const std::string& line) const;

  private:
    ConnectionPlan _plan;
    std::unique_ptr<mqtt::async_client> _client;
    mutable std::mutex _mutex;
    std::string _tls_error;          // guarded by _mutex; written on Paho's thread
    std::string _server_disconnect;  // guarded by _mutex; written on Paho's thread
};

}  // namespace tern::tools
