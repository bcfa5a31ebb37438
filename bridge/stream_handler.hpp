// What an HTTP connection becomes after a request switches it to a long-lived stream (SSE, and
// later WebSocket after an Upgrade): it gets the client's bytes, the loop's ticks and the close.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/message.hpp"

namespace tern::bridge {

// Kinds of bridge clients, counted in /metrics (tern_bridge_clients{kind=...}).
enum class ClientKind : uint8_t { Http = 0, Sse = 1, WebSocket = 2, MqttWebSocket = 3 };
inline constexpr std::size_t kClientKinds = 4;
constexpr std::string_view client_kind_name(ClientKind kind) {
    switch (kind) {
        case ClientKind::Http:
            return "http";
        case ClientKind::Sse:
            return "sse";
        case ClientKind::WebSocket:
            return "ws";
        case ClientKind::MqttWebSocket:
            return "mqtt";
    }
    return "http";
}

// Owned by its HttpConnection (HttpConnection::start_stream); every call runs on the
// connection's loop. It writes through the connection (write, pending_output, close).
class StreamHandler {
  public:
    virtual ~StreamHandler() = default;
    virtual ClientKind kind() const noexcept = 0;
    // Bytes from the client after the request that started the stream (including any that
    // arrived with it).
    virtual void on_data(std::string_view bytes) { (void)bytes; }
    // The loop's periodic tick (every few tens of milliseconds).
    virtual void on_tick(core::MonoMillis now) { (void)now; }
    // The connection is closing (either side, or shutdown): unregister from everything. Called
    // once; no write reaches the client after it.
    virtual void on_close() {}
};

}  // namespace tern::bridge
