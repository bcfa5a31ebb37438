// Reading the [bridge] table of the configuration file (HTTP port, limits, origins, JWT, TLS) into
// core::BridgeSettings.
#pragma once

#include <string>
#include <vector>

#include "app/config_reader.hpp"

namespace tern::app::config {

inline constexpr std::string_view kBridgeSection = "bridge";
// HS256 keys shorter than the hash output make tokens easier to forge (RFC 7518 §3.2).
inline constexpr std::size_t kMinJwtSecretBytes = 32;

// Reads every key of the [bridge] table into `bridge`, then checks the keys that depend on each
// other: TLS needs a certificate and key, a JWT secret comes from one place and is at least
// kMinJwtSecretBytes long (jwt_secret_file is read here, so a bad one names its line). Every
// problem goes to `diagnostics`.
void read_bridge_section(const toml::table& table, core::BridgeSettings& bridge,
                         Diagnostics& diagnostics);

// "bridge.KEY" for every key of the [bridge] table.
std::vector<std::string> bridge_config_keys();

}  // namespace tern::app::config
