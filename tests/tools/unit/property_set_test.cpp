// Tests of -D property parsing into per-packet Paho property lists.
#include "common/property_set.hpp"

#include <doctest/doctest.h>

#include "common/tool_error.hpp"

using namespace tern::tools;
using Code = mqtt::property::code;

namespace {

const std::vector<PropertyCommand> kAll{PropertyCommand::kConnect,    PropertyCommand::kPublish,
                                        PropertyCommand::kSubscribe,  PropertyCommand::kUnsubscribe,
                                        PropertyCommand::kDisconnect, PropertyCommand::kWill};

}  // namespace

TEST_CASE("properties land in the packet named by the command") {
    PropertySet set;
    add_property_arg(set, {"publish", "content-type", "text/plain"}, kAll);
    add_property_arg(set, {"publish", "message-expiry-interval", "4294967295"}, kAll);
    add_property_arg(set, {"connect", "session-expiry-interval", "60"}, kAll);
    add_property_arg(set, {"subscribe", "subscription-identifier", "268435455"}, kAll);
    add_property_arg(set, {"will", "will-delay-interval", "5"}, kAll);
    add_property_arg(set, {"PUBLISH", "Topic-Alias", "3"}, kAll);
    CHECK(mqtt::get<std::string>(set.publish, Code::CONTENT_TYPE) == "text/plain");
    CHECK(mqtt::get<uint32_t>(set.publish, Code::MESSAGE_EXPIRY_INTERVAL) == 4294967295u);
    CHECK(mqtt::get<uint16_t>(set.publish, Code::TOPIC_ALIAS) == 3);
    CHECK(mqtt::get<uint32_t>(set.connect, Code::SESSION_EXPIRY_INTERVAL) == 60);
    CHECK(mqtt::get<uint32_t>(set.subscribe, Code::SUBSCRIPTION_IDENTIFIER) == 268435455u);
    CHECK(mqtt::get<uint32_t>(set.will, Code::WILL_DELAY_INTERVAL) == 5);
    CHECK(set.disconnect.empty());
}

TEST_CASE("user properties repeat and keep their order") {
    PropertySet set;
    add_property_arg(set, {"publish", "user-property", "k", "1"}, kAll);
    add_property_arg(set, {"publish", "user-property", "k", "2"}, kAll);
    REQUIRE(set.publish.count(Code::USER_PROPERTY) == 2);
    auto first = mqtt::get<mqtt::string_pair>(set.publish, Code::USER_PROPERTY, 0);
    auto second = mqtt::get<mqtt::string_pair>(set.publish, Code::USER_PROPERTY, 1);
    CHECK(std::get<1>(first) == "1");
    CHECK(std::get<1>(second) == "2");
}

TEST_CASE("correlation data keeps arbitrary bytes") {
    PropertySet set;
    std::string bytes("a\0b", 3);
    add_property_arg(set, {"publish", "correlation-data", bytes}, kAll);
    CHECK(mqtt::get<std::string>(set.publish, Code::CORRELATION_DATA) == bytes);
}

TEST_CASE("bad -D arguments are usage errors with a reason") {
    PropertySet set;
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"publish", "nope", "1"}, kAll),
                         "-D: unknown property 'nope'", UsageError);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"auth", "content-type", "x"}, kAll),
                         "-D: unknown command 'auth'", UsageError);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"publish", "subscription-identifier", "1"}, kAll),
                         "-D: property subscription-identifier is not allowed in publish",
                         UsageError);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"subscribe", "subscription-identifier", "0"}, kAll),
                         "-D: subscription-identifier must be a number from 1 to 268435455, "
                         "not '0'",
                         UsageError);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"publish", "payload-format-indicator", "2"}, kAll),
                         "-D: payload-format-indicator must be a number from 0 to 1, not '2'",
                         UsageError);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"publish", "content-type", "a", "b"}, kAll),
                         "-D content-type: expected exactly one value", UsageError);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"publish"}, kAll),
                         "-D needs a command, a property and a value, e.g. -D publish "
                         "content-type text/plain",
                         UsageError);
    CHECK_THROWS_WITH_AS(
        add_property_arg(set, {"publish", "content-type", "x"}, {PropertyCommand::kSubscribe}),
        "-D: this tool does not send publish packets", UsageError);
}

TEST_CASE("a property that may appear once cannot be given twice") {
    PropertySet set;
    add_property_arg(set, {"publish", "content-type", "a"}, kAll);
    CHECK_THROWS_WITH_AS(add_property_arg(set, {"publish", "content-type", "b"}, kAll),
                         "-D: property content-type given twice for publish", UsageError);
    add_property_arg(set, {"will", "content-type", "b"}, kAll);
}
