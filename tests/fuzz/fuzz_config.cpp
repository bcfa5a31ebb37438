// libFuzzer target for the configuration loader: any text either loads or fails with a
// ConfigError whose message starts with the file name (FILE:LINE...); nothing else escapes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)tern::app::load_config_string(text, "f.toml");
    } catch (const tern::app::ConfigError& error) {
        if (!std::string_view(error.what()).starts_with("f.toml")) {
            std::fprintf(stderr, "fuzz_config: error without the file name: %s\n", error.what());
            std::abort();
        }
    }
    return 0;
}
