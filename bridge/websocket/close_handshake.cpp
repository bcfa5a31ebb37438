// The closing handshake's three states and the close frames each transition sends.
#include "websocket/close_handshake.hpp"

#include "websocket/frame_encoder.hpp"

namespace tern::websocket {

bool CloseHandshake::close(std::string& out, uint16_t code, std::string_view reason) {
    if (_state != State::Open) {
        return false;
    }
    append_close(out, code, reason);
    _sent_code = code;
    _state = State::CloseSent;
    return true;
}

void CloseHandshake::on_peer_close(std::string& out, uint16_t code) {
    if (_state == State::Closed) {
        return;
    }
    _received_code = code;
    if (_state == State::Open) {
        // "It SHOULD do so as soon as practical ... typically echos the status code it
        // received" (§5.5.1). A peer close without a body gets one without a body.
        append_close(out, code);
        _sent_code = code;
    }
    _state = State::Closed;
}

void CloseHandshake::fail(std::string& out, uint16_t code, std::string_view reason) {
    if (_state == State::Closed) {
        return;
    }
    if (_state == State::Open) {
        append_close(out, code, reason);
        _sent_code = code;
    }
    _state = State::Closed;
}

}  // namespace tern::websocket
