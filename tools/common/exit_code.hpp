// Process exit codes shared by tern-pub and tern-sub, documented in --help and the man pages.
#pragma once

namespace tern::tools {

// Success: everything was published, or -C messages were received.
inline constexpr int kExitOk = 0;
// Connection, protocol, TLS or I/O failure (also a broker rejecting a request).
inline constexpr int kExitFailure = 1;
// Bad command line: the message is followed by the usage synopsis.
inline constexpr int kExitUsage = 2;
// tern-sub -W expired before -C messages arrived; 27 matches mosquitto_sub (MOSQ_ERR_TIMEOUT).
inline constexpr int kExitTimeout = 27;

}  // namespace tern::tools
