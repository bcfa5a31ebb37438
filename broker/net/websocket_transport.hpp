// MQTT over WebSocket (MQTT 3.1.1 and MQTT 5 chapter 6): RFC 6455 binary frames on the wire,
// a plain MQTT byte stream for the codec.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "transport.hpp"
#include "websocket/close_handshake.hpp"
#include "websocket/frame_decoder.hpp"

namespace tern::net {

struct WebSocketOptions {
    // The subprotocol the opening handshake agreed ("mqtt" or "mqttv3.1"), for logs.
    std::string subprotocol;
    // Largest data message the client may send, fragments together; a longer one is refused
    // with close code 1009 as soon as its header announces it, before anything is buffered.
    uint64_t max_message_size = 16 * 1024 * 1024;
    // Incremented while the transport exists (a /metrics gauge). Must outlive the transport;
    // may be null. Touched with relaxed atomic operations from whichever loop owns the
    // transport at the time (it migrates with its connection).
    std::atomic<int64_t>* open_gauge = nullptr;
};

// The server side of one MQTT-over-WebSocket connection whose opening handshake (HTTP Upgrade)
// the bridge already completed: ready() from the start. receive() decodes the client's frames,
// read() hands out the MQTT bytes they carried, write() wraps MQTT bytes in one binary frame;
// pongs and close frames go to `wire_out`. MQTT packets are independent of frame boundaries: a
// frame may hold several packets or part of one [MQTT-6.0.0-2], [MQTT-6.0.0-3]; the bytes go to
// the codec as one stream. See Transport for the calling contract.
//
// With an `inner` transport (TLS, for wss://) the frames travel inside it: wire bytes go through
// inner->receive/read before decoding, and frames through inner->write before the socket.
class WebSocketTransport final : public Transport, private websocket::FrameHandler {
  public:
    explicit WebSocketTransport(WebSocketOptions options, std::unique_ptr<Transport> inner = {});
    ~WebSocketTransport() override;
    WebSocketTransport(const WebSocketTransport&) = delete;
    WebSocketTransport& operator=(const WebSocketTransport&) = delete;

    Status receive(std::span<const char> wire, std::string& wire_out) override;
    // Frames that reached the server before this transport existed, read behind the Upgrade
    // request by the HTTP layer (already decrypted when there is an inner transport): decoded as
    // receive() decodes, then whatever the inner transport still holds. Call once, first.
    Status receive_early(std::string_view frames, std::string& wire_out);
    Status read(std::span<char> buffer, std::size_t& got, std::string& wire_out) override;
    // One binary frame per MQTT packet in `data` (the connection passes whole packets, a loop
    // iteration's worth per call).
    // After a close frame went either way nothing more is sent (RFC 6455 §5.5.1): the data is
    // dropped and Ok returned, since the stream's end is reported by read().
    Status write(std::string_view data, std::string& wire_out) override;
    // Sends a close frame (1000), unless one was exchanged already or the stream failed.
    void shutdown(std::string& wire_out) override;

    bool ready() const noexcept override { return !_inner || _inner->ready(); }
    const std::string& error() const noexcept override { return _error; }
    std::string_view name() const noexcept override { return _inner ? "wss" : "ws"; }
    // "ws subprotocol mqtt" (and the inner transport's description for wss).
    std::string describe() const override;
    TransportIdentity identity() const override;

    // MQTT bytes decoded and not yet read.
    std::size_t buffered() const noexcept { return _app.size() - _app_read; }
    const websocket::CloseHandshake& close_handshake() const noexcept { return _close; }

  private:
    // websocket::FrameHandler: called from _decoder.feed during decode().
    void on_message(websocket::Opcode opcode, std::span<const uint8_t> payload) override;
    void on_ping(std::span<const uint8_t> payload) override;
    void on_pong(std::span<const uint8_t> payload) override;
    void on_close(uint16_t code, std::string_view reason) override;
    void on_error(uint16_t code, std::string_view reason) override;

    // Decodes the frames in _in (unmasked in place), then sends the control frames it caused.
    void decode(std::string& wire_out);
    // Decodes what the inner transport has decrypted, chunk by chunk.
    void drain_inner(std::string& wire_out);
    // Appends `data` to `out` as binary frames, one per MQTT packet.
    static void append_frames(std::string_view data, std::string& out);
    // Puts frames on the wire: straight into `wire_out`, or through the inner transport.
    void send_frames(std::string_view frames, std::string& wire_out);
    // Ok while MQTT bytes remain to be read; afterwards how the stream ended.
    Status status() const noexcept { return buffered() > 0 ? Status::Ok : _end; }
    void end_with_inner_error(Status status);
    void release_idle_buffers() noexcept;

    WebSocketOptions _options;
    std::unique_ptr<Transport> _inner;
    websocket::FrameDecoder _decoder;
    websocket::CloseHandshake _close;
    std::string _in;   // wire bytes being decoded; reused between calls
    std::string _app;  // decoded MQTT bytes; _app_read of them were read already
    std::size_t _app_read = 0;
    std::string _control;      // pongs and close frames produced while decoding
    std::string _frame;        // a data frame on its way into the inner transport
    Status _end = Status::Ok;  // Closed or Error once the stream ended
    std::string _error;
};

}  // namespace tern::net
