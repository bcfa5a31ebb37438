// Test helper: the error message of loading a configuration text, shared by the config tests.
#pragma once

#include <string>
#include <string_view>

#include "app/config_loader.hpp"

namespace tern::app::test {

// The what() of the ConfigError that loading `text` as "t.toml" throws, or "(no error)".
inline std::string error_of(std::string_view text) {
    try {
        (void)load_config_string(text, "t.toml");
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace tern::app::test
