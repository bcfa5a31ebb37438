// Dispatch of the four tern-sub output modes.
#include "message_formatter.hpp"

#include "json_message.hpp"
#include "message_properties.hpp"

namespace tern::tools {

MessageFormatter::MessageFormatter(OutputMode mode, std::optional<FormatString> format,
                                   bool end_of_line)
    : _mode(mode), _format(std::move(format)), _end_of_line(end_of_line) {}

std::string MessageFormatter::format(const mqtt::message& message,
                                     std::chrono::system_clock::time_point received) const {
    std::string out;
    switch (_mode) {
        case OutputMode::kPayload:
            out = message.get_payload_str();
            break;
        case OutputMode::kVerbose: {
            const std::string& payload = message.get_payload_str();
            out = message.get_topic() + " " + (payload.empty() ? "(null)" : payload);
            break;
        }
        case OutputMode::kFormat:
            out = _format->render(message, read_message_properties(message.get_properties()),
                                  received);
            break;
        case OutputMode::kJson:
            return message_to_json(message, read_message_properties(message.get_properties())) +
                   "\n";
    }
    if (_end_of_line) {
        out.push_back('\n');
    }
    return out;
}

}  // namespace tern::tools
