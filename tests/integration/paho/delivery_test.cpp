// Paho MQTT C++ against the running broker: QoS round trips, retained messages, shared
// subscriptions and ordered bulk delivery.
#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "paho_client.hpp"
#include "test_broker.hpp"

using tern::paho_tests::connect_clean_all;
using tern::paho_tests::kMqtt311;
using tern::paho_tests::kMqtt5;
using tern::paho_tests::kWait;
using tern::paho_tests::PahoClient;
using tern::paho_tests::TestBroker;

namespace {

// Payloads that catch truncation and text assumptions: empty, every byte value (NUL and 0xFF
// included), and one larger than a typical socket read.
std::vector<std::string> sample_payloads() {
    std::string every_byte;
    for (int value = 0; value < 256; ++value) {
        every_byte.push_back(static_cast<char>(value));
    }
    std::string large(100 * 1024, '\0');
    for (std::size_t index = 0; index < large.size(); ++index) {
        large[index] = static_cast<char>((index * 131 + 7) % 251);
    }
    return {std::string(), every_byte, large};
}

}  // namespace

TEST_CASE("Messages at QoS 0, 1 and 2 reach a QoS 2 subscriber with exact payload and QoS") {
    int version = 0;
    SUBCASE("MQTT 3.1.1") {
        version = kMqtt311;
    }
    SUBCASE("MQTT 5") {
        version = kMqtt5;
    }
    const std::string topic = TestBroker::topic("qos", version);

    PahoClient subscriber(version, TestBroker::client_id("qos-sub", version));
    PahoClient publisher(version, TestBroker::client_id("qos-pub", version));
    connect_clean_all({&subscriber, &publisher});
    REQUIRE(subscriber.subscribe(topic, 2) == std::vector<int>{2});

    for (int qos = 0; qos <= 2; ++qos) {
        for (const std::string& payload : sample_payloads()) {
            CAPTURE(qos);
            CAPTURE(payload.size());
            publisher.publish(topic, payload, qos);
            const auto message = subscriber.expect_message();
            CHECK(message->get_topic() == topic);
            CHECK(message->get_payload_str() == payload);
            // [MQTT-3.8.4-6] delivered at min(published QoS, granted QoS 2).
            CHECK(message->get_qos() == qos);
            CHECK_FALSE(message->is_retained());
        }
    }
    CHECK(subscriber.receive(std::chrono::milliseconds(300)) == nullptr);
}

TEST_CASE("A retained message is delivered on subscribe with the retain flag and can be cleared") {
    int version = 0;
    SUBCASE("MQTT 3.1.1") {
        version = kMqtt311;
    }
    SUBCASE("MQTT 5") {
        version = kMqtt5;
    }
    const std::string topic = TestBroker::topic("retained", version);

    PahoClient publisher(version, TestBroker::client_id("ret-pub", version));
    PahoClient subscriber(version, TestBroker::client_id("ret-sub", version));
    PahoClient late(version, TestBroker::client_id("ret-late", version));
    connect_clean_all({&publisher, &subscriber, &late});
    publisher.publish(topic, "last known value", 1, true);

    REQUIRE(subscriber.subscribe(topic, 1) == std::vector<int>{1});
    // 3.1.1 [MQTT-3.3.1-6] / 5 Retain Handling 0 [MQTT-3.3.1-9]: the retained message is sent
    // to the new subscription, with retain 1 ([MQTT-3.3.1-8] in 3.1.1).
    const auto stored = subscriber.expect_message();
    CHECK(stored->get_topic() == topic);
    CHECK(stored->get_payload_str() == "last known value");
    CHECK(stored->get_qos() == 1);
    CHECK(stored->is_retained());

    // A message forwarded to an existing subscription carries retain 0 ([MQTT-3.3.1-9] in 3.1.1;
    // MQTT 5 without Retain As Published [MQTT-3.3.1-12]).
    publisher.publish(topic, "live value", 1, true);
    const auto live = subscriber.expect_message();
    CHECK(live->get_payload_str() == "live value");
    CHECK_FALSE(live->is_retained());

    // A zero-length retained message is forwarded as normal and removes the stored one
    // (3.1.1 [MQTT-3.3.1-10] and [MQTT-3.3.1-11]; 5 [MQTT-3.3.1-6]).
    publisher.publish(topic, "", 1, true);
    const auto cleared = subscriber.expect_message();
    CHECK(cleared->get_payload_str().empty());

    REQUIRE(late.subscribe(topic, 1) == std::vector<int>{1});
    CHECK(late.receive(std::chrono::milliseconds(500)) == nullptr);
}

TEST_CASE("A thousand QoS 1 messages from one publisher arrive complete and in order") {
    int version = 0;
    SUBCASE("MQTT 3.1.1") {
        version = kMqtt311;
    }
    SUBCASE("MQTT 5") {
        version = kMqtt5;
    }
    const std::string topic = TestBroker::topic("ordered", version);
    constexpr int kCount = 1000;
    // Publishes in flight at once: below the brokers' Receive Maximum (tern 100, mosquitto 20).
    constexpr std::size_t kWindow = 16;

    PahoClient subscriber(version, TestBroker::client_id("order-sub", version));
    PahoClient publisher(version, TestBroker::client_id("order-pub", version));
    connect_clean_all({&subscriber, &publisher});
    REQUIRE(subscriber.subscribe(topic, 1) == std::vector<int>{1});

    std::deque<mqtt::delivery_token_ptr> in_flight;
    for (int index = 0; index < kCount; ++index) {
        if (in_flight.size() == kWindow) {
            REQUIRE(in_flight.front()->wait_for(kWait));
            in_flight.pop_front();
        }
        in_flight.push_back(publisher.publish_async(topic, "msg-" + std::to_string(index), 1));
    }
    for (const auto& token : in_flight) {
        REQUIRE(token->wait_for(kWait));
    }

    // [MQTT-4.6.0-6]: an ordered topic keeps the publisher's order for each subscriber.
    for (int index = 0; index < kCount; ++index) {
        CAPTURE(index);
        const auto message = subscriber.expect_message();
        REQUIRE(message->get_payload_str() == "msg-" + std::to_string(index));
        REQUIRE(message->get_qos() == 1);
    }
    CHECK(subscriber.receive(std::chrono::milliseconds(300)) == nullptr);
}

TEST_CASE("Two MQTT 5 members of a shared subscription split 100 messages without loss or copies") {
    const std::string topic = TestBroker::topic("shared", kMqtt5);
    const std::string filter = "$share/g/" + topic;
    constexpr int kCount = 100;

    PahoClient first(kMqtt5, TestBroker::client_id("share-a", kMqtt5));
    PahoClient second(kMqtt5, TestBroker::client_id("share-b", kMqtt5));
    PahoClient publisher(kMqtt5, TestBroker::client_id("share-pub", kMqtt5));
    connect_clean_all({&first, &second, &publisher});
    for (PahoClient* member : {&first, &second}) {
        REQUIRE(member->subscribe(filter, 1) == std::vector<int>{1});
    }
    for (int index = 0; index < kCount; ++index) {
        publisher.publish(topic, "shared-" + std::to_string(index), 1);
    }

    // Each message goes to exactly one member of the group (MQTT 5.0 section 4.8.2).
    std::map<std::string, int> seen;
    int per_member[2] = {0, 0};
    const auto deadline = std::chrono::steady_clock::now() + 2 * kWait;
    int received = 0;
    while (received < kCount && std::chrono::steady_clock::now() < deadline) {
        for (int member = 0; member < 2; ++member) {
            PahoClient& client = member == 0 ? first : second;
            if (auto message = client.receive(std::chrono::milliseconds(20))) {
                CHECK(message->get_topic() == topic);
                ++seen[message->get_payload_str()];
                ++per_member[member];
                ++received;
            }
        }
    }
    CHECK(first.receive(std::chrono::milliseconds(300)) == nullptr);
    CHECK(second.receive(std::chrono::milliseconds(100)) == nullptr);

    REQUIRE(seen.size() == static_cast<std::size_t>(kCount));
    for (int index = 0; index < kCount; ++index) {
        CAPTURE(index);
        CHECK(seen["shared-" + std::to_string(index)] == 1);
    }
    // Both members take part: the group really shares the load.
    CHECK(per_member[0] > 0);
    CHECK(per_member[1] > 0);
    CHECK(per_member[0] + per_member[1] == kCount);
}
