// The packet identifier of a received message (for -F %m).
#pragma once

namespace mqtt {
class message;
}

namespace tern::tools {

// The PUBLISH packet identifier, 0 for QoS 0 messages (MQTT 5 §2.2.1).
int paho_message_id(const mqtt::message& message);

}  // namespace tern::tools
