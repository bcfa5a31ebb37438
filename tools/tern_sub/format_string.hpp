// tern-sub -F: mosquitto_sub's output format strings (%-fields, @-time, \-escapes).
#pragma once

#include <mqtt/message.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "message_properties.hpp"

namespace tern::tools {

// A parsed -F format. Fields: %t topic, %p payload, %q QoS, %r retain (0/1), %l payload
// length, %m message id, %x / %X payload in lower / upper case hex, %I ISO-8601 local time,
// %U Unix time with nanoseconds, %C content type, %D correlation data, %E message expiry
// interval, %F payload format indicator, %R response topic, %S subscription identifiers
// (comma-separated), %P user properties ("k:v" separated by spaces), %A topic alias, %% a '%'.
// Fields take mosquitto's "%[-][0][width][.precision]X" modifiers: '-' left-aligns, '0'
// zero-pads numeric fields, precision cuts the text to that many bytes. @X passes %X to
// strftime(3) (local time), @N gives nanoseconds, @@ a '@'. Escapes: \\ \0 \a \e \n \r \t \v.
class FormatString {
  public:
    // Throws UsageError naming the first unknown or unfinished sequence.
    static FormatString parse(std::string_view format);

    std::string render(const mqtt::message& message, const MessageProperties& properties,
                       std::chrono::system_clock::time_point received) const;

  private:
    struct Piece {
        enum class Kind { kLiteral, kField, kTime, kNanoseconds };
        Kind kind = Kind::kLiteral;
        std::string text;  // kLiteral: the bytes; kTime: the strftime pattern
        char field = 0;    // kField: the conversion letter
        bool left_align = false;
        bool zero_pad = false;
        int width = 0;
        int precision = -1;
    };

    static size_t parse_field(std::string_view format, size_t pos, Piece& piece);
    static std::string field_text(const Piece& piece, const mqtt::message& message,
                                  const MessageProperties& properties,
                                  std::chrono::system_clock::time_point received);

    std::vector<Piece> _pieces;
};

}  // namespace tern::tools
