// Level-by-level topic filter validation and matching (MQTT 5 §4.7).
#include "topic_filter.hpp"

namespace tern::tools {
namespace {

constexpr size_t kMaxTopicBytes = 65535;

// Returns the level starting at pos and advances pos past its '/' (npos after the last one).
std::string_view next_level(std::string_view text, size_t& pos) {
    size_t slash = text.find('/', pos);
    std::string_view level =
        text.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    pos = slash == std::string_view::npos ? std::string_view::npos : slash + 1;
    return level;
}

bool has_basic_shape(std::string_view text) {
    return !text.empty() && text.size() <= kMaxTopicBytes &&
           text.find('\0') == std::string_view::npos;
}

}  // namespace

bool is_valid_topic_name(std::string_view topic) {
    return has_basic_shape(topic) && topic.find_first_of("+#") == std::string_view::npos;
}

bool is_valid_topic_filter(std::string_view filter) {
    if (!has_basic_shape(filter)) {
        return false;
    }
    size_t pos = 0;
    while (pos != std::string_view::npos) {
        std::string_view level = next_level(filter, pos);
        if (level.find_first_of("+#") == std::string_view::npos) {
            continue;
        }
        if (level == "+") {
            continue;
        }
        if (level == "#" && pos == std::string_view::npos) {
            continue;
        }
        return false;
    }
    return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
    if (topic.empty() || filter.empty()) {
        return false;
    }
    if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    size_t filter_pos = 0;
    size_t topic_pos = 0;
    while (filter_pos != std::string_view::npos) {
        std::string_view filter_level = next_level(filter, filter_pos);
        if (filter_level == "#") {
            return true;
        }
        if (topic_pos == std::string_view::npos) {
            return false;
        }
        std::string_view topic_level = next_level(topic, topic_pos);
        if (filter_level != "+" && filter_level != topic_level) {
            return false;
        }
    }
    return topic_pos == std::string_view::npos;
}

}  // namespace tern::tools
