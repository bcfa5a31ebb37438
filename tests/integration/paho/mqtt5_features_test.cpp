// Paho MQTT C++ against the running broker: MQTT 5 message properties, subscription identifiers
// and the No Local subscription option.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "paho_client.hpp"
#include "test_broker.hpp"

using tern::paho_tests::connect_clean_all;
using tern::paho_tests::kMqtt5;
using tern::paho_tests::PahoClient;
using tern::paho_tests::TestBroker;
using tern::paho_tests::user_properties;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string text_property(const mqtt::properties& props, mqtt::property::code code) {
    REQUIRE(props.contains(code));
    return mqtt::get<std::string>(props, code);
}

}  // namespace

TEST_CASE("MQTT 5 publish properties reach the subscriber intact and user properties in order") {
    const std::string topic = TestBroker::topic("props", kMqtt5);
    PahoClient subscriber(kMqtt5, TestBroker::client_id("props-sub", kMqtt5));
    PahoClient publisher(kMqtt5, TestBroker::client_id("props-pub", kMqtt5));
    connect_clean_all({&subscriber, &publisher});
    REQUIRE(subscriber.subscribe(topic, 1) == std::vector<int>{1});

    const Pairs sent_pairs{{"unit", "celsius"}, {"sensor", "t-1"}, {"unit", "kelvin"}};
    const std::string correlation("req\0\x01\xff-42", 9);
    mqtt::properties props;
    for (const auto& [name, value] : sent_pairs) {
        props.add(mqtt::property(mqtt::property::USER_PROPERTY, name, value));
    }
    props.add(mqtt::property(mqtt::property::CONTENT_TYPE, "application/json"));
    props.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, topic + "/reply"));
    props.add(mqtt::property(mqtt::property::CORRELATION_DATA, correlation));
    props.add(mqtt::property(mqtt::property::MESSAGE_EXPIRY_INTERVAL, 300));
    props.add(mqtt::property(mqtt::property::PAYLOAD_FORMAT_INDICATOR, 1));
    publisher.publish(topic, R"({"t":21.5})", 1, false, props);

    const auto message = subscriber.expect_message();
    CHECK(message->get_payload_str() == R"({"t":21.5})");
    const mqtt::properties& got = message->get_properties();
    // [MQTT-3.3.2-17] user properties are forwarded unaltered; [MQTT-3.3.2-18] in order.
    CHECK(user_properties(got) == sent_pairs);
    // [MQTT-3.3.2-20] content type, [MQTT-3.3.2-15] response topic, [MQTT-3.3.2-16]
    // correlation data, [MQTT-3.3.2-4] payload format indicator: forwarded unaltered.
    CHECK(text_property(got, mqtt::property::CONTENT_TYPE) == "application/json");
    CHECK(text_property(got, mqtt::property::RESPONSE_TOPIC) == topic + "/reply");
    CHECK(text_property(got, mqtt::property::CORRELATION_DATA) == correlation);
    REQUIRE(got.contains(mqtt::property::PAYLOAD_FORMAT_INDICATOR));
    CHECK(mqtt::get<uint8_t>(got, mqtt::property::PAYLOAD_FORMAT_INDICATOR) == 1);
    // [MQTT-3.3.2-6]: the expiry interval is forwarded minus the time spent in the server,
    // which here is well under a few seconds.
    REQUIRE(got.contains(mqtt::property::MESSAGE_EXPIRY_INTERVAL));
    const uint32_t expiry = mqtt::get<uint32_t>(got, mqtt::property::MESSAGE_EXPIRY_INTERVAL);
    CHECK(expiry <= 300);
    CHECK(expiry >= 295);
    // Nothing the publisher did not send appears (no subscription identifier was requested).
    CHECK_FALSE(got.contains(mqtt::property::SUBSCRIPTION_IDENTIFIER));
    CHECK_FALSE(got.contains(mqtt::property::TOPIC_ALIAS));
}

TEST_CASE("A subscription identifier comes back only on messages matched by that subscription") {
    const std::string base = TestBroker::topic("subid", kMqtt5);
    PahoClient subscriber(kMqtt5, TestBroker::client_id("subid-sub", kMqtt5));
    PahoClient publisher(kMqtt5, TestBroker::client_id("subid-pub", kMqtt5));
    connect_clean_all({&subscriber, &publisher});
    const mqtt::properties with_id{mqtt::property(mqtt::property::SUBSCRIPTION_IDENTIFIER, 4242)};
    REQUIRE(subscriber.subscribe(base + "/tagged/#", 1, mqtt::subscribe_options(), with_id) ==
            std::vector<int>{1});
    REQUIRE(subscriber.subscribe(base + "/plain", 1) == std::vector<int>{1});

    publisher.publish(base + "/tagged/a", "tagged", 1);
    const auto tagged = subscriber.expect_message();
    CHECK(tagged->get_topic() == base + "/tagged/a");
    // [MQTT-3.3.4-3]: the Subscription Identifier of the matching subscription is included.
    const mqtt::properties& tagged_props = tagged->get_properties();
    REQUIRE(tagged_props.count(mqtt::property::SUBSCRIPTION_IDENTIFIER) == 1);
    CHECK(mqtt::get<uint32_t>(tagged_props, mqtt::property::SUBSCRIPTION_IDENTIFIER) == 4242);

    publisher.publish(base + "/plain", "plain", 1);
    const auto plain = subscriber.expect_message();
    CHECK(plain->get_topic() == base + "/plain");
    CHECK_FALSE(plain->get_properties().contains(mqtt::property::SUBSCRIPTION_IDENTIFIER));
}

TEST_CASE("With No Local a client does not receive its own publications but others do") {
    const std::string topic = TestBroker::topic("nolocal", kMqtt5);
    PahoClient self(kMqtt5, TestBroker::client_id("nl-self", kMqtt5));
    PahoClient other(kMqtt5, TestBroker::client_id("nl-other", kMqtt5));
    connect_clean_all({&self, &other});
    REQUIRE(self.subscribe(topic, 1,
                           mqtt::subscribe_options(mqtt::subscribe_options::SUBSCRIBE_NO_LOCAL)) ==
            std::vector<int>{1});
    REQUIRE(other.subscribe(topic, 1) == std::vector<int>{1});

    self.publish(topic, "from self", 1);
    // The other subscriber gets it, so the broker has routed it before the next step.
    CHECK(other.expect_message()->get_payload_str() == "from self");
    other.publish(topic, "from other", 1);
    CHECK(other.expect_message()->get_payload_str() == "from other");

    // [MQTT-3.8.3-3]: never forwarded to a connection with a client id equal to the publisher's.
    CHECK(self.expect_message()->get_payload_str() == "from other");
    CHECK(self.receive(std::chrono::milliseconds(300)) == nullptr);
}
