// Reads the packet identifier Paho MQTT C++ 1.2 stores in each message but exposes only
// through c_struct(), which its headers declare when UNIT_TESTS is defined.
// UNIT_TESTS adds nothing but inline const accessors to Paho's classes (no layout change), and
// it must be defined before the first Paho header of this file, so this file is on its own.
#define UNIT_TESTS
#include "paho_message_id.hpp"

#include <mqtt/message.h>

namespace tern::tools {

int paho_message_id(const mqtt::message& message) {
    return message.c_struct().msgid;
}

}  // namespace tern::tools
