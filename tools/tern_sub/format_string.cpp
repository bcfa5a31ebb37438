// Parsing and rendering of -F format strings, field by field.
#include "format_string.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>
#include <type_traits>

#include "common/tool_error.hpp"
#include "paho_message_id.hpp"

namespace tern::tools {
namespace {

constexpr std::string_view kFields = "tpqrlmxXIUCDEFRSPA";
constexpr std::string_view kNumericFields = "qrlmxXEFSA";

std::string hex(std::string_view bytes, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        auto byte = static_cast<unsigned char>(c);
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0x0F]);
    }
    return out;
}

tm local_time(std::chrono::system_clock::time_point when) {
    time_t seconds = std::chrono::system_clock::to_time_t(when);
    tm parts{};
    ::localtime_r(&seconds, &parts);
    return parts;
}

std::string strftime_text(const std::string& pattern, std::chrono::system_clock::time_point when) {
    tm parts = local_time(when);
    char buffer[256];
    size_t length = std::strftime(buffer, sizeof(buffer), pattern.c_str(), &parts);
    return std::string(buffer, length);
}

long nanoseconds_of(std::chrono::system_clock::time_point when) {
    auto since_epoch = when.time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
}

std::string unix_time(std::chrono::system_clock::time_point when) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch());
    char buffer[48];
    std::snprintf(buffer, sizeof(buffer), "%lld.%09ld", static_cast<long long>(seconds.count()),
                  nanoseconds_of(when));
    return buffer;
}

std::string joined_user_properties(const MessageProperties& properties) {
    std::string out;
    for (const auto& [key, value] : properties.user_properties) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out += key + ":" + value;
    }
    return out;
}

std::string joined_subscription_ids(const MessageProperties& properties) {
    std::string out;
    for (uint32_t id : properties.subscription_identifiers) {
        if (!out.empty()) {
            out.push_back(',');
        }
        out += std::to_string(id);
    }
    return out;
}

template <typename T>
std::string optional_text(const std::optional<T>& value) {
    if (!value) {
        return {};
    }
    if constexpr (std::is_same_v<T, std::string>) {
        return *value;
    } else {
        return std::to_string(*value);
    }
}

char escape_byte(char escape) {
    switch (escape) {
        case '\\':
            return '\\';
        case '0':
            return '\0';
        case 'a':
            return '\a';
        case 'e':
            return '\x1B';
        case 'n':
            return '\n';
        case 'r':
            return '\r';
        case 't':
            return '\t';
        case 'v':
            return '\v';
        default:
            throw UsageError(std::string("-F: unknown escape \\") + escape);
    }
}

}  // namespace

FormatString FormatString::parse(std::string_view format) {
    FormatString result;
    std::string literal;
    auto flush_literal = [&] {
        if (!literal.empty()) {
            result._pieces.push_back({Piece::Kind::kLiteral, literal});
            literal.clear();
        }
    };
    for (size_t pos = 0; pos < format.size();) {
        char c = format[pos];
        bool special = c == '%' || c == '@' || c == '\\';
        if (!special) {
            literal.push_back(c);
            ++pos;
            continue;
        }
        if (pos + 1 >= format.size()) {
            throw UsageError(std::string("-F: the format ends inside a '") + c + "' sequence");
        }
        char next = format[pos + 1];
        if (c == '\\') {
            literal.push_back(escape_byte(next));
            pos += 2;
        } else if (c == next) {
            literal.push_back(c);
            pos += 2;
        } else if (c == '@') {
            flush_literal();
            Piece piece;
            piece.kind = next == 'N' ? Piece::Kind::kNanoseconds : Piece::Kind::kTime;
            piece.text = std::string("%") + next;
            result._pieces.push_back(piece);
            pos += 2;
        } else {
            flush_literal();
            Piece piece;
            pos = parse_field(format, pos + 1, piece);
            result._pieces.push_back(piece);
        }
    }
    flush_literal();
    return result;
}

// Reads "[-][0][width][.precision]X" starting at pos (just after '%'); returns the position
// after X.
size_t FormatString::parse_field(std::string_view format, size_t pos, Piece& piece) {
    piece.kind = Piece::Kind::kField;
    while (pos < format.size() && (format[pos] == '-' || format[pos] == '0')) {
        (format[pos] == '-' ? piece.left_align : piece.zero_pad) = true;
        ++pos;
    }
    auto read_number = [&format, &pos] {
        int value = 0;
        while (pos < format.size() && format[pos] >= '0' && format[pos] <= '9') {
            value = std::min(value * 10 + (format[pos] - '0'), 100000);
            ++pos;
        }
        return value;
    };
    piece.width = read_number();
    if (pos < format.size() && format[pos] == '.') {
        ++pos;
        piece.precision = read_number();
    }
    if (pos >= format.size()) {
        throw UsageError("-F: the format ends inside a '%' sequence");
    }
    piece.field = format[pos];
    if (kFields.find(piece.field) == std::string_view::npos) {
        throw UsageError(std::string("-F: unknown field %") + piece.field);
    }
    return pos + 1;
}

std::string FormatString::field_text(const Piece& piece, const mqtt::message& message,
                                     const MessageProperties& properties,
                                     std::chrono::system_clock::time_point received) {
    const std::string& payload = message.get_payload_str();
    switch (piece.field) {
        case 't':
            return message.get_topic();
        case 'p':
            return payload;
        case 'q':
            return std::to_string(message.get_qos());
        case 'r':
            return message.is_retained() ? "1" : "0";
        case 'l':
            return std::to_string(payload.size());
        case 'm':
            return std::to_string(paho_message_id(message));
        case 'x':
            return hex(payload, false);
        case 'X':
            return hex(payload, true);
        case 'I':
            return strftime_text("%Y-%m-%dT%H:%M:%S%z", received);
        case 'U':
            return unix_time(received);
        case 'C':
            return optional_text(properties.content_type);
        case 'D':
            return optional_text(properties.correlation_data);
        case 'E':
            return optional_text(properties.message_expiry_interval);
        case 'F':
            return optional_text(properties.payload_format_indicator);
        case 'R':
            return optional_text(properties.response_topic);
        case 'S':
            return joined_subscription_ids(properties);
        case 'P':
            return joined_user_properties(properties);
        case 'A':
            return optional_text(properties.topic_alias);
        default:
            return {};
    }
}

std::string FormatString::render(const mqtt::message& message, const MessageProperties& properties,
                                 std::chrono::system_clock::time_point received) const {
    std::string out;
    for (const Piece& piece : _pieces) {
        switch (piece.kind) {
            case Piece::Kind::kLiteral:
                out += piece.text;
                break;
            case Piece::Kind::kTime:
                out += strftime_text(piece.text, received);
                break;
            case Piece::Kind::kNanoseconds: {
                char buffer[16];
                std::snprintf(buffer, sizeof(buffer), "%09ld", nanoseconds_of(received));
                out += buffer;
                break;
            }
            case Piece::Kind::kField: {
                std::string text = field_text(piece, message, properties, received);
                if (piece.precision >= 0 && text.size() > static_cast<size_t>(piece.precision)) {
                    text.resize(static_cast<size_t>(piece.precision));
                }
                size_t width = static_cast<size_t>(piece.width);
                if (text.size() < width) {
                    bool numeric = kNumericFields.find(piece.field) != std::string_view::npos;
                    std::string padding(width - text.size(),
                                        piece.zero_pad && numeric && !piece.left_align ? '0' : ' ');
                    text = piece.left_align ? text + padding : padding + text;
                }
                out += text;
                break;
            }
        }
    }
    return out;
}

}  // namespace tern::tools
