// A WebSocket (RFC 6455) over an HttpConnection after the 101 answer: frames in and out, ping and
// pong, the closing handshake and the byte cap; text messages go to a listener (the /ws protocol).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream_handler.hpp"
#include "websocket/close_handshake.hpp"
#include "websocket/frame_decoder.hpp"

namespace tern::bridge {

class HttpConnection;

// Owned by its HttpConnection; every call runs on the connection's loop.
class WebSocketStream final : public StreamHandler, private websocket::FrameHandler {
  public:
    // What the application protocol on top implements. Owned by the stream.
    class Listener {
      public:
        virtual ~Listener() = default;
        // A complete text message (valid UTF-8). May call send_text.
        virtual void on_text(std::string_view text) = 0;
        virtual void on_tick(core::MonoMillis now) = 0;
        // The connection ends (either side): unregister from everything. Called once.
        virtual void on_closed() = 0;
    };

    // Close code for a client cut off at bridge.max_client_buffer (RFC 6455 §7.4.1: 1008).
    static constexpr uint16_t kSlowConsumerCode = 1008;

    WebSocketStream(HttpConnection& connection, websocket::DecoderOptions options);
    ~WebSocketStream() override;

    void set_listener(std::unique_ptr<Listener> listener) { _listener = std::move(listener); }

    // Sends a text message. False when it cannot be sent (closing) or when it pushed the
    // output past bridge.max_client_buffer: then the client is cut off (close 1008) and the
    // listener's on_closed has run.
    bool send_text(std::string_view text);
    // Past bridge.max_client_buffer (output plus `held` bytes the listener keeps for later,
    // e.g. conflation): cuts the client off (close 1008) and returns false.
    bool check_cap(std::size_t held = 0);
    bool open() const noexcept { return !_closed && _close.can_send_data(); }
    HttpConnection& connection() noexcept { return _connection; }

    ClientKind kind() const noexcept override { return ClientKind::WebSocket; }
    void on_data(std::string_view bytes) override;
    void on_tick(core::MonoMillis now) override;
    void on_close() override;

  private:
    void on_message(websocket::Opcode opcode, std::span<const uint8_t> payload) override;
    void on_ping(std::span<const uint8_t> payload) override;
    void on_pong(std::span<const uint8_t> payload) override;
    void on_close(uint16_t code, std::string_view reason) override;
    void on_error(uint16_t code, std::string_view reason) override;

    // Writes what the close handshake appended and closes the TCP connection once it is done.
    void write_frames();

    HttpConnection& _connection;
    websocket::FrameDecoder _decoder;
    websocket::CloseHandshake _close;
    std::unique_ptr<Listener> _listener;
    std::vector<uint8_t> _input;  // a mutable copy of the bytes read (unmasked in place)
    std::string _frames;          // frames being built before they go to the connection
    core::MonoMillis _last_write = 0;
    bool _closed = false;
};

}  // namespace tern::bridge
