"""MQTT 5 properties given with -D reach the subscriber and show up in --json and -F."""
import json

from toolsupport import pub, start_sub


def test_publish_properties_appear_in_json(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-q", "1", "-C", "1", "--json",
                    "-D", "subscribe", "subscription-identifier", "5")
    pub(broker, "-V", "5", "-q", "1", "-t", topic, "-m", "{\"on\":true}",
        "-D", "publish", "user-property", "unit", "celsius",
        "-D", "publish", "user-property", "unit", "kelvin",
        "-D", "publish", "response-topic", "replies/1",
        "-D", "publish", "correlation-data", "req-42",
        "-D", "publish", "content-type", "application/json",
        "-D", "publish", "message-expiry-interval", "3600",
        "-D", "publish", "payload-format-indicator", "1")
    code, out, err = sub.finish()
    assert (code, err) == (0, "")
    message = json.loads(out)
    properties = message["properties"]
    # The broker sends the remaining lifetime, which may have ticked down (MQTT 5 §3.3.2.3.3).
    assert 3595 <= properties.pop("message_expiry_interval") <= 3600
    assert message == {
        "topic": topic, "payload": "{\"on\":true}", "qos": 1, "retain": False,
        "properties": {
            "content_type": "application/json",
            "user_properties": [["unit", "celsius"], ["unit", "kelvin"]],
            "response_topic": "replies/1",
            "correlation_data": "req-42",
            "subscription_identifiers": [5],
            "payload_format_indicator": 1,
        },
    }
    # Documented key order: topic, payload, qos, retain, properties.
    assert list(json.loads(out).keys()) == ["topic", "payload", "qos", "retain", "properties"]
    assert list(json.loads(out)["properties"].keys()) == [
        "content_type", "user_properties", "response_topic", "correlation_data",
        "message_expiry_interval", "subscription_identifiers", "payload_format_indicator"]


def test_binary_correlation_data_is_base64_in_json(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-C", "1", "--json")
    pub(broker, "-V", "5", "-t", topic, "-m", "x", "-D", "publish", "correlation-data", "\udcff")
    code, out, err = sub.finish()
    assert (code, err) == (0, "")
    assert json.loads(out)["properties"] == {"correlation_data": "/w==",
                                             "correlation_data_encoding": "base64"}


def test_properties_in_format_fields(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-C", "1",
                    "-F", "%C|%R|%D|%P|%S|%F",
                    "-D", "subscribe", "subscription-identifier", "77")
    pub(broker, "-V", "5", "-t", topic, "-m", "x",
        "-D", "publish", "content-type", "text/plain",
        "-D", "publish", "response-topic", "r/t",
        "-D", "publish", "correlation-data", "cd",
        "-D", "publish", "user-property", "a", "1",
        "-D", "publish", "user-property", "b", "2",
        "-D", "publish", "payload-format-indicator", "1")
    assert sub.finish() == (0, b"text/plain|r/t|cd|a:1 b:2|77|1\n", "")


def test_message_without_properties_has_no_properties_key(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-C", "1", "--json")
    pub(broker, "-V", "5", "-t", topic, "-m", "plain")
    assert sub.finish() == (
        0, ('{"topic":"%s","payload":"plain","qos":0,"retain":false}\n' % topic).encode(), "")


def test_topic_alias_publishes_still_arrive_with_their_topic(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-C", "2", "-v")
    pub(broker, "-V", "5", "-t", topic, "-m", "aliased", "--repeat", "2",
        "-D", "publish", "topic-alias", "3")
    assert sub.finish() == (0, f"{topic} aliased\n{topic} aliased\n".encode(), "")


def test_connect_will_and_disconnect_properties_are_accepted(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-C", "1")
    pub(broker, "-V", "5", "-t", topic, "-m", "ok",
        "-D", "connect", "session-expiry-interval", "0",
        "-D", "connect", "user-property", "client", "test",
        "-D", "connect", "receive-maximum", "10",
        "-D", "will", "user-property", "w", "1",
        "-D", "disconnect", "user-property", "bye", "now",
        "--will-topic", f"{topic}/will")
    assert sub.finish() == (0, b"ok\n", "")
