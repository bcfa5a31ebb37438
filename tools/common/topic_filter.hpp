// Topic name and topic filter checks for command-line arguments, and filter matching for -T.
#pragma once

#include <string_view>

namespace tern::tools {

// True when topic is a valid PUBLISH topic name: non-empty, at most 65535 bytes, no wildcards
// [MQTT-4.7.3-1] [MQTT-3.3.2-2], no NUL character [MQTT-1.5.4-2].
bool is_valid_topic_name(std::string_view topic);

// True when filter is a valid topic filter: non-empty, '#' only as the whole last level
// [MQTT-4.7.1-1], '+' only as a whole level [MQTT-4.7.1-2], no NUL character.
bool is_valid_topic_filter(std::string_view filter);

// True when topic matches filter. A filter starting with a wildcard does not match a topic
// starting with '$' [MQTT-4.7.2-1]; "a/#" also matches "a" (spec §4.7.1.2).
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace tern::tools
