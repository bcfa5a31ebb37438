// GET /mqtt: MQTT over WebSocket. The opening handshake is checked here, then the socket leaves
// the HTTP server for a broker net::Connection that speaks MQTT through a WebSocketTransport.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "bridge.hpp"
#include "handlers.hpp"
#include "net/broker.hpp"
#include "net/connection.hpp"
#include "net/websocket_transport.hpp"
#include "net/worker_loop.hpp"
#include "websocket_upgrade.hpp"

namespace tern::bridge {

namespace {

namespace ws = tern::websocket;

// Room for a few packets more than the largest one in a single WebSocket message: a client may
// pack several packets into one frame [MQTT-6.0.0-3].
constexpr uint64_t kMessageSlack = 64 * 1024;

ws::HandshakePolicy mqtt_policy() {
    ws::HandshakePolicy policy;
    // "The Client MUST include "mqtt" in the list of WebSocket Sub Protocols it offers"; the
    // server selects it [MQTT-6.0.0-3], [MQTT-6.0.0-4]. MQTT 3.1 clients offer "mqttv3.1".
    policy.subprotocols = {"mqtt", "mqttv3.1"};
    policy.subprotocol_policy = ws::SubprotocolPolicy::Required;
    // Bridge::dispatch already checked Origin against bridge.allowed_origins (same-origin pages
    // included) and answered 403 otherwise.
    policy.allowed_origins = {"*"};
    return policy;
}

}  // namespace

void handlers::mqtt(HttpConnection& connection, const HttpRequest& request, const Identity& who) {
    (void)who;  // MQTT clients authenticate in CONNECT, as on the TCP listeners
    if (!request.upgrade) {
        HttpResponse response = json_error(
            426, "upgrade_required", "/mqtt is MQTT over WebSocket: send a WebSocket upgrade");
        response.headers.emplace_back("Upgrade", "websocket");
        return connection.respond(std::move(response));
    }
    ws::HandshakeResult handshake = check_upgrade(request, mqtt_policy());
    if (!handshake.accepted()) {
        spdlog::info("bridge: client {}: /mqtt handshake refused ({}): {}", connection.peer(),
                     handshake.status, handshake.reason);
        return connection.respond(upgrade_refusal(handshake));
    }

    Bridge& bridge = connection.bridge();
    net::WorkerLoop& loop = connection.loop();
    const std::string peer = connection.peer();
    HttpConnection::ReleasedSocket socket = connection.release_socket();
    if (socket.fd < 0) {
        // Earlier pipelined responses not yet written, or no descriptor left.
        return connection.respond_and_close(
            json_error(503, "unavailable", "cannot switch this connection now; try again"));
    }
    // `connection` is closing now: only `socket` and the copies above are used below.

    net::WebSocketOptions options;
    options.subprotocol = handshake.subprotocol;
    options.max_message_size = bridge.broker().settings().limits.max_packet_size + kMessageSlack;
    options.open_gauge =
        &bridge.stats().clients[static_cast<std::size_t>(ClientKind::MqttWebSocket)];
    std::string wire;
    if (socket.transport) {
        // wss: the 101 response travels in the TLS session the HTTP request came through.
        socket.transport->write(handshake.response, wire);
    } else {
        wire = std::move(handshake.response);
    }
    auto transport =
        std::make_unique<net::WebSocketTransport>(std::move(options), std::move(socket.transport));
    // Frames the client sent right behind its request (RFC 6455 §4.2.2 allows no wait).
    transport->receive_early(socket.early_bytes, wire);
    const std::string described = transport->describe();

    net::Connection* mqtt = net::Connection::adopt(loop, socket.fd, {}, peer, loop.now(),
                                                   std::move(transport), std::move(wire));
    if (mqtt == nullptr) {
        spdlog::warn("bridge: client {}: cannot hand the socket to the broker", peer);
        return;
    }
    spdlog::info("bridge: client {}: MQTT over WebSocket ({})", peer, described);
    // The same per-address limits as the TCP listeners; admit() resets the socket when refused.
    if (mqtt->admit()) {
        mqtt->start();
    }
}

}  // namespace tern::bridge
