// Shared fixtures and helpers for the tern_codec unit tests: one packet of every shape per version.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/decoder.hpp"
#include "codec/encoder.hpp"
#include "codec/packets.hpp"

namespace tern::codec::test {

inline constexpr std::array<ProtocolVersion, 3> kVersions = {
    ProtocolVersion::V31, ProtocolVersion::V311, ProtocolVersion::V5};

inline const char* version_name(ProtocolVersion version) {
    switch (version) {
        case ProtocolVersion::V31:
            return "MQTT 3.1";
        case ProtocolVersion::V311:
            return "MQTT 3.1.1";
        case ProtocolVersion::V5:
            return "MQTT 5.0";
    }
    return "unknown";
}

inline std::string_view version_tag(ProtocolVersion version) {
    switch (version) {
        case ProtocolVersion::V31:
            return "v31";
        case ProtocolVersion::V311:
            return "v311";
        case ProtocolVersion::V5:
            return "v5";
    }
    return "v";
}

inline std::string bytes(std::initializer_list<int> values) {
    std::string out;
    out.reserve(values.size());
    for (int value : values) {
        out.push_back(static_cast<char>(value));
    }
    return out;
}

inline std::string hex(std::string_view data) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : data) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0x0F]);
    }
    return out;
}

inline std::string to_bytes(const Packet& packet, ProtocolVersion version) {
    std::string out;
    encode(packet, version, out);
    return out;
}

struct Decoded {
    FrameStatus status = FrameStatus::NeedMore;
    Packet packet;
    DecodeError error;
    std::size_t left_over = 0;
};

// Feeds `data` at once to a fresh StreamDecoder and takes one packet.
inline Decoded decode_one(std::string_view data, ProtocolVersion version,
                          uint32_t max_packet_size = 0) {
    StreamDecoder decoder(version, max_packet_size);
    decoder.feed(data);
    Decoded result;
    result.status = decoder.next(result.packet, result.error);
    result.left_over = decoder.buffered();
    return result;
}

struct Fixture {
    std::string name;  // file-name safe, e.g. "v5-publish-qos1-rich"
    ProtocolVersion version;
    Packet packet;
};

inline Properties rich_will_properties() {
    Properties p;
    p.payload_format_indicator = 1;
    p.message_expiry_interval = 3600;
    p.content_type = "text/plain";
    p.response_topic = "replies/sensor-42";
    p.correlation_data = std::string("\x00\x01\xFF", 3);
    p.will_delay_interval = 30;
    p.user_properties = {{"origin", "will"}};
    return p;
}

inline Properties rich_connect_properties() {
    Properties p;
    p.session_expiry_interval = 7200;
    p.receive_maximum = 20;
    p.maximum_packet_size = 65536;
    p.topic_alias_maximum = 10;
    p.request_response_information = 1;
    p.request_problem_information = 0;
    p.user_properties = {{"site", "north"}, {"site", "south"}, {"", ""}};
    p.authentication_method = "SCRAM-SHA-1";
    p.authentication_data = std::string("\x01\x00\x02", 3);
    return p;
}

inline Properties rich_connack_properties() {
    Properties p;
    p.session_expiry_interval = 0xFFFFFFFF;
    p.receive_maximum = 65535;
    p.maximum_qos = 1;
    p.retain_available = 0;
    p.maximum_packet_size = 268435460;
    p.assigned_client_identifier = "auto-7f3a";
    p.topic_alias_maximum = 0;
    p.reason_string = "welcome";
    p.user_properties = {{"node", "a"}};
    p.wildcard_subscription_available = 0;
    p.subscription_identifier_available = 1;
    p.shared_subscription_available = 0;
    p.server_keep_alive = 30;
    p.response_information = "resp/auto-7f3a/";
    p.server_reference = "other.example:1883";
    p.authentication_method = "SCRAM-SHA-1";
    p.authentication_data = "server-final";
    return p;
}

inline Properties rich_publish_properties() {
    Properties p;
    p.payload_format_indicator = 0;
    p.message_expiry_interval = 0;
    p.topic_alias = 5;
    p.response_topic = "replies/x";
    p.correlation_data = std::string("\x00", 1);
    p.user_properties = {{"k", "v"}, {"k", "v2"}, {"\xC3\xBC", "\xE2\x82\xAC"}};
    p.subscription_identifiers = {1, 268435455, 300, 16384};
    p.content_type = "application/json";
    return p;
}

inline Properties diagnostics(std::string_view reason) {
    Properties p;
    p.reason_string = std::string(reason);
    p.user_properties = {{"why", "test"}};
    return p;
}

// Packets valid in both 3.1 and 3.1.1 (3.1 has the same shapes; CONNECT names the version).
inline std::vector<Fixture> v3_fixtures(ProtocolVersion version) {
    const std::string tag(version_tag(version));
    std::vector<Fixture> list;
    auto add = [&](std::string_view name, Packet packet) {
        list.push_back({tag + "-" + std::string(name), version, std::move(packet)});
    };
    Connect full;
    full.version = version;
    full.clean_start = false;
    full.keep_alive = 65535;
    full.client_id = "sensor-42";
    full.will = Will{"status/sensor-42", std::string("off\0line", 8), 2, true, {}};
    full.username = "alice";
    full.password = std::string("\x00pw\xFF", 4);
    add("connect-full", full);
    Connect minimal;
    minimal.version = version;
    minimal.client_id = "c";
    add("connect-minimal", minimal);
    add("connack-session-present", Connack{true, 0, {}});
    add("connack-refused", Connack{false, 5, {}});
    add("publish-qos0", Publish{0, false, false, 0, "a/b", "hello", {}});
    add("publish-qos1-dup", Publish{1, false, true, 7, "a/b/c", "", {}});
    add("publish-qos2-retain",
        Publish{2, true, false, 65535, "$SYS/x", std::string("\xC0\x00\xFF", 3), {}});
    add("publish-large", Publish{1, false, false, 9, "big", std::string(16500, 'x'), {}});
    add("puback", Ack{PacketType::Puback, 1, 0, {}});
    add("pubrec", Ack{PacketType::Pubrec, 2, 0, {}});
    add("pubrel", Ack{PacketType::Pubrel, 3, 0, {}});
    add("pubcomp", Ack{PacketType::Pubcomp, 65535, 0, {}});
    add("subscribe",
        Subscribe{
            10,
            {{"a/+", 0, false, false, 0}, {"b/#", 1, false, false, 0}, {"c", 2, false, false, 0}},
            {}});
    add("suback", Suback{10, {0, 1, 2, kSubackFailure}, {}});
    add("unsubscribe", Unsubscribe{11, {"a/+", "b/#"}, {}});
    add("unsuback", Unsuback{11, {}, {}});
    add("pingreq", Pingreq{});
    add("pingresp", Pingresp{});
    add("disconnect", Disconnect{});
    return list;
}

inline void add_v5(std::vector<Fixture>& list, std::string_view name, Packet packet) {
    list.push_back({"v5-" + std::string(name), ProtocolVersion::V5, std::move(packet)});
}

// MQTT 5 CONNECT, CONNACK, PINGREQ, PINGRESP, DISCONNECT and AUTH.
inline void add_v5_session_fixtures(std::vector<Fixture>& list) {
    auto add = [&list](std::string_view name, Packet packet) {
        add_v5(list, name, std::move(packet));
    };
    Connect full;
    full.version = ProtocolVersion::V5;
    full.clean_start = false;
    full.keep_alive = 60;
    full.client_id = "sensor-42";
    full.will = Will{"status/sensor-42", "offline", 1, true, rich_will_properties()};
    full.username = "alice";
    full.password = "secret";
    full.properties = rich_connect_properties();
    add("connect-full", full);
    Connect minimal;
    minimal.version = ProtocolVersion::V5;
    add("connect-empty-client-id", minimal);
    Connect password_only;  // allowed from MQTT 5 on (3.1.2.9)
    password_only.version = ProtocolVersion::V5;
    password_only.client_id = "p";
    password_only.password = "token";
    add("connect-password-only", password_only);
    add("connack-rich", Connack{true, 0, rich_connack_properties()});
    add("connack-refused", Connack{false, 0x87, diagnostics("not allowed")});
    add("pingreq", Pingreq{});
    add("pingresp", Pingresp{});
    add("disconnect-short", Disconnect{});
    add("disconnect-with-will", Disconnect{0x04, {}});
    Properties bye = diagnostics("shutting down");
    bye.session_expiry_interval = 0;
    bye.server_reference = "backup:1883";
    add("disconnect-props", Disconnect{0x8B, bye});
    add("auth-short", Auth{});
    Properties auth_props = diagnostics("step");
    auth_props.authentication_method = "SCRAM-SHA-1";
    auth_props.authentication_data = std::string("\x00\x01", 2);
    add("auth-continue", Auth{0x18, auth_props});
    Properties reauth;
    reauth.authentication_method = "SCRAM-SHA-1";
    add("auth-reauthenticate", Auth{0x19, reauth});
}

// MQTT 5 PUBLISH and its acknowledgements, SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK.
inline void add_v5_message_fixtures(std::vector<Fixture>& list) {
    auto add = [&list](std::string_view name, Packet packet) {
        add_v5(list, name, std::move(packet));
    };
    add("publish-qos0", Publish{0, false, false, 0, "a/b", "hello", {}});
    add("publish-qos1-rich", Publish{1, true, true, 7, "a/b", "{}", rich_publish_properties()});
    Properties alias_only;
    alias_only.topic_alias = 65535;
    add("publish-qos2-alias", Publish{2, false, false, 8, "", "payload", alias_only});
    add("publish-large", Publish{1, false, false, 9, "big", std::string(16500, 'x'), {}});
    add("puback-short", Ack{PacketType::Puback, 1, 0, {}});
    add("puback-reason", Ack{PacketType::Puback, 2, 0x10, {}});
    add("pubrec-props", Ack{PacketType::Pubrec, 3, 0x80, diagnostics("quota")});
    add("pubrel-not-found", Ack{PacketType::Pubrel, 4, 0x92, {}});
    add("pubcomp-success-props", Ack{PacketType::Pubcomp, 5, 0, diagnostics("")});
    Properties sub_props;
    sub_props.subscription_identifiers = {268435455};
    sub_props.user_properties = {{"a", "b"}};
    add("subscribe", Subscribe{12,
                               {{"a/+", 0, false, false, 0},
                                {"b/#", 1, true, false, 1},
                                {"$share/g/c", 2, false, true, 2},
                                {"d", 1, true, true, 0}},
                               sub_props});
    add("suback", Suback{12, {0, 1, 2, 0x80, 0x8F, 0xA2}, diagnostics("partial")});
    Properties unsub_props;
    unsub_props.user_properties = {{"x", "y"}};
    add("unsubscribe", Unsubscribe{13, {"a/+", "$share/g/c"}, unsub_props});
    add("unsuback", Unsuback{13, {0x00, 0x11}, diagnostics("done")});
}

inline std::vector<Fixture> v5_fixtures() {
    std::vector<Fixture> list;
    add_v5_session_fixtures(list);
    add_v5_message_fixtures(list);
    return list;
}

inline std::vector<Fixture> fixtures_for(ProtocolVersion version) {
    return version == ProtocolVersion::V5 ? v5_fixtures() : v3_fixtures(version);
}

inline std::vector<Fixture> all_fixtures() {
    std::vector<Fixture> list;
    for (ProtocolVersion version : kVersions) {
        for (auto& fixture : fixtures_for(version)) {
            list.push_back(std::move(fixture));
        }
    }
    return list;
}

}  // namespace tern::codec::test

namespace doctest {

// Shows a packet in failure messages as its type and its MQTT 5 wire bytes.
template <>
struct StringMaker<tern::codec::Packet> {
    static String convert(const tern::codec::Packet& packet) {
        using namespace tern::codec;
        const std::string text = std::string(packet_type_name(packet_type(packet))) + " [" +
                                 test::hex(test::to_bytes(packet, ProtocolVersion::V5)) + "]";
        return String(text.c_str());
    }
};

}  // namespace doctest
