// CloseHandshake: which close frame each side of the handshake sends, and when TCP closes.
#include "websocket/close_handshake.hpp"

#include "websocket_test_support.hpp"

namespace tern::websocket::test {

using State = CloseHandshake::State;

TEST_CASE("When we close first we send our code and close TCP after the peer's answer") {
    CloseHandshake handshake;
    std::string out;
    CHECK(handshake.can_send_data());
    CHECK(handshake.close(out, close_code::kGoingAway, "restart"));
    CHECK(hex(out) == "88 09 03 E9 72 65 73 74 61 72 74");
    CHECK(handshake.state() == State::CloseSent);
    CHECK_FALSE(handshake.can_send_data());
    CHECK_FALSE(handshake.should_close_tcp());
    // A second close sends nothing.
    CHECK_FALSE(handshake.close(out, close_code::kNormal));
    CHECK(out.size() == 11);
    // The peer's answer completes the handshake without another frame.
    handshake.on_peer_close(out, close_code::kGoingAway);
    CHECK(out.size() == 11);
    CHECK(handshake.state() == State::Closed);
    CHECK(handshake.should_close_tcp());
    CHECK(handshake.sent_code() == close_code::kGoingAway);
    CHECK(handshake.received_code() == close_code::kGoingAway);
}

TEST_CASE("When the peer closes first we echo its code, then close TCP") {
    CloseHandshake handshake;
    std::string out;
    handshake.on_peer_close(out, 4001);
    CHECK(hex(out) == "88 02 0F A1");
    CHECK(handshake.state() == State::Closed);
    CHECK(handshake.should_close_tcp());
    CHECK(handshake.sent_code() == 4001);
    CHECK(handshake.received_code() == 4001);
    // Everything after is ignored.
    CHECK_FALSE(handshake.close(out, 1000));
    handshake.on_peer_close(out, 1000);
    handshake.fail(out, 1002, "late");
    CHECK(hex(out) == "88 02 0F A1");
    CHECK(handshake.received_code() == 4001);
}

TEST_CASE("A peer close without a status code is answered without one") {
    CloseHandshake handshake;
    std::string out;
    handshake.on_peer_close(out, close_code::kNoStatus);
    CHECK(hex(out) == "88 00");
    CHECK(handshake.received_code() == close_code::kNoStatus);
    CHECK(handshake.should_close_tcp());
}

TEST_CASE("Failing the connection sends the error code once and closes TCP at once") {
    CloseHandshake handshake;
    std::string out;
    handshake.fail(out, close_code::kProtocolError, "bad");
    CHECK(hex(out) == "88 05 03 EA 62 61 64");
    CHECK(handshake.should_close_tcp());
    CHECK(handshake.sent_code() == close_code::kProtocolError);
    CHECK(handshake.received_code() == 0);

    // After our own close, a failure sends nothing more.
    CloseHandshake closing;
    std::string second;
    closing.close(second, close_code::kNormal);
    closing.fail(second, close_code::kInvalidPayload, "bad text");
    CHECK(hex(second) == "88 02 03 E8");
    CHECK(closing.should_close_tcp());
    CHECK(closing.sent_code() == close_code::kNormal);
}

TEST_CASE("The decoder's close event drives the handshake") {
    std::string wire = client_frame(Opcode::Close, close_payload(1000, "bye"));
    FrameDecoder decoder;
    Recorder recorder;
    decoder.feed({reinterpret_cast<uint8_t*>(wire.data()), wire.size()}, recorder);
    REQUIRE(recorder.events == std::vector<Event>{closed(1000, "bye")});
    CloseHandshake handshake;
    std::string out;
    handshake.on_peer_close(out, recorder.events[0].code);
    CHECK(hex(out) == "88 02 03 E8");
    CHECK(handshake.should_close_tcp());
}

}  // namespace tern::websocket::test
