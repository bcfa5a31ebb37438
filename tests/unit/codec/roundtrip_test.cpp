// Round trips: every packet type encodes and decodes back to an equal value in every version.
#include <set>

#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

// The identifiers present in a property set, to prove the fixtures cover every property.
std::set<PropertyId> present_ids(const Properties& p) {
    std::set<PropertyId> ids;
    auto mark = [&ids](bool present, PropertyId id) {
        if (present) {
            ids.insert(id);
        }
    };
    mark(p.payload_format_indicator.has_value(), PropertyId::PayloadFormatIndicator);
    mark(p.message_expiry_interval.has_value(), PropertyId::MessageExpiryInterval);
    mark(p.content_type.has_value(), PropertyId::ContentType);
    mark(p.response_topic.has_value(), PropertyId::ResponseTopic);
    mark(p.correlation_data.has_value(), PropertyId::CorrelationData);
    mark(!p.subscription_identifiers.empty(), PropertyId::SubscriptionIdentifier);
    mark(p.session_expiry_interval.has_value(), PropertyId::SessionExpiryInterval);
    mark(p.assigned_client_identifier.has_value(), PropertyId::AssignedClientIdentifier);
    mark(p.server_keep_alive.has_value(), PropertyId::ServerKeepAlive);
    mark(p.authentication_method.has_value(), PropertyId::AuthenticationMethod);
    mark(p.authentication_data.has_value(), PropertyId::AuthenticationData);
    mark(p.request_problem_information.has_value(), PropertyId::RequestProblemInformation);
    mark(p.will_delay_interval.has_value(), PropertyId::WillDelayInterval);
    mark(p.request_response_information.has_value(), PropertyId::RequestResponseInformation);
    mark(p.response_information.has_value(), PropertyId::ResponseInformation);
    mark(p.server_reference.has_value(), PropertyId::ServerReference);
    mark(p.reason_string.has_value(), PropertyId::ReasonString);
    mark(p.receive_maximum.has_value(), PropertyId::ReceiveMaximum);
    mark(p.topic_alias_maximum.has_value(), PropertyId::TopicAliasMaximum);
    mark(p.topic_alias.has_value(), PropertyId::TopicAlias);
    mark(p.maximum_qos.has_value(), PropertyId::MaximumQos);
    mark(p.retain_available.has_value(), PropertyId::RetainAvailable);
    mark(!p.user_properties.empty(), PropertyId::UserProperty);
    mark(p.maximum_packet_size.has_value(), PropertyId::MaximumPacketSize);
    mark(p.wildcard_subscription_available.has_value(), PropertyId::WildcardSubscriptionAvailable);
    mark(p.subscription_identifier_available.has_value(),
         PropertyId::SubscriptionIdentifierAvailable);
    mark(p.shared_subscription_available.has_value(), PropertyId::SharedSubscriptionAvailable);
    return ids;
}

const Properties* properties_of(const Packet& packet) {
    return std::visit(
        [](const auto& value) -> const Properties* {
            if constexpr (requires { value.properties; }) {
                return &value.properties;
            } else {
                return nullptr;
            }
        },
        packet);
}

}  // namespace

TEST_CASE("Every packet type survives an encode and decode round trip") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            std::set<PacketType> types;
            for (const Fixture& fixture : fixtures_for(version)) {
                CAPTURE(fixture.name);
                const std::string wire = to_bytes(fixture.packet, version);
                const Decoded decoded = decode_one(wire, version);
                REQUIRE_MESSAGE(decoded.status == FrameStatus::Complete, decoded.error.reason);
                CHECK(decoded.packet == fixture.packet);
                CHECK(decoded.left_over == 0);
                // Encoding the decoded value gives the same bytes: the encoder is deterministic.
                CHECK(to_bytes(decoded.packet, version) == wire);
                types.insert(packet_type(fixture.packet));
            }
            // Every packet type that exists in this version is covered (AUTH only in 5.0).
            CHECK(types.size() == (version == ProtocolVersion::V5 ? 15u : 14u));
        }
    }
}

TEST_CASE("The MQTT 5 fixtures carry every property at least once") {
    std::set<PropertyId> seen;
    for (const Fixture& fixture : v5_fixtures()) {
        if (const Properties* p = properties_of(fixture.packet)) {
            seen.merge(present_ids(*p));
        }
        if (const auto* connect = std::get_if<Connect>(&fixture.packet); connect && connect->will) {
            seen.merge(present_ids(connect->will->properties));
        }
    }
    CHECK(seen.size() == 27u);
}

TEST_CASE("Properties::empty() sees each of the 27 properties") {
    using Set = void (*)(Properties&);
    const Set setters[] = {
        [](Properties& p) { p.payload_format_indicator = 1; },
        [](Properties& p) { p.message_expiry_interval = 1; },
        [](Properties& p) { p.content_type = "t"; },
        [](Properties& p) { p.response_topic = "r"; },
        [](Properties& p) { p.correlation_data = "c"; },
        [](Properties& p) { p.subscription_identifiers = {1}; },
        [](Properties& p) { p.session_expiry_interval = 1; },
        [](Properties& p) { p.assigned_client_identifier = "a"; },
        [](Properties& p) { p.server_keep_alive = 1; },
        [](Properties& p) { p.authentication_method = "m"; },
        [](Properties& p) { p.authentication_data = "d"; },
        [](Properties& p) { p.request_problem_information = 1; },
        [](Properties& p) { p.will_delay_interval = 1; },
        [](Properties& p) { p.request_response_information = 1; },
        [](Properties& p) { p.response_information = "i"; },
        [](Properties& p) { p.server_reference = "s"; },
        [](Properties& p) { p.reason_string = "why"; },
        [](Properties& p) { p.receive_maximum = 1; },
        [](Properties& p) { p.topic_alias_maximum = 1; },
        [](Properties& p) { p.topic_alias = 1; },
        [](Properties& p) { p.maximum_qos = 1; },
        [](Properties& p) { p.retain_available = 1; },
        [](Properties& p) {
            p.user_properties = {{"k", "v"}};
        },
        [](Properties& p) { p.maximum_packet_size = 1; },
        [](Properties& p) { p.wildcard_subscription_available = 1; },
        [](Properties& p) { p.subscription_identifier_available = 1; },
        [](Properties& p) { p.shared_subscription_available = 1; },
    };
    CHECK(Properties{}.empty());
    std::set<PropertyId> covered;
    for (const Set set : setters) {
        Properties properties;
        set(properties);
        CHECK_FALSE(properties.empty());
        const std::set<PropertyId> ids = present_ids(properties);
        CHECK(ids.size() == 1u);
        covered.insert(ids.begin(), ids.end());
    }
    CHECK(covered.size() == 27u);
}

TEST_CASE("Properties are not written before MQTT 5") {
    for (ProtocolVersion version : {ProtocolVersion::V31, ProtocolVersion::V311}) {
        SUBCASE(version_name(version)) {
            Publish with_props{1, false, false, 5, "t", "p", rich_publish_properties()};
            Publish plain{1, false, false, 5, "t", "p", {}};
            CHECK(to_bytes(with_props, version) == to_bytes(plain, version));
            CHECK(to_bytes(plain, version) ==
                  bytes({0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x05, 'p'}));
        }
    }
}

TEST_CASE("MQTT 5 acknowledgements use the shortest form the spec allows") {
    SUBCASE("MQTT 5.0") {
        // [MQTT-3.4.2-1]: reason 0x00 and no properties: Remaining Length 2.
        CHECK(to_bytes(Ack{PacketType::Puback, 1, 0, {}}, ProtocolVersion::V5) ==
              bytes({0x40, 0x02, 0x00, 0x01}));
        // Section 3.4.2.2.1: no properties: the Property Length is left out.
        CHECK(to_bytes(Ack{PacketType::Pubrec, 1, 0x10, {}}, ProtocolVersion::V5) ==
              bytes({0x50, 0x03, 0x00, 0x01, 0x10}));
        CHECK(to_bytes(Ack{PacketType::Pubrel, 0x0102, 0x92, {}}, ProtocolVersion::V5) ==
              bytes({0x62, 0x03, 0x01, 0x02, 0x92}));
        Properties reason;
        reason.reason_string = "r";
        CHECK(to_bytes(Ack{PacketType::Pubcomp, 1, 0, reason}, ProtocolVersion::V5) ==
              bytes({0x70, 0x08, 0x00, 0x01, 0x00, 0x04, 0x1F, 0x00, 0x01, 'r'}));
        // [MQTT-3.14.2-1]: DISCONNECT 0x00 without properties has Remaining Length 0.
        CHECK(to_bytes(Disconnect{}, ProtocolVersion::V5) == bytes({0xE0, 0x00}));
        CHECK(to_bytes(Disconnect{0x04, {}}, ProtocolVersion::V5) == bytes({0xE0, 0x01, 0x04}));
        CHECK(to_bytes(Auth{}, ProtocolVersion::V5) == bytes({0xF0, 0x00}));
        // AUTH has no reason-only form: a non-zero reason carries a Property Length.
        CHECK(to_bytes(Auth{0x18, {}}, ProtocolVersion::V5) == bytes({0xF0, 0x02, 0x18, 0x00}));
    }
    SUBCASE("MQTT 3.1.1") {
        // Before MQTT 5 an acknowledgement is always the packet id alone.
        CHECK(to_bytes(Ack{PacketType::Pubrel, 9, 0, {}}, ProtocolVersion::V311) ==
              bytes({0x62, 0x02, 0x00, 0x09}));
        CHECK(to_bytes(Disconnect{}, ProtocolVersion::V311) == bytes({0xE0, 0x00}));
    }
}

TEST_CASE("Long-form MQTT 5 acknowledgements decode like their short forms") {
    SUBCASE("MQTT 5.0") {
        const Packet expected = Ack{PacketType::Puback, 1, 0, {}};
        // Reason code present, no Property Length (Remaining Length 3).
        CHECK(decode_one(bytes({0x40, 0x03, 0x00, 0x01, 0x00}), ProtocolVersion::V5).packet ==
              expected);
        // Reason code and an empty property block (Remaining Length 4).
        CHECK(decode_one(bytes({0x40, 0x04, 0x00, 0x01, 0x00, 0x00}), ProtocolVersion::V5).packet ==
              expected);
        CHECK(decode_one(bytes({0xE0, 0x02, 0x00, 0x00}), ProtocolVersion::V5).packet ==
              Packet{Disconnect{}});
        CHECK(decode_one(bytes({0xE0, 0x01, 0x00}), ProtocolVersion::V5).packet ==
              Packet{Disconnect{}});
        CHECK(decode_one(bytes({0xF0, 0x02, 0x00, 0x00}), ProtocolVersion::V5).packet ==
              Packet{Auth{}});
    }
}

TEST_CASE("The property block helpers agree with the bytes they write") {
    for (const Fixture& fixture : v5_fixtures()) {
        const Properties* p = properties_of(fixture.packet);
        if (p == nullptr) {
            continue;
        }
        CAPTURE(fixture.name);
        std::string out = "prefix";
        append_properties(out, *p);
        CHECK(out.size() == 6 + properties_block_size(*p));
    }
    std::string empty;
    append_properties(empty, Properties{});
    CHECK(empty == bytes({0x00}));
    CHECK(properties_block_size(Properties{}) == 1u);
}

}  // namespace tern::codec::test
