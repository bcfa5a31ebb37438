// A diagnostic TLS handshake with OpenSSL, run after Paho's TLS connect failed, to say why
// (untrusted certificate, host name mismatch, not a TLS port, ...).
#pragma once

#include <optional>
#include <string>

#include "broker_url.hpp"

namespace tern::tools {

// The TLS flags as given: the trust anchors, the client certificate, and whether to check that
// the server certificate names the host.
struct TlsSettings {
    std::optional<std::string> cafile;
    std::optional<std::string> capath;
    std::optional<std::string> cert;
    std::optional<std::string> key;
    bool check_host = true;
};

// Connects to the endpoint (timeout a few seconds) and performs a TLS handshake with the same
// trust settings and host check Paho used. Returns what failed ("certificate verify failed:
// hostname mismatch", "wrong version number", "cannot load --cafile ..."), or an empty string
// if the handshake succeeds. Sends no MQTT data.
std::string probe_tls(const Endpoint& endpoint, const TlsSettings& settings);

}  // namespace tern::tools
