// StreamDecoder: packets come out whole however the bytes are cut, several per feed, in order.
#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

// Drains every complete packet; the status that stopped the loop is returned.
FrameStatus drain(StreamDecoder& decoder, std::vector<Packet>& packets, DecodeError& error) {
    for (;;) {
        Packet packet;
        const FrameStatus status = decoder.next(packet, error);
        if (status != FrameStatus::Complete) {
            return status;
        }
        packets.push_back(std::move(packet));
    }
}

}  // namespace

TEST_CASE("Every fixture decodes the same when split in two at every byte offset") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            for (const Fixture& fixture : fixtures_for(version)) {
                CAPTURE(fixture.name);
                const std::string wire = to_bytes(fixture.packet, version);
                for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
                    StreamDecoder decoder(version);
                    std::vector<Packet> packets;
                    DecodeError error;
                    decoder.feed(std::string_view(wire).substr(0, cut));
                    const FrameStatus first = drain(decoder, packets, error);
                    if (cut < wire.size()) {
                        REQUIRE(first == FrameStatus::NeedMore);
                        REQUIRE(packets.empty());
                        REQUIRE(decoder.buffered() == cut);
                    }
                    decoder.feed(std::string_view(wire).substr(cut));
                    REQUIRE(drain(decoder, packets, error) == FrameStatus::NeedMore);
                    REQUIRE(packets.size() == 1);
                    REQUIRE(packets[0] == fixture.packet);
                    REQUIRE(decoder.buffered() == 0);
                }
            }
        }
    }
}

TEST_CASE("Every fixture decodes the same when fed one byte at a time") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            for (const Fixture& fixture : fixtures_for(version)) {
                CAPTURE(fixture.name);
                const std::string wire = to_bytes(fixture.packet, version);
                StreamDecoder decoder(version);
                std::vector<Packet> packets;
                DecodeError error;
                for (std::size_t i = 0; i < wire.size(); ++i) {
                    decoder.feed(std::string_view(wire).substr(i, 1));
                    REQUIRE(drain(decoder, packets, error) == FrameStatus::NeedMore);
                    REQUIRE(packets.size() == (i + 1 == wire.size() ? 1u : 0u));
                }
                CHECK(packets[0] == fixture.packet);
                CHECK(decoder.buffered() == 0);
            }
        }
    }
}

TEST_CASE("Several packets in one feed come out in order") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            const std::vector<Fixture> fixtures = fixtures_for(version);
            std::string stream;
            for (const Fixture& fixture : fixtures) {
                encode(fixture.packet, version, stream);
            }
            // Once whole, then in chunks of 7 bytes, which cut packets at changing places.
            for (std::size_t chunk : {stream.size(), std::size_t{7}}) {
                CAPTURE(chunk);
                StreamDecoder decoder(version);
                std::vector<Packet> packets;
                DecodeError error;
                for (std::size_t at = 0; at < stream.size(); at += chunk) {
                    decoder.feed(std::string_view(stream).substr(at, chunk));
                    REQUIRE(drain(decoder, packets, error) == FrameStatus::NeedMore);
                }
                REQUIRE(packets.size() == fixtures.size());
                for (std::size_t i = 0; i < fixtures.size(); ++i) {
                    CAPTURE(fixtures[i].name);
                    CHECK(packets[i] == fixtures[i].packet);
                }
                CHECK(decoder.buffered() == 0);
            }
        }
    }
}

TEST_CASE("A partial packet after complete ones stays buffered alone") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            const std::string ping = to_bytes(Pingreq{}, version);
            const std::string publish =
                to_bytes(Publish{1, false, false, 3, "a/b", "xyz", {}}, version);
            StreamDecoder decoder(version);
            decoder.feed(ping + ping + publish.substr(0, 4));
            std::vector<Packet> packets;
            DecodeError error;
            CHECK(drain(decoder, packets, error) == FrameStatus::NeedMore);
            CHECK(packets.size() == 2);
            CHECK(decoder.buffered() == 4);
            decoder.feed(publish.substr(4));
            CHECK(drain(decoder, packets, error) == FrameStatus::NeedMore);
            REQUIRE(packets.size() == 3);
            CHECK(packets[2] == Packet{Publish{1, false, false, 3, "a/b", "xyz", {}}});
            CHECK(decoder.buffered() == 0);
        }
    }
}

TEST_CASE("A stream error is sticky") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            StreamDecoder decoder(version);
            // PUBLISH QoS 3, then a valid PINGREQ that must never come out.
            decoder.feed(bytes({0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01, 0xC0, 0x00}));
            Packet packet;
            DecodeError error;
            CHECK(decoder.next(packet, error) == FrameStatus::Error);
            CHECK(error.code == ReasonCode::MalformedPacket);
            DecodeError again;
            CHECK(decoder.next(packet, again) == FrameStatus::Error);
            CHECK(again.code == ReasonCode::MalformedPacket);
            CHECK(again.reason == error.reason);
        }
    }
}

TEST_CASE("A bad first byte is rejected before its body arrives") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            StreamDecoder decoder(version);
            decoder.feed(bytes({0x00, 0x7F}));  // reserved type 0 announcing 127 bytes
            Packet packet;
            DecodeError error;
            CHECK(decoder.next(packet, error) == FrameStatus::Error);
            CHECK(error.code == ReasonCode::MalformedPacket);
        }
    }
}

TEST_CASE("The stream decoder enforces the maximum packet size") {
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            const std::string publish =
                to_bytes(Publish{0, false, false, 0, "t", std::string(100, 'p'), {}}, version);
            const auto size = static_cast<uint32_t>(publish.size());
            StreamDecoder exact(version, size);
            exact.feed(publish);
            Packet packet;
            DecodeError error;
            CHECK(exact.next(packet, error) == FrameStatus::Complete);
            StreamDecoder small(version, size - 1);
            small.feed(publish.substr(0, 2));  // the header alone is enough to refuse it
            CHECK(small.next(packet, error) == FrameStatus::Error);
            CHECK(error.code == ReasonCode::PacketTooLarge);
        }
    }
}

TEST_CASE("After a CONNECT the stream decoder reads the CONNECT's version") {
    SUBCASE("MQTT 5.0") {
        Connect connect;
        connect.version = ProtocolVersion::V5;
        connect.client_id = "c";
        Properties props;
        props.user_properties = {{"a", "b"}};
        const Packet publish = Publish{0, false, false, 0, "t", "p", props};
        StreamDecoder decoder;  // starts as 3.1.1
        decoder.feed(to_bytes(connect, ProtocolVersion::V5) +
                     to_bytes(publish, ProtocolVersion::V5));
        std::vector<Packet> packets;
        DecodeError error;
        CHECK(drain(decoder, packets, error) == FrameStatus::NeedMore);
        REQUIRE(packets.size() == 2);
        CHECK(packets[1] == publish);
    }
    SUBCASE("MQTT 3.1") {
        Connect connect;
        connect.version = ProtocolVersion::V31;
        connect.client_id = "c";
        StreamDecoder decoder(ProtocolVersion::V5);
        // 3.1 allows DUP on a QoS 0 PUBLISH; 5.0 would call it malformed.
        decoder.feed(to_bytes(connect, ProtocolVersion::V31) +
                     bytes({0x38, 0x03, 0x00, 0x01, 'a'}));
        std::vector<Packet> packets;
        DecodeError error;
        CHECK(drain(decoder, packets, error) == FrameStatus::NeedMore);
        REQUIRE(packets.size() == 2);
        CHECK(packets[1] == Packet{Publish{0, false, true, 0, "a", "", {}}});
    }
}

TEST_CASE("Decoding PUBLISH after PUBLISH into one packet resets every field") {
    SUBCASE("MQTT 5.0") {
        StreamDecoder decoder(ProtocolVersion::V5);
        const Packet first = Publish{1, true, true, 9, "a/b", "payload", rich_publish_properties()};
        const Packet second = Publish{0, false, false, 0, "c", "", {}};
        decoder.feed(to_bytes(first, ProtocolVersion::V5) + to_bytes(second, ProtocolVersion::V5));
        Packet packet;
        DecodeError error;
        REQUIRE(decoder.next(packet, error) == FrameStatus::Complete);
        CHECK(packet == first);
        REQUIRE(decoder.next(packet, error) == FrameStatus::Complete);
        CHECK(packet == second);
    }
}

TEST_CASE("A PUBLISH decoded over one that had every property keeps none of them") {
    SUBCASE("MQTT 5.0") {
        Properties all = rich_connect_properties();
        const Properties connack = rich_connack_properties();
        const Properties will = rich_will_properties();
        const Properties publish = rich_publish_properties();
        all.payload_format_indicator = will.payload_format_indicator;
        all.message_expiry_interval = will.message_expiry_interval;
        all.content_type = will.content_type;
        all.response_topic = will.response_topic;
        all.correlation_data = will.correlation_data;
        all.subscription_identifiers = publish.subscription_identifiers;
        all.assigned_client_identifier = connack.assigned_client_identifier;
        all.server_keep_alive = connack.server_keep_alive;
        all.will_delay_interval = will.will_delay_interval;
        all.response_information = connack.response_information;
        all.server_reference = connack.server_reference;
        all.reason_string = connack.reason_string;
        all.topic_alias = publish.topic_alias;
        all.maximum_qos = connack.maximum_qos;
        all.retain_available = connack.retain_available;
        all.wildcard_subscription_available = connack.wildcard_subscription_available;
        all.subscription_identifier_available = connack.subscription_identifier_available;
        all.shared_subscription_available = connack.shared_subscription_available;
        Packet packet = Publish{2, true, true, 77, "old/topic", "old payload", all};
        const std::string wire = bytes({0x30, 0x05, 0x00, 0x01, 'n', 0x00, 'p'});
        const auto* data = reinterpret_cast<const uint8_t*>(wire.data());
        FrameHeader header;
        DecodeError error;
        REQUIRE(parse_fixed_header({data, wire.size()}, 0, header, error) == FrameStatus::Complete);
        REQUIRE_FALSE(decode_packet(header, {data + 2, 5}, ProtocolVersion::V5, packet));
        CHECK(packet == Packet{Publish{0, false, false, 0, "n", "p", {}}});
    }
}

}  // namespace tern::codec::test
