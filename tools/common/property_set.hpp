// MQTT 5 properties given with -D/--property (mosquitto syntax), grouped by the packet they go in.
#pragma once

#include <mqtt/properties.h>

#include <string>
#include <vector>

namespace tern::tools {

// The packets a -D option can target.
enum class PropertyCommand { kConnect, kPublish, kSubscribe, kUnsubscribe, kDisconnect, kWill };

// Properties for each packet a tool sends.
struct PropertySet {
    mqtt::properties connect;
    mqtt::properties publish;
    mqtt::properties subscribe;
    mqtt::properties unsubscribe;
    mqtt::properties disconnect;
    mqtt::properties will;

    mqtt::properties& for_command(PropertyCommand command);
};

// Adds one "-D command identifier value [value]" (args excludes the -D itself), e.g.
// {"publish", "user-property", "key", "value"} or {"connect", "session-expiry-interval", "60"}.
// tool_commands lists the packets this tool sends; other commands are rejected. Throws
// UsageError for an unknown command or identifier, a property the packet cannot carry, a bad
// value, or a second copy of a property that may appear only once.
void add_property_arg(PropertySet& set, const std::vector<std::string>& args,
                      const std::vector<PropertyCommand>& tool_commands);

}  // namespace tern::tools
