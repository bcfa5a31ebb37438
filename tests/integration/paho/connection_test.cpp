// Paho MQTT C++ against the running broker: connecting, persistent sessions and will messages.
#include <doctest/doctest.h>

#include <string>

#include "paho_client.hpp"
#include "raw_will_connection.hpp"
#include "test_broker.hpp"

using tern::paho_tests::kMqtt311;
using tern::paho_tests::kMqtt5;
using tern::paho_tests::PahoClient;
using tern::paho_tests::RawWillConnection;
using tern::paho_tests::TestBroker;
using tern::paho_tests::Will;

TEST_CASE("A Paho client connects with the requested protocol version and disconnects cleanly") {
    int version = 0;
    SUBCASE("MQTT 3.1.1") {
        version = kMqtt311;
    }
    SUBCASE("MQTT 5") {
        version = kMqtt5;
    }

    PahoClient client(version, TestBroker::client_id("connect", version));
    const mqtt::connect_response connack = client.connect_clean();
    CHECK(connack.get_mqtt_version() == version);
    // [MQTT-3.2.2-1] / [MQTT-3.2.2-2]: a clean session never reports a present session.
    CHECK_FALSE(connack.is_session_present());
    CHECK(client.paho().is_connected());

    client.disconnect();
    CHECK_FALSE(client.paho().is_connected());

    // The same client id is free again after DISCONNECT.
    PahoClient again(version, client.client_id());
    CHECK_FALSE(again.connect_clean().is_session_present());
    CHECK(again.paho().is_connected());
    again.disconnect();
}

TEST_CASE("An MQTT 5 client with an empty client id is given an Assigned Client Identifier") {
    PahoClient client(kMqtt5, "");
    const mqtt::connect_response connack = client.connect_clean();
    // [MQTT-3.2.2-16]: the server must return the identifier it assigned.
    const mqtt::properties& props = connack.get_properties();
    REQUIRE(props.contains(mqtt::property::ASSIGNED_CLIENT_IDENTIFER));
    CHECK_FALSE(mqtt::get<std::string>(props, mqtt::property::ASSIGNED_CLIENT_IDENTIFER).empty());
    client.disconnect();
}

TEST_CASE("A persistent session keeps its subscription and queues QoS 1 messages while offline") {
    int version = 0;
    SUBCASE("MQTT 3.1.1") {
        version = kMqtt311;
    }
    SUBCASE("MQTT 5") {
        version = kMqtt5;
    }
    const std::string topic = TestBroker::topic("persist", version);
    const std::string id = TestBroker::client_id("persist", version);

    PahoClient publisher(version, TestBroker::client_id("persist-pub", version));
    auto publisher_connected = publisher.start_connect_clean();
    {
        PahoClient subscriber(version, id);
        CHECK_FALSE(subscriber.connect_persistent(true).is_session_present());
        REQUIRE(subscriber.subscribe(topic, 1) == std::vector<int>{1});
        subscriber.disconnect();
    }
    REQUIRE(publisher_connected->wait_for(tern::paho_tests::kWait));
    publisher.publish(topic, "sent while offline", 1);

    PahoClient subscriber(version, id);
    // [MQTT-3.2.2-2] (3.1.1) / [MQTT-3.2.2-3] (5): the stored session is resumed.
    CHECK(subscriber.connect_persistent(false).is_session_present());
    // [MQTT-3.1.2-5]: QoS 1 messages for a disconnected client are stored and delivered later.
    const auto message = subscriber.expect_message();
    CHECK(message->get_topic() == topic);
    CHECK(message->get_payload_str() == "sent while offline");
    CHECK(message->get_qos() == 1);
    CHECK(subscriber.receive(std::chrono::milliseconds(300)) == nullptr);
    subscriber.disconnect();
}

TEST_CASE("A will is published when a client's connection drops without DISCONNECT") {
    int version = 0;
    SUBCASE("MQTT 3.1.1") {
        version = kMqtt311;
    }
    SUBCASE("MQTT 5") {
        version = kMqtt5;
    }
    const std::string topic = TestBroker::topic("will", version);

    PahoClient watcher(version, TestBroker::client_id("will-watch", version));
    watcher.connect_clean();
    REQUIRE(watcher.subscribe(topic, 2) == std::vector<int>{2});

    RawWillConnection doomed;
    const Will will{topic, "connection lost", 1, false};
    REQUIRE(doomed.connect(version, TestBroker::client_id("will-doomed", version), will) == 0);
    doomed.drop();

    // [MQTT-3.1.2-8]: the will is published because the network connection closed without
    // DISCONNECT; it keeps its QoS and, retain being 0, reaches live subscribers unretained.
    const auto message = watcher.expect_message();
    CHECK(message->get_topic() == topic);
    CHECK(message->get_payload_str() == "connection lost");
    CHECK(message->get_qos() == 1);
    CHECK_FALSE(message->is_retained());
    CHECK(watcher.receive(std::chrono::milliseconds(300)) == nullptr);
    watcher.disconnect();
}
