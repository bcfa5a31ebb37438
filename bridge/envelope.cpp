// Message envelopes: UTF-8 and JSON detection, base64, and SSE framing.
#include "envelope.hpp"

namespace tern::bridge {

namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t size = text.size();
    std::size_t i = 0;
    while (i < size) {
        const unsigned char lead = bytes[i];
        if (lead < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        uint32_t code = 0;
        uint32_t minimum = 0;
        if ((lead & 0xE0) == 0xC0) {
            length = 2;
            code = lead & 0x1F;
            minimum = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3;
            code = lead & 0x0F;
            minimum = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4;
            code = lead & 0x07;
            minimum = 0x10000;
        } else {
            return false;  // a continuation byte or 0xF8..0xFF where a character starts
        }
        if (size - i < length) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            if ((bytes[i + k] & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (bytes[i + k] & 0x3F);
        }
        if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += kBase64Alphabet[(group >> 18) & 63];
        out += kBase64Alphabet[(group >> 12) & 63];
        out += kBase64Alphabet[(group >> 6) & 63];
        out += kBase64Alphabet[group & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const uint32_t group = byte(i) << 16;
        out += kBase64Alphabet[(group >> 18) & 63];
        out += kBase64Alphabet[(group >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8);
        out += kBase64Alphabet[(group >> 18) & 63];
        out += kBase64Alphabet[(group >> 12) & 63];
        out += kBase64Alphabet[(group >> 6) & 63];
        out += '=';
    }
    return out;
}

bool base64_decode(std::string_view text, std::string& out) {
    out.clear();
    std::size_t padding = 0;
    while (!text.empty() && text.back() == '=' && padding < 2) {
        text.remove_suffix(1);
        ++padding;
    }
    if (text.size() % 4 == 1 || (padding != 0 && (text.size() + padding) % 4 != 0)) {
        return false;
    }
    out.reserve(text.size() * 3 / 4);
    uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = base64_value(c);
        if (value < 0) {
            return false;
        }
        buffer = (buffer << 6) | static_cast<uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    // The unused low bits of the last character must be zero (canonical encoding).
    return (buffer & ((1u << bits) - 1)) == 0;
}

nlohmann::ordered_json envelope(const core::Message& message, bool retain, uint64_t epoch,
                                uint64_t timestamp_ms) {
    nlohmann::ordered_json out;
    out["topic"] = message.topic;
    if (is_valid_utf8(message.payload)) {
        out["payload"] = message.payload;
        auto parsed = nlohmann::ordered_json::parse(message.payload, nullptr, false);
        if (!parsed.is_discarded()) {
            out["json"] = std::move(parsed);
        }
    } else {
        out["payload"] = base64_encode(message.payload);
        out["encoding"] = "base64";
    }
    out["qos"] = message.qos;
    out["retain"] = retain;
    out["timestamp"] = message.published_unix_ms != 0 ? message.published_unix_ms : timestamp_ms;
    if (message.seq != 0) {
        out["id"] = std::to_string(epoch) + "-" + std::to_string(message.seq);
    }
    const codec::Properties& props = message.properties();
    nlohmann::ordered_json properties = nlohmann::ordered_json::object();
    if (props.content_type) {
        properties["content_type"] = *props.content_type;
    }
    if (!props.user_properties.empty()) {
        nlohmann::ordered_json pairs = nlohmann::ordered_json::array();
        for (const auto& [key, value] : props.user_properties) {
            pairs.push_back({key, value});
        }
        properties["user_properties"] = std::move(pairs);
    }
    if (props.response_topic) {
        properties["response_topic"] = *props.response_topic;
    }
    if (props.correlation_data) {
        properties["correlation_data"] = base64_encode(*props.correlation_data);
    }
    if (!properties.empty()) {
        out["properties"] = std::move(properties);
    }
    return out;
}

std::string dump_json(const nlohmann::ordered_json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string envelope_json(const core::Message& message, bool retain, uint64_t epoch,
                          uint64_t timestamp_ms) {
    return dump_json(envelope(message, retain, epoch, timestamp_ms));
}

std::string sse_event(std::string_view event, std::string_view id, std::string_view data) {
    std::string out;
    out.reserve(data.size() + event.size() + id.size() + 24);
    if (!event.empty()) {
        out += "event: ";
        out += event;
        out += '\n';
    }
    if (!id.empty()) {
        out += "id: ";
        out += id;
        out += '\n';
    }
    // A line break inside the data ends a "data:" line; the client joins them with "\n".
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = data.find_first_of("\r\n", start);
        out += "data: ";
        out += data.substr(start,
                           end == std::string_view::npos ? std::string_view::npos : end - start);
        out += '\n';
        if (end == std::string_view::npos) {
            break;
        }
        start =
            end + ((data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1);
    }
    out += '\n';
    return out;
}

}  // namespace tern::bridge
