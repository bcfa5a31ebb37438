// Topic names and filters: validation, "$share/" parsing and filter matching [MQTT-4.7,
// MQTT-4.8.2].
//
// Normative statements are cited with their MQTT 3.1.1 number; where MQTT 5.0 renumbered one, both
// are given. Validation works on bytes: UTF-8 well-formedness is the codec's job, and '/', '+', '#'
// and '$' are ASCII so they can never appear inside a multi-byte sequence.
#include "core/topic.hpp"

namespace tern::core {
namespace {

// Topic names and filters are UTF-8 strings and cannot exceed 65,535 bytes [MQTT-4.7.3-3].
constexpr std::size_t kProtocolMaxLength = 65535;
constexpr std::string_view kSharePrefix = "$share/";

bool length_ok(std::string_view text, std::size_t max_length) noexcept {
    if (text.size() > kProtocolMaxLength) {
        return false;
    }
    return max_length == 0 || text.size() <= max_length;
}

bool levels_ok(std::size_t levels, std::size_t max_levels) noexcept {
    return max_levels == 0 || levels <= max_levels;
}

// A plain (non-shared) filter, without the length check.
bool plain_filter_ok(std::string_view filter, std::size_t max_levels) noexcept {
    // All topic filters must be at least one character long [MQTT-4.7.3-1].
    if (filter.empty()) {
        return false;
    }
    std::size_t levels = 0;
    TopicLevels cursor(filter);
    while (!cursor.done()) {
        std::string_view level = cursor.next();
        ++levels;
        for (char c : level) {
            // No null character in topic names or filters [MQTT-4.7.3-2].
            if (c == '\0') {
                return false;
            }
            // '+' must occupy an entire level [MQTT-4.7.1-3] (5.0: MQTT-4.7.1-2).
            if (c == '+' && level.size() != 1) {
                return false;
            }
            // '#' must be alone in its level and that level must be the last one [MQTT-4.7.1-2]
            // (5.0: MQTT-4.7.1-1).
            if (c == '#' && (level.size() != 1 || !cursor.done())) {
                return false;
            }
        }
    }
    return levels_ok(levels, max_levels);
}

}  // namespace

bool is_valid_topic_name(std::string_view topic, std::size_t max_length,
                         std::size_t max_levels) noexcept {
    // Topic names must be at least one character long [MQTT-4.7.3-1].
    if (topic.empty() || !length_ok(topic, max_length)) {
        return false;
    }
    std::size_t levels = 1;
    for (char c : topic) {
        // Wildcards may not be used within a topic name [MQTT-3.3.2-2, MQTT-4.7.1-1]
        // (5.0: MQTT-4.7.0-1); nor may the null character [MQTT-4.7.3-2].
        if (c == '+' || c == '#' || c == '\0') {
            return false;
        }
        if (c == '/') {
            ++levels;
        }
    }
    return levels_ok(levels, max_levels);
}

bool is_valid_topic_filter(std::string_view filter, std::size_t max_length,
                           std::size_t max_levels) noexcept {
    if (!length_ok(filter, max_length)) {
        return false;
    }
    // A filter that starts with "$share/" is a shared subscription and must be well formed as one
    // [MQTT-4.8.2-1, MQTT-4.8.2-2]; the level limit applies to the filter after the ShareName,
    // which is what gets matched against topic names.
    if (is_shared_filter(filter)) {
        std::optional<SharedFilter> shared = parse_shared_filter(filter);
        return shared.has_value() && plain_filter_ok(shared->filter, max_levels);
    }
    return plain_filter_ok(filter, max_levels);
}

bool is_shared_filter(std::string_view filter) noexcept {
    return filter.starts_with(kSharePrefix);
}

std::optional<SharedFilter> parse_shared_filter(std::string_view filter) noexcept {
    if (!is_shared_filter(filter)) {
        return std::nullopt;
    }
    std::string_view rest = filter.substr(kSharePrefix.size());
    std::size_t slash = rest.find('/');
    // The ShareName must be followed by a '/' and then a topic filter [MQTT-4.8.2-2].
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    SharedFilter shared{rest.substr(0, slash), rest.substr(slash + 1)};
    // The ShareName is at least one character long [MQTT-4.8.2-1]; it cannot contain '/' (the
    // split guarantees that), '+' or '#' [MQTT-4.8.2-2], nor a null character [MQTT-4.7.3-2].
    if (shared.group.empty() ||
        shared.group.find_first_of(std::string_view("+#\0", 3)) != std::string_view::npos) {
        return std::nullopt;
    }
    if (!plain_filter_ok(shared.filter, 0)) {
        return std::nullopt;
    }
    return shared;
}

bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
    // A filter starting with a wildcard does not match a topic starting with '$' [MQTT-4.7.2-1].
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    TopicLevels filter_levels(filter);
    TopicLevels topic_levels(topic);
    while (!filter_levels.done()) {
        std::string_view wanted = filter_levels.next();
        // '#' matches its parent level and any number of levels below it [MQTT-4.7.1-2]:
        // "sport/#" matches "sport" as well as "sport/tennis/player1".
        if (wanted == "#") {
            return true;
        }
        if (topic_levels.done()) {
            return false;
        }
        std::string_view level = topic_levels.next();
        // '+' matches exactly one level, an empty one included; any other level must match
        // byte for byte, without normalization [MQTT-4.7.3-4].
        if (wanted != "+" && wanted != level) {
            return false;
        }
    }
    return topic_levels.done();
}

}  // namespace tern::core
