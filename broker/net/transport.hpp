// The layer between a connection's socket and its MQTT bytes: TLS, WebSocket, or both (wss).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tern::net {

// Who a transport says the peer is, for listeners that make that identity the MQTT user name
// (TLS `use_identity_as_username`: the client certificate's subject CN).
struct TransportIdentity {
    bool as_username = false;             // the listener takes the identity as the user name
    std::optional<std::string> username;  // null when the peer presented no usable identity
};

// A byte transform between the wire and the MQTT codec, owned by one Connection.
//
// Plain TCP has no Transport object at all (the connection's pointer is null): its bytes go from
// the socket to the codec and back without a copy or a virtual call. A transport turns wire
// bytes into application bytes (receive + read) and application bytes into wire bytes (write);
// everything it must send on its own (handshake records, alerts, WebSocket pongs and close
// frames) is appended to the `wire_out` argument of whichever call produced it, and the
// connection writes `wire_out` to the socket in order.
//
// Threading: used by one thread at a time; it may be handed to another loop together with its
// socket (connection migration after CONNECT) with whatever it has buffered. No call blocks.
class Transport {
  public:
    enum class Status : unsigned char {
        Ok,      // keep going
        Closed,  // the peer ended the stream cleanly (TLS close_notify, WebSocket close)
        Error,   // fatal: error() says why; wire_out may hold an alert worth sending first
    };

    virtual ~Transport() = default;

    // Takes bytes read from the socket (copied: `wire` is not kept) and advances the handshake.
    virtual Status receive(std::span<const char> wire, std::string& wire_out) = 0;
    // Moves up to buffer.size() decoded application bytes into `buffer`; `got` = 0 when nothing
    // more is ready. Call until it returns 0 (or the caller stops wanting bytes: what is left
    // stays buffered for the next call). got > 0 implies Status::Ok.
    virtual Status read(std::span<char> buffer, std::size_t& got, std::string& wire_out) = 0;
    // Appends the wire form of application bytes to `wire_out`. Only once ready().
    virtual Status write(std::string_view data, std::string& wire_out) = 0;
    // Appends a graceful end of stream (TLS close_notify) to `wire_out`; nothing after a fatal
    // error or before the handshake completed. Further writes are refused.
    virtual void shutdown(std::string& wire_out) = 0;

    // Whether the handshake has completed, so application bytes may flow.
    virtual bool ready() const noexcept = 0;
    // Why the last call returned Status::Error (for logs).
    virtual const std::string& error() const noexcept = 0;
    // "tls", "ws": for logs.
    virtual std::string_view name() const noexcept = 0;
    // One line on what the handshake agreed ("TLSv1.3 TLS_AES_256_GCM_SHA384"), for logs.
    virtual std::string describe() const { return std::string(name()); }
    // The peer's identity, when the listener uses it as the user name.
    virtual TransportIdentity identity() const { return {}; }
};

}  // namespace tern::net
