// Tests for the MQTT-over-WebSocket transport: frames split at every byte, packets across and
// within frames, control frames between fragments, masking, text and oversize frames, the close
// handshake in both directions, and WebSocket inside TLS (wss).
#include "net/websocket_transport.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "net/tls_context.hpp"
#include "net/tls_transport.hpp"
#include "tls_test_support.hpp"
#include "websocket/frame_encoder.hpp"

using tern::net::Transport;
using tern::net::WebSocketOptions;
using tern::net::WebSocketTransport;
using Status = Transport::Status;
namespace ws = tern::websocket;

namespace {

const ws::MaskKey kKey{0x37, 0xfa, 0x21, 0x3d};

// A CONNECT (MQTT 3.1.1, client id "ws"), a QoS 1 PUBLISH and a PINGREQ: three packets.
const std::string kConnect("\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02ws", 16);
const std::string kPublish("\x32\x0b\x00\x03\x61\x2f\x62\x00\x01hello", 13);
const std::string kPingreq("\xc0\x00", 2);

const std::string kConnack("\x20\x02\x00\x00", 4);
const std::string kPingresp("\xd0\x00", 2);

// A QoS 0 PUBLISH to "t" with `payload` bytes, its Remaining Length in as many bytes as it needs.
std::string publish_packet(std::size_t payload) {
    std::string packet("\x30", 1);
    std::size_t length = 3 + payload;
    do {
        auto byte = static_cast<char>(length % 128);
        length /= 128;
        packet.push_back(length > 0 ? static_cast<char>(byte | 0x80) : byte);
    } while (length > 0);
    packet.append("\x00\x01t", 3);
    packet.append(payload, 'p');
    return packet;
}

std::span<const uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// A frame as a client sends it: masked (RFC 6455 §5.3).
std::string client_frame(ws::Opcode opcode, std::string_view payload, bool fin = true) {
    std::string out;
    ws::append_masked_frame(out, opcode, bytes_of(payload), kKey, fin);
    return out;
}

std::string binary(std::string_view payload, bool fin = true) {
    return client_frame(ws::Opcode::Binary, payload, fin);
}

// Feeds `wire` in pieces of `chunk` bytes, reading after each piece as the connection does
// (into a small buffer, so a read never takes everything at once). Returns the MQTT bytes;
// `wire_out` collects what the transport sent and `status` how the last call ended.
std::string feed(WebSocketTransport& transport, std::string_view wire, std::size_t chunk,
                 std::string& wire_out, Status& status) {
    std::string received;
    status = Status::Ok;
    for (std::size_t at = 0; at < wire.size() && status == Status::Ok; at += chunk) {
        const std::size_t size = std::min(chunk, wire.size() - at);
        status = transport.receive({wire.data() + at, size}, wire_out);
        char buffer[7];
        std::size_t got = 0;
        do {
            status = transport.read({buffer, sizeof buffer}, got, wire_out);
            received.append(buffer, got);
        } while (got > 0);
    }
    return received;
}

// The close frame the server sent: its status code, or 0 when `wire` holds none.
uint16_t close_code_in(std::string_view wire) {
    for (std::size_t at = 0; at + 1 < wire.size();) {
        const auto opcode = static_cast<uint8_t>(wire[at]) & 0x0f;
        std::size_t length = static_cast<uint8_t>(wire[at + 1]) & 0x7f;
        std::size_t header = 2;
        if (length == 126) {
            length = (static_cast<uint8_t>(wire[at + 2]) << 8) | static_cast<uint8_t>(wire[at + 3]);
            header = 4;
        }
        if (opcode == 0x8) {
            return length < 2 ? ws::close_code::kNoStatus
                              : static_cast<uint16_t>((static_cast<uint8_t>(wire[at + 2]) << 8) |
                                                      static_cast<uint8_t>(wire[at + 3]));
        }
        at += header + length;
    }
    return 0;
}

}  // namespace

TEST_CASE("MQTT packets in binary frames come out whole when the wire is split at every byte") {
    // One frame per packet, then one frame holding two packets, then a packet cut across two
    // frames [MQTT-6.0.0-2], [MQTT-6.0.0-3].
    const std::string wire = binary(kConnect) + binary(kPublish + kPingreq) +
                             binary(kPublish.substr(0, 5)) + binary(kPublish.substr(5));
    const std::string expected = kConnect + kPublish + kPingreq + kPublish;
    for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
        CAPTURE(chunk);
        WebSocketTransport transport(WebSocketOptions{});
        CHECK(transport.ready());
        std::string wire_out;
        Status status = Status::Ok;
        CHECK(feed(transport, wire, chunk, wire_out, status) == expected);
        CHECK(status == Status::Ok);
        CHECK(wire_out.empty());
        CHECK(transport.buffered() == 0);
    }
}

TEST_CASE("a fragmented message with pings between its fragments is answered and joined") {
    const std::string wire =
        binary(kConnect.substr(0, 3), false) + client_frame(ws::Opcode::Ping, "p1") +
        client_frame(ws::Opcode::Continuation, kConnect.substr(3, 6), false) +
        client_frame(ws::Opcode::Pong, "unsolicited") + client_frame(ws::Opcode::Ping, "") +
        client_frame(ws::Opcode::Continuation, kConnect.substr(9), true);
    std::string pongs;
    ws::append_frame(pongs, ws::Opcode::Pong, std::string_view("p1"));
    ws::append_frame(pongs, ws::Opcode::Pong, std::string_view());
    for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
        CAPTURE(chunk);
        WebSocketTransport transport(WebSocketOptions{});
        std::string wire_out;
        Status status = Status::Ok;
        CHECK(feed(transport, wire, chunk, wire_out, status) == kConnect);
        CHECK(status == Status::Ok);
        // Unmasked pongs with the pings' payloads (RFC 6455 §5.5.2), nothing for the pong.
        CHECK(wire_out == pongs);
    }
}

TEST_CASE("write sends each MQTT packet in its own unmasked binary frame") {
    WebSocketTransport transport(WebSocketOptions{});
    // Packets whose Remaining Length takes 1, 2 and 3 bytes, and frames with 7-bit, 16-bit and
    // 64-bit lengths (RFC 6455 §5.2).
    for (const std::size_t payload : {std::size_t{0}, std::size_t{118}, std::size_t{200},
                                      std::size_t{65530}, std::size_t{70000}}) {
        CAPTURE(payload);
        const std::string big = publish_packet(payload);
        const std::string data = kConnack + big + kPingresp;
        std::string wire;
        REQUIRE(transport.write(data, wire) == Status::Ok);
        std::string expected;
        ws::append_frame(expected, ws::Opcode::Binary, kConnack);
        ws::append_frame(expected, ws::Opcode::Binary, big);
        ws::append_frame(expected, ws::Opcode::Binary, kPingresp);
        CHECK(wire == expected);
    }
    std::string wire;
    CHECK(transport.write("", wire) == Status::Ok);
    CHECK(wire.empty());
}

TEST_CASE("bytes that do not end with a whole packet go out in one frame") {
    WebSocketTransport transport(WebSocketOptions{});
    const std::string cut = kConnack + kPublish.substr(0, 5);
    std::string wire;
    REQUIRE(transport.write(cut, wire) == Status::Ok);
    std::string expected;
    ws::append_frame(expected, ws::Opcode::Binary, kConnack);
    ws::append_frame(expected, ws::Opcode::Binary, kPublish.substr(0, 5));
    CHECK(wire == expected);
}

TEST_CASE("an unmasked client frame fails the connection with 1002") {
    WebSocketTransport transport(WebSocketOptions{});
    std::string unmasked;
    ws::append_frame(unmasked, ws::Opcode::Binary, kConnect);  // as a server would send it
    std::string wire_out;
    CHECK(transport.receive({unmasked.data(), unmasked.size()}, wire_out) == Status::Error);
    CHECK(close_code_in(wire_out) == ws::close_code::kProtocolError);
    CHECK(transport.error().find("not masked") != std::string::npos);
    std::size_t got = 1;
    char buffer[16];
    CHECK(transport.read({buffer, sizeof buffer}, got, wire_out) == Status::Error);
    CHECK(got == 0);
}

TEST_CASE("a text frame closes the connection with 1003 [MQTT-6.0.0-1]") {
    WebSocketTransport transport(WebSocketOptions{});
    const std::string wire = client_frame(ws::Opcode::Text, "{\"hello\":1}");
    std::string wire_out;
    CHECK(transport.receive({wire.data(), wire.size()}, wire_out) == Status::Error);
    CHECK(close_code_in(wire_out) == ws::close_code::kUnsupportedData);
    CHECK(transport.error().find("[MQTT-6.0.0-1]") != std::string::npos);
    // Nothing follows a failure: no frame for later writes or a shutdown.
    std::string after;
    CHECK(transport.write(kPingreq, after) == Status::Error);
    transport.shutdown(after);
    CHECK(after.empty());
}

TEST_CASE("the packets before a text frame are still read before the failure is reported") {
    WebSocketTransport transport(WebSocketOptions{});
    const std::string wire = binary(kConnect) + client_frame(ws::Opcode::Text, "x");
    std::string wire_out;
    Status status = Status::Ok;
    CHECK(feed(transport, wire, wire.size(), wire_out, status) == kConnect);
    CHECK(status == Status::Error);
    CHECK(close_code_in(wire_out) == ws::close_code::kUnsupportedData);
}

TEST_CASE("an oversize frame fails with 1009 as soon as its header arrives") {
    WebSocketOptions options;
    options.max_message_size = 1000;
    WebSocketTransport transport(options);
    const std::string wire = binary(std::string(1001, 'a'));
    std::string wire_out;
    // Header (4 bytes) and mask (4 bytes) only: the payload is never waited for or buffered.
    CHECK(transport.receive({wire.data(), 8}, wire_out) == Status::Error);
    CHECK(close_code_in(wire_out) == ws::close_code::kMessageTooBig);

    WebSocketTransport fits(options);
    const std::string ok = binary(std::string(1000, 'a'));
    std::string out;
    Status status = Status::Ok;
    CHECK(feed(fits, ok, 333, out, status) == std::string(1000, 'a'));
    CHECK(status == Status::Ok);
}

TEST_CASE("a fragmented message over the limit fails with 1009") {
    WebSocketOptions options;
    options.max_message_size = 10;
    WebSocketTransport transport(options);
    const std::string wire =
        binary("123456", false) + client_frame(ws::Opcode::Continuation, "789012", true);
    std::string wire_out;
    Status status = Status::Ok;
    CHECK(feed(transport, wire, wire.size(), wire_out, status).empty());
    CHECK(status == Status::Error);
    CHECK(close_code_in(wire_out) == ws::close_code::kMessageTooBig);
}

TEST_CASE("the client's close frame is echoed after the MQTT bytes before it are read") {
    // A DISCONNECT then the close frame in one read: the DISCONNECT must reach the codec (no
    // will is published), only then does the stream end.
    const std::string disconnect("\xe0\x00", 2);
    std::string close_frame;
    const std::string body(
        "\x03\xe8"
        "bye",
        5);  // 1000, "bye"
    ws::append_masked_frame(close_frame, ws::Opcode::Close, bytes_of(body), kKey);
    const std::string wire = binary(disconnect) + close_frame;
    for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
        CAPTURE(chunk);
        WebSocketTransport transport(WebSocketOptions{});
        std::string wire_out;
        Status status = Status::Ok;
        CHECK(feed(transport, wire, chunk, wire_out, status) == disconnect);
        CHECK(status == Status::Closed);
        CHECK(close_code_in(wire_out) == ws::close_code::kNormal);
        CHECK(transport.close_handshake().should_close_tcp());
        // Nothing is sent after the close frames crossed (RFC 6455 §5.5.1).
        std::string after;
        CHECK(transport.write(kPingreq, after) == Status::Ok);
        transport.shutdown(after);
        CHECK(after.empty());
    }
}

TEST_CASE("a close frame and MQTT bytes in one receive report Ok until the bytes are read") {
    WebSocketTransport transport(WebSocketOptions{});
    std::string close_frame;
    ws::append_masked_frame(close_frame, ws::Opcode::Close, {}, kKey);
    const std::string wire = binary(kPublish) + close_frame;
    std::string wire_out;
    REQUIRE(transport.receive({wire.data(), wire.size()}, wire_out) == Status::Ok);
    CHECK(close_code_in(wire_out) == ws::close_code::kNoStatus);  // echoed without a body
    char buffer[64];
    std::size_t got = 0;
    CHECK(transport.read({buffer, sizeof buffer}, got, wire_out) == Status::Ok);
    CHECK(std::string(buffer, got) == kPublish);
    CHECK(transport.read({buffer, sizeof buffer}, got, wire_out) == Status::Closed);
    CHECK(got == 0);
    // Later input is ignored.
    CHECK(transport.receive({wire.data(), wire.size()}, wire_out) == Status::Closed);
}

TEST_CASE("shutdown sends one close frame with 1000 and later writes send nothing") {
    WebSocketTransport transport(WebSocketOptions{});
    std::string wire;
    transport.shutdown(wire);
    CHECK(close_code_in(wire) == ws::close_code::kNormal);
    const std::size_t size = wire.size();
    transport.shutdown(wire);
    CHECK(wire.size() == size);
    CHECK(transport.write(kPingreq, wire) == Status::Ok);
    CHECK(wire.size() == size);
    // The client's answering close completes the handshake.
    std::string answer;
    ws::append_masked_frame(answer, ws::Opcode::Close, bytes_of(std::string("\x03\xe8", 2)), kKey);
    std::string wire_out;
    CHECK(transport.receive({answer.data(), answer.size()}, wire_out) == Status::Closed);
    CHECK(wire_out.empty());
    CHECK(transport.close_handshake().should_close_tcp());
}

TEST_CASE("frames read behind the upgrade request are decoded before the first receive") {
    WebSocketTransport transport(WebSocketOptions{});
    const std::string early =
        binary(kConnect) + client_frame(ws::Opcode::Ping, "x") + binary(kPublish).substr(0, 4);
    std::string wire_out;
    CHECK(transport.receive_early(early, wire_out) == Status::Ok);
    std::string pong;
    ws::append_frame(pong, ws::Opcode::Pong, std::string_view("x"));
    CHECK(wire_out == pong);
    const std::string rest = binary(kPublish).substr(4);
    Status status = Status::Ok;
    std::string received;
    char buffer[64];
    std::size_t got = 0;
    CHECK(transport.read({buffer, sizeof buffer}, got, wire_out) == Status::Ok);
    received.append(buffer, got);
    received += feed(transport, rest, rest.size(), wire_out, status);
    CHECK(received == kConnect + kPublish);
}

TEST_CASE("a reader that stops half way keeps the rest in front of newer bytes") {
    WebSocketTransport transport(WebSocketOptions{});
    std::string wire_out;
    const std::string first = binary(kConnect);
    REQUIRE(transport.receive({first.data(), first.size()}, wire_out) == Status::Ok);
    char buffer[5];
    std::size_t got = 0;
    REQUIRE(transport.read({buffer, sizeof buffer}, got, wire_out) == Status::Ok);
    CHECK(got == 5);
    const std::string second = binary(kPublish);
    REQUIRE(transport.receive({second.data(), second.size()}, wire_out) == Status::Ok);
    CHECK(transport.buffered() == kConnect.size() - 5 + kPublish.size());
    std::string received(buffer, got);
    Status status = Status::Ok;
    do {
        status = transport.read({buffer, sizeof buffer}, got, wire_out);
        received.append(buffer, got);
    } while (got > 0);
    CHECK(status == Status::Ok);
    CHECK(received == kConnect + kPublish);
}

TEST_CASE("the open gauge counts transports while they exist") {
    std::atomic<int64_t> gauge{0};
    WebSocketOptions options;
    options.open_gauge = &gauge;
    options.subprotocol = "mqtt";
    {
        WebSocketTransport first(options);
        WebSocketTransport second(options);
        CHECK(gauge.load() == 2);
        CHECK(first.name() == "ws");
        CHECK(first.describe() == "ws subprotocol mqtt");
    }
    CHECK(gauge.load() == 0);
}

TEST_CASE("inside TLS (wss) frames travel in records both ways") {
    tern::test::Pki pki;
    tern::core::ListenerSettings settings;
    settings.type = "mqtt+tls";
    settings.port = 8883;
    settings.cert_file = pki.server_cert;
    settings.key_file = pki.server_key;
    auto context = tern::net::TlsContext::load(settings);
    WebSocketOptions options;
    options.subprotocol = "mqtt";
    WebSocketTransport transport(options, std::make_unique<tern::net::TlsTransport>(*context));
    CHECK_FALSE(transport.ready());
    tern::test::TlsClient client;
    std::string received;
    CHECK(tern::test::pump(client, transport, &received) == Status::Ok);
    REQUIRE(transport.ready());
    CHECK(transport.name() == "wss");
    CHECK(transport.describe().rfind("wss subprotocol mqtt, TLSv1.3 ", 0) == 0);

    client.write(binary(kConnect) + client_frame(ws::Opcode::Ping, "tls") + binary(kPublish));
    CHECK(tern::test::pump(client, transport, &received, 3) == Status::Ok);
    CHECK(received == kConnect + kPublish);
    std::string pong;
    ws::append_frame(pong, ws::Opcode::Pong, std::string_view("tls"));
    CHECK(client.read_all() == pong);

    std::string wire;
    REQUIRE(transport.write(kPingreq, wire) == Status::Ok);
    client.give_input(wire);
    std::string frame;
    ws::append_frame(frame, ws::Opcode::Binary, kPingreq);
    CHECK(client.read_all() == frame);

    wire.clear();
    transport.shutdown(wire);  // a close frame, then close_notify
    client.give_input(wire);
    const std::string last = client.read_all();
    CHECK(close_code_in(last) == ws::close_code::kNormal);
}
