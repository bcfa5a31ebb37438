// Sends tern-pub's messages through Paho, keeping up to a window of deliveries in flight and
// turning a broker's refusal into "publish rejected: <reason> (0xNN)".
#pragma once

#include <mqtt/async_client.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "common/tool_connection.hpp"

namespace tern::tools {

struct PublishSettings {
    std::string topic;
    int qos = 0;
    bool retain = false;
    mqtt::properties properties;  // -D publish ...
    size_t window = 20;           // deliveries allowed in flight at once (>= 1)
};

class Publisher {
  public:
    // connection must be connected and outlive the publisher. Installs the connection-lost
    // handler on its client.
    Publisher(ToolConnection& connection, PublishSettings settings);

    // Starts one delivery; first waits for the oldest one while the window is full. With
    // window 1 every QoS 1/2 message is acknowledged before the next is sent. Throws
    // ToolError (exit 1) when a delivery was rejected or the connection was lost.
    void publish(const std::string& payload);

    // Waits until every started delivery has completed; throws like publish().
    void flush();

    size_t completed() const { return _completed; }

  private:
    void complete_oldest();
    [[noreturn]] void fail(const mqtt::exception& error);

    // Written by Paho's thread when the connection drops; shared so that a late callback
    // never touches a destroyed publisher.
    struct LostState {
        std::mutex mutex;
        bool lost = false;  // guarded by mutex
        std::string cause;  // guarded by mutex
    };

    ToolConnection& _connection;
    PublishSettings _settings;
    std::deque<mqtt::delivery_token_ptr> _in_flight;
    size_t _completed = 0;
    std::shared_ptr<LostState> _lost_state = std::make_shared<LostState>();
};

}  // namespace tern::tools
