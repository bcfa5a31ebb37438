// Topic names and topic filters: validation, shared-subscription parsing and matching [MQTT-4.7].
#pragma once

#include <cstddef>
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

// Walks the levels of a topic name or filter without copying: "a//b" yields "a", "", "b"; "" yields
// one empty level. position() is where the next level starts, past size() once done; a cursor can
// be rebuilt from a saved position.
class TopicLevels {
  public:
    explicit TopicLevels(std::string_view text, std::size_t position = 0) noexcept
        : _text(text), _position(position) {}

    bool done() const noexcept { return _position > _text.size(); }
    std::size_t position() const noexcept { return _position; }

    // The next level. Must not be called once done().
    std::string_view next() noexcept {
        std::size_t end = _text.find('/', _position);
        if (end == std::string_view::npos) {
            end = _text.size();
        }
        std::string_view level = _text.substr(_position, end - _position);
        _position = end + 1;
        return level;
    }

  private:
    std::string_view _text;
    std::size_t _position;
};

}  // namespace tern::core
