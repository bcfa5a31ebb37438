// Tests for the storage encoding: every record round-trips; keys sort; bad values are rejected.
#include "storage/serialization.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace tern::storage;
using tern::codec::Properties;

namespace {

// Every property set, with bytes a text encoding would mangle.
Properties every_property() {
    Properties properties;
    properties.payload_format_indicator = 1;
    properties.message_expiry_interval = 0xFFFFFFFF;
    properties.content_type = "application/json";
    properties.response_topic = "reply/to/me";
    properties.correlation_data = std::string("\x00\x01\xFF\x80", 4);
    properties.subscription_identifiers = {1, 268'435'455, 42};
    properties.session_expiry_interval = 3600;
    properties.assigned_client_identifier = "auto-123";
    properties.server_keep_alive = 0xFFFF;
    properties.authentication_method = "SCRAM-SHA-1";
    properties.authentication_data = std::string("\x00secret\x00", 8);
    properties.request_problem_information = 0;
    properties.will_delay_interval = 30;
    properties.request_response_information = 1;
    properties.response_information = "responses/";
    properties.server_reference = "other:1883";
    properties.reason_string = "because";
    properties.receive_maximum = 10;
    properties.topic_alias_maximum = 5;
    properties.topic_alias = 3;
    properties.maximum_qos = 1;
    properties.retain_available = 0;
    properties.user_properties = {{"b", "2"}, {"a", "1"}, {"b", "again"}, {"", ""}};
    properties.maximum_packet_size = 1'048'576;
    properties.wildcard_subscription_available = 1;
    properties.subscription_identifier_available = 0;
    properties.shared_subscription_available = 1;
    return properties;
}

MessageRecord rich_message(std::string topic) {
    MessageRecord message;
    message.topic = std::move(topic);
    message.payload = std::string("bin\x00\xFF\x7F payload", 14);
    message.qos = 2;
    message.retain = true;
    message.properties = tern::codec::SharedProperties(every_property());
    message.expires_at = 1'700'000'000'123;
    return message;
}

SessionRecord rich_session() {
    SessionRecord session;
    session.client_id = "sensor-17";
    session.protocol_version = 5;
    session.expiry_interval_s = 0xFFFFFFFF;
    session.disconnected_at = 1'700'000'000'000;
    SubscriptionRecord first;
    first.filter = "a/+/c";
    first.options = {2, true, true, 2, 268'435'455};
    SubscriptionRecord second;
    second.filter = "$share/group/#";
    second.options = {0, false, false, 1, 0};
    session.subscriptions = {first, second};
    WillRecord will;
    will.will.topic = "status/sensor-17";
    will.will.payload = "offline";
    will.will.qos = 1;
    will.will.retain = true;
    will.will.properties = every_property();
    will.delay_s = 60;
    will.publish_at = 1'700'000'060'000;
    session.will = will;
    return session;
}

QueuedRecord rich_queued() {
    QueuedRecord entry;
    entry.seq = std::numeric_limits<uint64_t>::max();
    entry.qos = 1;
    entry.retain = true;
    entry.subscription_ids = {7, 268'435'455};
    entry.state = QueuedRecord::State::AwaitingPubcomp;
    entry.packet_id = 65535;
    entry.message = rich_message("queued/topic");
    return entry;
}

HistoryRecord rich_history() {
    HistoryRecord entry;
    entry.seq = 123'456'789'012ULL;
    entry.timestamp = 1'700'000'000'999;
    entry.message = rich_message("history/topic");
    return entry;
}

}  // namespace

TEST_CASE("A retained message round-trips with every property") {
    MessageRecord message = rich_message("a/b");
    std::string value = encode_retained(message);
    CHECK(static_cast<uint8_t>(value[0]) == kRecordFormatVersion);
    CHECK(decode_retained("a/b", value) == message);

    MessageRecord plain;
    plain.topic = "t";
    CHECK(decode_retained("t", encode_retained(plain)) == plain);
}

TEST_CASE("A session round-trips with subscriptions and a will") {
    SessionRecord session = rich_session();
    CHECK(decode_session(session_key(session.client_id), encode_session(session)) == session);

    SessionRecord bare;
    bare.client_id = "";
    CHECK(decode_session("", encode_session(bare)) == bare);

    SessionRecord named = rich_session();
    named.username = "operator";
    CHECK(decode_session(session_key(named.client_id), encode_session(named)) == named);
    named.username = "";  // an empty user name is not the absence of one
    CHECK(decode_session(session_key(named.client_id), encode_session(named)) == named);
}

TEST_CASE("A session written before user names were stored reads without one") {
    SessionRecord session = rich_session();
    std::string value = encode_session(session);
    REQUIRE(value.back() == '\0');  // the "no user name" flag: older records end before it
    value.pop_back();
    CHECK(decode_session(session_key(session.client_id), value) == session);

    session.username = "u";
    std::string bad = encode_session(session);
    bad[bad.size() - 3] = 2;  // the flag before "u" (length 1, 'u')
    CHECK_THROWS_AS(decode_session(session_key(session.client_id), bad), StorageError);
}

TEST_CASE("A queue entry round-trips and takes its seq from the key") {
    QueuedRecord entry = rich_queued();
    std::string key = queue_key("client", entry.seq);
    CHECK(decode_queued(key, encode_queued(entry)) == entry);
    for (auto state : {QueuedRecord::State::Queued, QueuedRecord::State::AwaitingPuback,
                       QueuedRecord::State::AwaitingPubrec}) {
        entry.state = state;
        entry.seq = 5;
        CHECK(decode_queued(queue_key("client", 5), encode_queued(entry)) == entry);
    }
}

TEST_CASE("A queue entry encoded from borrowed fields is the record's encoding") {
    // The broker encodes straight from its own message (QueuedView); a record read back must be
    // the same whichever way it was written, with and without properties.
    QueuedRecord entry = rich_queued();
    const Properties& properties = entry.message.properties.get();
    QueuedView view{entry.qos,
                    entry.retain,
                    entry.state,
                    entry.packet_id,
                    entry.subscription_ids,
                    MessageView{entry.message.topic, entry.message.payload, entry.message.qos,
                                entry.message.retain, &properties, entry.message.expires_at}};
    CHECK(encode_queued(view) == encode_queued(entry));
    CHECK(decode_queued_value(entry.seq, encode_queued(view)) == entry);

    entry.message.properties = {};
    entry.subscription_ids.clear();
    view.subscription_ids = {};
    view.message.properties = nullptr;
    CHECK(encode_queued(view) == encode_queued(entry));
    CHECK(decode_queued_value(entry.seq, encode_queued(view)) == entry);
}

TEST_CASE("A history entry round-trips and takes its topic and seq from the key") {
    HistoryRecord entry = rich_history();
    std::string key = history_key(entry.message.topic, entry.seq);
    CHECK(decode_history(key, encode_history(entry)) == entry);
}

TEST_CASE("An incoming QoS 2 value is only a version byte") {
    std::string value = encode_incoming_qos2();
    CHECK(value.size() == 1);
    CHECK_NOTHROW(check_incoming_qos2(value));
    CHECK_THROWS_AS(check_incoming_qos2(value + "x"), StorageError);
    std::string key = incoming_qos2_key("c", 0xABCD);
    SplitKey split = split_incoming_qos2_key(key);  // views into `key`
    CHECK(split.name == "c");
    CHECK(split.number == 0xABCD);
}

TEST_CASE("Queue and history keys sort by number within a name and never mix names") {
    CHECK(queue_key("a", 255) < queue_key("a", 256));
    CHECK(queue_key("a", 1) < queue_key("a", 0x0100000000000000ULL));
    CHECK(queue_key("a", std::numeric_limits<uint64_t>::max()) < name_prefix_end("a"));
    // "ab" sorts after every key of "a": a prefix scan of "a" stops before it.
    CHECK(name_prefix_end("a") <= queue_key("ab", 0));
    CHECK_FALSE(queue_key("ab", 0).starts_with(name_prefix("a")));
    CHECK(history_key("x/y", 9) < history_key("x/y", 10));

    std::string key = queue_key("client/1", 0x0102030405060708ULL);
    SplitKey split = split_queue_key(key);
    CHECK(split.name == "client/1");
    CHECK(split.number == 0x0102030405060708ULL);
    key = history_key("t/1", 3);
    CHECK(key_name(key) == "t/1");
    key = history_key("", 3);
    CHECK(split_history_key(key).name == "");
    CHECK(split_history_key(key).number == 3);
}

TEST_CASE("Malformed keys and names containing NUL are rejected") {
    CHECK_THROWS_AS(split_queue_key("no-separator"), StorageError);
    CHECK_THROWS_AS(split_queue_key(std::string("c\0short", 7)), StorageError);
    CHECK_THROWS_AS(queue_key(std::string("a\0b", 3), 1), StorageError);
    CHECK_THROWS_AS(session_key(std::string("a\0b", 3)), StorageError);
}

TEST_CASE("Meta numbers are eight big-endian bytes") {
    std::string value = encode_meta_number(0x0102030405060708ULL);
    CHECK(value == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    CHECK(decode_meta_number(value, "epoch") == 0x0102030405060708ULL);
    CHECK_THROWS_AS(decode_meta_number("1234", "epoch"), StorageError);
}

TEST_CASE("A value with an unknown format version is rejected with a clear error") {
    std::string value = encode_session(rich_session());
    value[0] = 9;
    try {
        decode_session("sensor-17", value);
        FAIL("decoded a version 9 value");
    } catch (const StorageError& error) {
        CHECK(std::string(error.what()) ==
              "session record has unsupported format version 9 (this build reads version 1)");
    }
    CHECK_THROWS_AS(decode_retained("t", ""), StorageError);
}

TEST_CASE("Every truncation of every value and any trailing byte are rejected") {
    SessionRecord named = rich_session();
    named.username = "u";
    const std::string named_value = encode_session(named);
    // Cut just before the user name flag, a session is a valid record of an older build.
    const std::size_t legacy_session_length = named_value.size() - 3;
    std::vector<std::pair<std::string, std::function<void(std::string_view)>>> values{
        {encode_retained(rich_message("r")), [](std::string_view v) { decode_retained("r", v); }},
        {named_value, [](std::string_view v) { decode_session("s", v); }},
        {encode_queued(rich_queued()),
         [](std::string_view v) { decode_queued(queue_key("c", 1), v); }},
        {encode_history(rich_history()),
         [](std::string_view v) { decode_history(history_key("h", 1), v); }},
    };
    for (const auto& [value, decode] : values) {
        CHECK_NOTHROW(decode(value));
        for (std::size_t length = 0; length < value.size(); ++length) {
            CAPTURE(length);
            if (value == named_value && length == legacy_session_length) {
                CHECK_NOTHROW(decode(std::string_view(value).substr(0, length)));
                continue;
            }
            CHECK_THROWS_AS(decode(std::string_view(value).substr(0, length)), StorageError);
        }
        CHECK_THROWS_AS(decode(value + '\0'), StorageError);
    }
}

TEST_CASE("Out-of-range fields are rejected") {
    MessageRecord message;
    message.topic = "t";
    std::string value = encode_retained(message);
    value[1] = 0x03;  // QoS 3
    CHECK_THROWS_AS(decode_retained("t", value), StorageError);

    QueuedRecord entry;
    value = encode_queued(entry);
    value[2] = 4;  // no such state
    CHECK_THROWS_AS(decode_queued(queue_key("c", 0), value), StorageError);

    tern::codec::Properties user;
    user.user_properties = {{"k", "v"}};
    message.properties = tern::codec::SharedProperties(std::move(user));
    value = encode_retained(message);
    // flags, payload length, expires_at, property count, then the property id.
    CHECK(static_cast<uint8_t>(value[5]) == 0x26);
    value[5] = 0x7F;  // unknown property identifier
    CHECK_THROWS_AS(decode_retained("t", value), StorageError);
}
