// Errors a tool reports as one line on stderr, each carrying the exit code it maps to.
#pragma once

#include <stdexcept>
#include <string>

#include "exit_code.hpp"

namespace tern::tools {

// A failure that ends the tool: what() is the line printed after "tool-name: ".
class ToolError : public std::runtime_error {
  public:
    ToolError(int exit_code, const std::string& message)
        : std::runtime_error(message), _exit_code(exit_code) {}

    int exit_code() const { return _exit_code; }

  private:
    int _exit_code;
};

// A bad command line; reported with the usage synopsis and exit code 2.
class UsageError : public ToolError {
  public:
    explicit UsageError(const std::string& message) : ToolError(kExitUsage, message) {}
};

}  // namespace tern::tools
