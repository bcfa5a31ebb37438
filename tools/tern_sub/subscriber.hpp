// tern-sub's MQTT side: subscribe, queue incoming messages, and with -c reconnect to the
// persistent session, subscribing again only when the broker lost it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/tool_connection.hpp"
#include "event_queue.hpp"

namespace tern::tools {

struct SubscribeSettings {
    std::vector<std::string> filters;
    int qos = 0;
    mqtt::properties properties;  // -D subscribe ...
};

class Subscriber {
  public:
    // Installs the message and connection-lost handlers on connection's client; both feed
    // queue. connection and queue must outlive the subscriber.
    Subscriber(ToolConnection& connection, EventQueue& queue, SubscribeSettings settings);

    // Connects and subscribes. Throws ToolError (exit 1) on a refused connection or a
    // rejected subscription.
    void start();

    // After a kConnectionLost event: reconnects with backoff (1 s doubling to 30 s) until it
    // works, the deadline passes or a stop is requested; returns false in the last two cases.
    // Subscribes again only if the broker lost the session (session present = 0). A refused
    // CONNACK is not retried: it throws ToolError.
    bool reconnect(EventQueue::Deadline deadline);

  private:
    void connect_and_subscribe();
    void subscribe();

    ToolConnection& _connection;
    EventQueue& _queue;
    SubscribeSettings _settings;
};

}  // namespace tern::tools
