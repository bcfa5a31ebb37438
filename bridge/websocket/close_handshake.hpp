// The closing handshake of one WebSocket connection (RFC 6455 §5.5.1, §7): who sent a close
// frame, what to answer, and when to close the TCP connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tern::websocket {

// Not thread-safe: lives on the connection's loop next to its FrameDecoder. Every method that
// may need a frame appends it to `out`, the connection's output buffer; the caller writes it.
class CloseHandshake {
  public:
    enum class State : uint8_t {
        Open,       // data flows both ways
        CloseSent,  // our close frame is out; waiting for the peer's (the caller sets a timeout)
        Closed,     // both close frames exchanged, or the connection failed: flush `out`, then
                    // close the TCP connection (the server closes first, §7.1.1)
    };

    // We start closing (e.g. shutdown, 1001): appends a close frame with `code` and `reason`
    // and moves to CloseSent. Returns false and appends nothing unless the state is Open.
    // Afterwards no data frame may be sent (§5.5.1); incoming data may still be read.
    bool close(std::string& out, uint16_t code, std::string_view reason = {});

    // The peer's close frame arrived (FrameHandler::on_close). When Open, appends the answering
    // close frame echoing the peer's code (§5.5.1; no body when it sent none). Moves to Closed.
    // Does nothing once Closed.
    void on_peer_close(std::string& out, uint16_t code);

    // The connection must fail (§7.1.7), e.g. FrameHandler::on_error: appends a close frame with
    // `code` and `reason` unless one was already sent, and moves to Closed without waiting for
    // the peer's answer. Does nothing once Closed.
    void fail(std::string& out, uint16_t code, std::string_view reason);

    State state() const noexcept { return _state; }
    bool can_send_data() const noexcept { return _state == State::Open; }
    bool should_close_tcp() const noexcept { return _state == State::Closed; }
    // The code of the close frame we sent and the one we received; 0 when none (a received
    // close without a body reads close_code::kNoStatus).
    uint16_t sent_code() const noexcept { return _sent_code; }
    uint16_t received_code() const noexcept { return _received_code; }

  private:
    State _state = State::Open;
    uint16_t _sent_code = 0;
    uint16_t _received_code = 0;
};

}  // namespace tern::websocket
