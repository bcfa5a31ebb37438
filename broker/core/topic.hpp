// Topic names and topic filters: validation, shared-subscription parsing and matching [MQTT-4.7].
#pragma once

#include <optional>
#include <string_view>

namespace tern::core {

// A topic name a client may publish to: non-empty, valid UTF-8 (checked by the codec), no '+' or
// '#' [MQTT-3.3.2-2], at most `max_length` bytes and `max_levels` levels (0 = unlimited).
bool is_valid_topic_name(std::string_view topic, std::size_t max_length = 0,
                         std::size_t max_levels = 0) noexcept;

// A topic filter: non-empty [MQTT-4.7.3-1]; '#' only as the last level and alone in it
// [MQTT-4.7.1-2]; '+' alone in its level [MQTT-4.7.1-3]. Shared filters are checked by
// parse_shared_filter. Limits as above.
bool is_valid_topic_filter(std::string_view filter, std::size_t max_length = 0,
                           std::size_t max_levels = 0) noexcept;

struct SharedFilter {
    std::string_view group;   // ShareName: non-empty, no '/', '+' or '#' [MQTT-4.8.2-2]
    std::string_view filter;  // the filter after the group, itself a valid filter
};

// True when `filter` starts with "$share/".
bool is_shared_filter(std::string_view filter) noexcept;

// Splits "$share/group/filter". nullopt when the filter is not a well-formed shared filter.
std::optional<SharedFilter> parse_shared_filter(std::string_view filter) noexcept;

// True when `topic` matches `filter`. Topics starting with '$' are not matched by filters starting
// with a wildcard [MQTT-4.7.2-1].
bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

}  // namespace tern::core
