// Session QoS state machines without sockets: window, queue, packet ids, acknowledgements.
#include <doctest/doctest.h>

// GCC 12 warns -Wrestrict on std::string assignment inlined from libstdc++ (a known false
// positive, GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include <string>
#include <vector>

#include "core/session.hpp"

using namespace tern::core;

namespace {

OutgoingMessage make(uint8_t qos, std::string payload = "p", MonoMillis expires_at = 0) {
    auto message = Message::create(payload);
    message->topic = "t";
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
    // Run the counter all the way round, twice: ids 1 and 2 are still in flight and are never
    // given again [MQTT-2.2.1-2]; every id given is non-zero [MQTT-2.2.1-3] and larger than the
    // one before until the counter wraps.
    uint16_t previous = second;
    int wraps = 0;
    for (int i = 0; i < 2 * 65535; ++i) {
        const uint16_t id = session.track_inflight(make(1));
        REQUIRE(id != 0);
        REQUIRE(id != first);
        REQUIRE(id != second);
        if (id < previous) {
            ++wraps;
        }
        previous = id;
        REQUIRE(session.on_puback(id) == AckOutcome::Completed);
    }
    CHECK(wraps >= 1);
    CHECK(session.inflight_count() == 2);
    CHECK(session.on_puback(first) == AckOutcome::Completed);
    CHECK(session.on_puback(second) == AckOutcome::Completed);
}

TEST_CASE("every packet id can be in flight at once, each found again by its id") {
    Session session("c", 1, 0);
    session.limits.max_inflight = 65535;
    std::vector<bool> seen(65536, false);
    for (int i = 0; i < 65535; ++i) {
        const uint16_t id = session.track_inflight(make(1, std::to_string(i)));
        REQUIRE(id != 0);
        REQUIRE_FALSE(seen[id]);
        seen[id] = true;
    }
    CHECK(session.inflight_count() == 65535);
    // Acknowledged out of order: odd ids first, then the rest; each is found exactly once.
    for (uint32_t id = 1; id <= 65535; id += 2) {
        REQUIRE(session.find_inflight(static_cast<uint16_t>(id)) != nullptr);
        REQUIRE(session.on_puback(static_cast<uint16_t>(id)) == AckOutcome::Completed);
        REQUIRE(session.on_puback(static_cast<uint16_t>(id)) == AckOutcome::Ignored);
    }
    for (uint32_t id = 2; id <= 65535; id += 2) {
        REQUIRE(session.on_puback(static_cast<uint16_t>(id)) == AckOutcome::Completed);
    }
    CHECK(session.inflight_count() == 0);
    CHECK(session.find_inflight(1) == nullptr);
}

TEST_CASE("restored in-flight ids are kept, found, and not given again") {
    Session session("c", 1, 0);
    // Ids as a restart finds them: arbitrary and colliding in a small table (all three share
    // slot 0 of 8 and of 16 slots), in send order 40000, 8, 16.
    session.restore_inflight(40000, InflightMessage::State::AwaitingPuback, make(1, "x"));
    session.restore_inflight(8, InflightMessage::State::AwaitingPubcomp, make(2, "y"));
    session.restore_inflight(16, InflightMessage::State::AwaitingPubrec, make(2, "z"));
    CHECK(session.inflight_count() == 3);
    REQUIRE(session.find_inflight(8) != nullptr);
    CHECK(session.find_inflight(8)->outgoing.message->payload == "y");
    CHECK(session.find_inflight(16)->outgoing.message->payload == "z");
    CHECK(session.find_inflight(40000)->outgoing.message->payload == "x");
    const auto order = session.inflight_in_order();
    REQUIRE(order.size() == 3);
    CHECK(order[0].first == 40000);
    CHECK(order[1].first == 8);
    CHECK(order[2].first == 16);
    // New ids continue after the largest restored one.
    const uint16_t next = session.track_inflight(make(1));
    CHECK(next == 40001);
    CHECK(session.on_pubcomp(8) == AckOutcome::Completed);
    CHECK(session.on_pubrec(16, false) == AckOutcome::SendPubrel);
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
    OutgoingMessage scratch;
    CHECK(session.next_sendable(0, id, scratch) == nullptr);  // window full
    CHECK(session.on_puback(first) == AckOutcome::Completed);
    OutgoingMessage* next = session.next_sendable(0, id, scratch);
    REQUIRE(next != nullptr);
    CHECK(next->message->payload == "b");
    CHECK(id != 0);
    CHECK(next == &session.find_inflight(id)->outgoing);  // the window's own entry
    // The QoS 0 message behind it does not need a window slot.
    uint16_t qos0_id = 99;
    OutgoingMessage* qos0 = session.next_sendable(0, qos0_id, scratch);
    REQUIRE(qos0 == &scratch);
    CHECK(qos0->message->payload == "c");
    CHECK(qos0_id == 0);
    CHECK(session.inflight_count() == 1);
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
    OutgoingMessage scratch;
    OutgoingMessage* next = session.next_sendable(150, id, scratch);
    REQUIRE(next != nullptr);
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
    for (const auto& [packet_id, entry] : session.inflight_in_order()) {
        order.emplace_back(packet_id, entry->state);
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
