// Turns a failed Paho connect into one line a person can act on ("connection refused",
// "unknown host", "Not authorized (0x87)", "TLS handshake failed: ...").
#pragma once

#include <string>

#include "broker_url.hpp"
#include "tls_probe.hpp"

namespace tern::tools {

// What Paho reported for a failed connect.
struct ConnectFailure {
    int return_code = 0;       // > 0: the CONNACK code; < 0: a Paho MQTTASYNC_* error
    int mqtt_version = 4;      // protocol level used, to pick the CONNACK code table
    std::string paho_message;  // Paho's own text, used when nothing better is known
    std::string tls_error;     // last OpenSSL error Paho passed to the TLS error handler
};

// "cannot connect to HOST:PORT: REASON". For Paho's generic failure the endpoint is probed:
// host name resolution, then a plain TCP connect, to tell "unknown host", "connection refused"
// and "connection timed out" apart from TLS or protocol problems; for TLS endpoints a
// handshake with the same settings (tls) names the TLS problem. Blocks up to a few seconds.
std::string describe_connect_failure(const ConnectFailure& failure, const Endpoint& endpoint,
                                     const TlsSettings& tls);

}  // namespace tern::tools
