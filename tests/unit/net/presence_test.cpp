// Tests for the presence registry: off until enabled, and the records it keeps once it is on.
#include "net/presence.hpp"

#include <doctest/doctest.h>

using tern::net::Presence;
using tern::net::PresenceRecord;

TEST_CASE("Presence records nothing until enabled") {
    Presence presence;
    CHECK_FALSE(presence.enabled());
    presence.connected("alpha", "10.0.0.1:1000", 4, false);
    CHECK(presence.snapshot().empty());
    CHECK(presence.online_count() == 0);
    CHECK_FALSE(presence.find("alpha").has_value());
    presence.disconnected("alpha", "client sent DISCONNECT");
    CHECK(presence.snapshot().empty());

    // A client connected while disabled is known from its next connect on.
    presence.enable();
    CHECK(presence.enabled());
    presence.disconnected("alpha", "keep alive timeout");
    CHECK(presence.snapshot().empty());
    presence.connected("alpha", "10.0.0.1:1001", 5, false);
    REQUIRE(presence.find("alpha").has_value());
    CHECK(presence.online_count() == 1);
}

TEST_CASE("Presence keeps each client's latest connection, online or not") {
    Presence presence;
    presence.enable();
    const uint64_t before = Presence::unix_now_ms();
    presence.connected("bravo", "10.0.0.2:2000", 4, false);
    presence.connected("alpha", "[::1]:3000", 5, false);
    CHECK(presence.online_count() == 2);

    std::vector<PresenceRecord> records = presence.snapshot();
    REQUIRE(records.size() == 2);
    CHECK(records[0].client_id == "alpha");  // sorted by client id
    CHECK(records[0].peer == "[::1]:3000");
    CHECK(records[0].protocol_version == 5);
    CHECK(records[0].online);
    CHECK(records[0].connected_at_ms >= before);
    CHECK(records[1].client_id == "bravo");
    CHECK(records[1].peer == "10.0.0.2:2000");
    CHECK(records[1].protocol_version == 4);

    presence.disconnected("bravo", "client sent DISCONNECT");
    CHECK(presence.online_count() == 1);
    auto bravo = presence.find("bravo");
    REQUIRE(bravo.has_value());
    CHECK(bravo->client_id == "bravo");
    CHECK_FALSE(bravo->online);
    CHECK(bravo->last_seen_ms >= bravo->connected_at_ms);
    CHECK(bravo->peer == "10.0.0.2:2000");

    // A second disconnect of an offline client changes nothing.
    presence.disconnected("bravo", "again");
    CHECK(presence.online_count() == 1);

    // A takeover keeps the client online once, with the new connection's details.
    presence.connected("alpha", "10.0.0.3:4000", 4, true);
    CHECK(presence.online_count() == 1);
    auto alpha = presence.find("alpha");
    REQUIRE(alpha.has_value());
    CHECK(alpha->online);
    CHECK(alpha->peer == "10.0.0.3:4000");
    CHECK(alpha->protocol_version == 4);
}

TEST_CASE("Presence forgets the oldest offline clients beyond its limit, never online ones") {
    Presence presence(10);
    presence.enable();
    for (int i = 0; i < 10; ++i) {
        presence.connected("c" + std::to_string(i), "10.0.0.1:1", 4, false);
    }
    for (int i = 0; i < 5; ++i) {
        presence.disconnected("c" + std::to_string(i), "gone");
    }
    presence.connected("new", "10.0.0.1:2", 4, false);  // 11 records: one offline must go
    const std::vector<PresenceRecord> records = presence.snapshot();
    CHECK(records.size() <= 10);
    CHECK(presence.online_count() == 6);
    for (int i = 5; i < 10; ++i) {
        const auto record = presence.find("c" + std::to_string(i));
        REQUIRE(record.has_value());
        CHECK(record->online);
    }
    CHECK(presence.find("new").has_value());
}
