// Where tern-pub's payloads come from: one payload (-m, -f, -s, -n) repeated, or stdin lines (-l).
#pragma once

#include <istream>
#include <optional>
#include <string>

namespace tern::tools {

class MessageSource {
  public:
    // The same payload count times (--repeat).
    static MessageSource repeated(std::string payload, long count);

    // One message per line of in, without the '\n' (a '\r' before it is kept, as in
    // mosquitto_pub); an empty line is a zero-length message; a last line without '\n' counts.
    // in must outlive the source.
    static MessageSource lines(std::istream& in);

    // The next payload, or nullopt when there are no more. May block reading stdin.
    std::optional<std::string> next();

  private:
    MessageSource() = default;

    std::istream* _in = nullptr;
    std::string _payload;
    long _remaining = 0;
};

// The whole content of a file, for -f. Throws ToolError (exit 1) naming the file and errno.
std::string read_file(const std::string& path);

// Everything left on in, for -s.
std::string read_all(std::istream& in);

}  // namespace tern::tools
