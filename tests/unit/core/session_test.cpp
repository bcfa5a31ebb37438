// Session QoS state machines without sockets: window, queue, packet ids, acknowledgements.
#include <doctest/doctest.h>

// GCC 12 warns -Wrestrict on std::string assignment inlined from libstdc++ (a known false
// positive, GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include "core/session.hpp"

using namespace tern::core;

namespace {

OutgoingMessage make(uint8_t qos, std::string payload = "p", MonoMillis expires_at = 0) {
    auto message = std::make_shared<Message>();
    message->topic = "t";
    message->payload = std::move(payload);
    message->qos = qos;
    message->expires_at = expires_at;
    return OutgoingMessage{message, qos, false, {}};
}

}  // namespace

TEST_CASE("packet ids are non-zero, increase and skip ids still in flight") {
    Session session("c", 1, 0);
    session.limits.max_inflight = 65535;
    const uint16_t first = session.track_inflight(make(1));
    const uint16_t second = session.track_inflight(make(1));
    CHECK(first == 1);
    CHECK(second == 2);
    // Run the counter all the way round: ids 1 and 2 are still in flight and must be skipped.
    for (int i = 3; i <= 65535; ++i) {
        const uint16_t id = session.track_inflight(make(1));
        CHECK(session.on_puback(id) == AckOutcome::Completed);
    }
    const uint16_t wrapped = session.track_inflight(make(1));
    CHECK(wrapped == 3);
}

TEST_CASE("the window is the smaller of the client's receive maximum and our in-flight cap") {
    Session session("c", 1, 0);
    session.client_receive_maximum = 2;
    session.limits.max_inflight = 10;
    CHECK(session.can_send_directly());
    session.track_inflight(make(1));
    CHECK(session.can_send_directly());
    session.track_inflight(make(1));
    CHECK_FALSE(session.can_send_directly());
    session.client_receive_maximum = 100;
    session.limits.max_inflight = 2;
    CHECK_FALSE(session.can_send_directly());
}

TEST_CASE("queued messages leave in order as acknowledgements free the window") {
    Session session("c", 1, 0);
    session.client_receive_maximum = 1;
    const uint16_t first = session.track_inflight(make(1, "a"));
    REQUIRE(session.enqueue(make(1, "b")));
    REQUIRE(session.enqueue(make(0, "c")));
    uint16_t id = 0;
    CHECK_FALSE(session.next_sendable(0, id).has_value());  // window full
    CHECK(session.on_puback(first) == AckOutcome::Completed);
    auto next = session.next_sendable(0, id);
    REQUIRE(next.has_value());
    CHECK(next->message->payload == "b");
    CHECK(id != 0);
    // The QoS 0 message behind it does not need a window slot.
    uint16_t qos0_id = 99;
    auto qos0 = session.next_sendable(0, qos0_id);
    REQUIRE(qos0.has_value());
    CHECK(qos0->message->payload == "c");
    CHECK(qos0_id == 0);
    CHECK(session.queued_count() == 0);
}

TEST_CASE("a full queue refuses new messages and counts the drop") {
    Session session("c", 1, 0);
    session.limits.max_queued_messages = 2;
    CHECK(session.enqueue(make(1)));
    CHECK(session.enqueue(make(1)));
    CHECK_FALSE(session.enqueue(make(1)));
    CHECK(session.dropped_messages() == 1);
    session.limits.max_queued_messages = 0;
    session.limits.max_queued_bytes = 4;
    CHECK_FALSE(session.enqueue(make(1, "12345")));
}

TEST_CASE("expired queued messages are skipped, not sent") {
    Session session("c", 1, 0);
    REQUIRE(session.enqueue(make(1, "old", 100)));
    REQUIRE(session.enqueue(make(1, "fresh", 0)));
    uint16_t id = 0;
    auto next = session.next_sendable(150, id);
    REQUIRE(next.has_value());
    CHECK(next->message->payload == "fresh");
    CHECK(session.inflight_count() == 1);
}

TEST_CASE("QoS 2 outgoing: PUBREC asks for PUBREL, PUBCOMP completes, wrong order is ignored") {
    Session session("c", 1, 0);
    const uint16_t id = session.track_inflight(make(2));
    CHECK(session.on_puback(id) == AckOutcome::Ignored);
    CHECK(session.on_pubcomp(id) == AckOutcome::Ignored);
    CHECK(session.on_pubrec(id, false) == AckOutcome::SendPubrel);
    // A repeated PUBREC is answered with PUBREL again.
    CHECK(session.on_pubrec(id, false) == AckOutcome::SendPubrel);
    CHECK(session.inflight_count() == 1);
    CHECK(session.on_pubcomp(id) == AckOutcome::Completed);
    CHECK(session.inflight_count() == 0);
    CHECK(session.on_pubcomp(id) == AckOutcome::Ignored);
}

TEST_CASE("a PUBREC with a failure reason ends the QoS 2 exchange") {
    Session session("c", 1, 0);
    const uint16_t id = session.track_inflight(make(2));
    CHECK(session.on_pubrec(id, true) == AckOutcome::Completed);
    CHECK(session.inflight_count() == 0);
}

TEST_CASE("in-flight messages are kept in first-send order for redelivery") {
    Session session("c", 1, 0);
    const uint16_t a = session.track_inflight(make(1, "a"));
    const uint16_t b = session.track_inflight(make(2, "b"));
    const uint16_t c = session.track_inflight(make(1, "c"));
    CHECK(session.on_pubrec(b, false) == AckOutcome::SendPubrel);
    CHECK(session.on_puback(a) == AckOutcome::Completed);
    std::vector<std::pair<uint16_t, InflightMessage::State>> order;
    for (const auto& [seq, entry] : session.inflight_in_order()) {
        order.emplace_back(entry.first, entry.second.state);
    }
    REQUIRE(order.size() == 2);
    CHECK(order[0] == std::make_pair(b, InflightMessage::State::AwaitingPubcomp));
    CHECK(order[1] == std::make_pair(c, InflightMessage::State::AwaitingPuback));
}

TEST_CASE("incoming QoS 2 ids are delivered once and released by PUBREL") {
    Session session("c", 1, 0);
    CHECK(session.on_incoming_qos2(7));
    CHECK_FALSE(session.on_incoming_qos2(7));  // retransmission: not delivered again
    CHECK(session.incoming_qos2_pending() == 1);
    CHECK(session.on_pubrel(7));
    CHECK_FALSE(session.on_pubrel(7));
    CHECK(session.on_incoming_qos2(7));  // the id may be reused after PUBCOMP
}

TEST_CASE("clearing a session forgets queue, window, subscriptions and will") {
    Session session("c", 1, 0);
    session.track_inflight(make(1));
    session.enqueue(make(1));
    session.on_incoming_qos2(3);
    session.subscriptions["a/#"] = SubscriptionOptions{};
    session.will = std::make_unique<PendingWill>();
    session.clear_state();
    CHECK(session.inflight_count() == 0);
    CHECK(session.queued_count() == 0);
    CHECK(session.incoming_qos2_pending() == 0);
    CHECK(session.subscriptions.empty());
    CHECK_FALSE(session.will);
}
