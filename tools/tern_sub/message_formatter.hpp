// How tern-sub prints a message: payload only, "topic payload" (-v), a -F format or --json.
#pragma once

#include <mqtt/message.h>

#include <chrono>
#include <optional>
#include <string>

#include "format_string.hpp"

namespace tern::tools {

enum class OutputMode { kPayload, kVerbose, kFormat, kJson };

class MessageFormatter {
  public:
    // format is required for kFormat. end_of_line false (-N) drops the '\n' after each message
    // in every mode except kJson, whose output is always one object per line.
    MessageFormatter(OutputMode mode, std::optional<FormatString> format, bool end_of_line);

    // The bytes to write for one message. -v prints "(null)" for an empty payload, as
    // mosquitto_sub does, so that every line still has two fields.
    std::string format(const mqtt::message& message,
                       std::chrono::system_clock::time_point received) const;

  private:
    OutputMode _mode;
    std::optional<FormatString> _format;
    bool _end_of_line;
};

}  // namespace tern::tools
