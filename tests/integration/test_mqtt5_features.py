"""MQTT 5: topic aliases, message expiry, forwarded properties, packet size, reason codes."""

import time

import pytest

import mqtt_raw as raw
from broker_process import IS_MOSQUITTO
from helpers import LONG_EXPIRY


def _conn(broker, raws, client_id, **kwargs):
    conn = raws(broker, 5)
    ack = conn.connect(client_id, **kwargs)
    assert ack.rc == 0, ack
    return conn


def _subscriber(broker, raws, topic_filter, client_id="sub", qos=1, **kwargs):
    sub = _conn(broker, raws, client_id, **kwargs)
    assert sub.subscribe([(topic_filter, qos)]).codes == [qos]
    return sub


def test_topic_alias_from_client(broker, raws, watcher_for):
    sub = _subscriber(broker, raws, "alias/#")
    pub = raws(broker, 5)
    ack = pub.connect("aliaser")
    assert ack.props.get(raw.TOPIC_ALIAS_MAXIMUM, 0) >= 2
    pub.publish_acked("alias/one", b"set", props=[(raw.TOPIC_ALIAS, 1)])
    pub.publish_acked("", b"use", props=[(raw.TOPIC_ALIAS, 1)])  # [MQTT-3.3.2-12]
    pub.publish_acked("alias/two", b"remap", props=[(raw.TOPIC_ALIAS, 1)])
    pub.publish_acked("", b"use-again", props=[(raw.TOPIC_ALIAS, 1)])
    got = [sub.recv_publish() for _ in range(4)]
    # Subscribers see the full topic, never the publisher's alias (it is per connection).
    assert [(m.topic, m.payload) for m in got] == [
        ("alias/one", b"set"), ("alias/one", b"use"), ("alias/two", b"remap"),
        ("alias/two", b"use-again")]
    assert all(raw.TOPIC_ALIAS not in m.props for m in got)


@pytest.mark.parametrize("alias", ["zero", "over_maximum"])
def test_invalid_topic_alias_disconnects_0x94(broker, raws, watcher_for, alias):
    watcher = watcher_for(broker)
    pub = raws(broker, 5)
    ack = pub.connect("bad-alias")
    maximum = ack.props.get(raw.TOPIC_ALIAS_MAXIMUM, 0)
    value = 0 if alias == "zero" else maximum + 1
    pub.publish("alias/t", b"x", qos=0, props=[(raw.TOPIC_ALIAS, value)])
    # [MQTT-3.3.2-8] / [MQTT-3.3.2-9]: 0x94 Topic Alias invalid. mosquitto answers alias 0
    # with 0x81 Malformed Packet instead.
    pub.expect_disconnect(0x81 if IS_MOSQUITTO and value == 0 else 0x94)
    watcher.check()


def test_unknown_topic_alias_is_protocol_error(broker, raws, watcher_for):
    watcher = watcher_for(broker)
    pub = _conn(broker, raws, "unknown-alias")
    pub.publish("", b"x", qos=0, props=[(raw.TOPIC_ALIAS, 3)])  # never set
    pub.expect_disconnect(0x82)  # section 3.3.2.3.4: Protocol Error
    watcher.check()


def test_message_expiry_forwarded_as_remaining_time(broker, raws):
    sub = _subscriber(broker, raws, "exp/#")
    pub = _conn(broker, raws, "pub")
    pub.publish_acked("exp/live", b"live", props=[(raw.MESSAGE_EXPIRY_INTERVAL, 60)])
    pub.publish_acked("exp/none", b"forever")
    live, forever = sub.recv_publish(), sub.recv_publish()
    assert 0 < live.props.get(raw.MESSAGE_EXPIRY_INTERVAL) <= 60  # [MQTT-3.3.2-6]
    assert raw.MESSAGE_EXPIRY_INTERVAL not in forever.props


def test_message_expiry_counts_down_while_queued(broker, raws):
    session = [(raw.SESSION_EXPIRY_INTERVAL, LONG_EXPIRY)]
    sub = _subscriber(broker, raws, "eq/#", client_id="sleeper", clean=False, props=session)
    sub.disconnect()
    pub = _conn(broker, raws, "pub")
    pub.publish_acked("eq/short", b"short", props=[(raw.MESSAGE_EXPIRY_INTERVAL, 1)])
    pub.publish_acked("eq/long", b"long", props=[(raw.MESSAGE_EXPIRY_INTERVAL, 60)])
    time.sleep(2.2)
    sub = raws(broker, 5)
    assert sub.connect("sleeper", clean=False, props=session).session_present is True
    msg = sub.recv_publish()
    # [MQTT-3.3.2-5]: the expired message is not delivered; [MQTT-3.3.2-6]: the other one
    # carries the time it has left.
    assert msg.payload == b"long"
    assert 0 < msg.props.get(raw.MESSAGE_EXPIRY_INTERVAL) <= 58
    sub.expect_nothing(0.3)


def test_publish_properties_forwarded_in_order(broker, raws):
    sub = _subscriber(broker, raws, "props/t")
    pub = _conn(broker, raws, "pub")
    user = [("a", "1"), ("b", "2"), ("a", "3"), ("a", "1")]
    props = [(raw.PAYLOAD_FORMAT_INDICATOR, 1), (raw.CONTENT_TYPE, "application/json"),
             (raw.RESPONSE_TOPIC, "props/reply"), (raw.CORRELATION_DATA, b"\x00\x01corr\xff")]
    props += [(raw.USER_PROPERTY, pair) for pair in user]
    pub.publish_acked("props/t", b'{"v": 1}', props=props)
    msg = sub.recv_publish()
    assert msg.payload == b'{"v": 1}'
    assert msg.props.get(raw.PAYLOAD_FORMAT_INDICATOR) == 1  # [MQTT-3.3.2-4]
    assert msg.props.get(raw.CONTENT_TYPE) == "application/json"  # [MQTT-3.3.2-20]
    assert msg.props.get(raw.RESPONSE_TOPIC) == "props/reply"  # [MQTT-3.3.2-15]
    assert msg.props.get(raw.CORRELATION_DATA) == b"\x00\x01corr\xff"  # [MQTT-3.3.2-16]
    assert msg.props.get_all(raw.USER_PROPERTY) == user  # [MQTT-3.3.2-17], [MQTT-3.3.2-18]


def test_v311_subscriber_gets_v5_message_without_properties(broker, raws):
    sub = raws(broker, 4)
    assert sub.connect("old").rc == 0
    assert sub.subscribe([("mix/t", 1)]).codes == [1]
    pub = _conn(broker, raws, "pub")
    pub.publish_acked("mix/t", b"payload", props=[(raw.USER_PROPERTY, ("k", "v")),
                                                  (raw.CONTENT_TYPE, "text/plain")])
    msg = sub.recv_publish()
    assert (msg.topic, msg.payload, msg.qos) == ("mix/t", b"payload", 1)


@pytest.mark.parametrize("qos", [0, 1])
def test_broker_respects_client_maximum_packet_size(broker, raws, qos):
    sub = _subscriber(broker, raws, "mps/t", qos=qos, props=[(raw.MAXIMUM_PACKET_SIZE, 200)])
    pub = _conn(broker, raws, "pub")
    pub.publish_acked("mps/t", b"x" * 500)
    pub.publish_acked("mps/t", b"small")
    # [MQTT-3.1.2-25]: a packet over the client's Maximum Packet Size is discarded, not sent.
    msg = sub.recv_publish()
    assert msg.payload == b"small"
    assert msg.size <= 200
    sub.expect_nothing(0.3)


def test_request_problem_information_0_suppresses_reason_strings(broker, raws):
    conn = _conn(broker, raws, "quiet", props=[(raw.REQUEST_PROBLEM_INFORMATION, 0)])
    ack = conn.unsubscribe(["never/subscribed"])
    assert ack.codes == [0x11]
    # [MQTT-3.1.2-29]: no Reason String / User Property except on PUBLISH, CONNACK, DISCONNECT.
    assert raw.REASON_STRING not in ack.props and raw.USER_PROPERTY not in ack.props
    puback = conn.publish_acked("nobody/listens", b"x", qos=1)
    assert puback.rc in (0x00, 0x10)
    assert raw.REASON_STRING not in puback.props and raw.USER_PROPERTY not in puback.props
    rec = conn.publish_acked("nobody/listens", b"x", qos=2)
    assert rec.rc in (0x00, 0x10)
    assert raw.REASON_STRING not in rec.props and raw.USER_PROPERTY not in rec.props


def test_authentication_method_without_auth_configured_gets_0x8c(broker, raws):
    conn = raws(broker, 5)
    ack = conn.connect("authy", props=[(raw.AUTHENTICATION_METHOD, "SCRAM-SHA-1"),
                                       (raw.AUTHENTICATION_DATA, b"client-first")])
    assert ack.rc == 0x8C  # Bad authentication method (section 4.12)
    conn.wait_closed()


def test_retain_not_available(make_broker, raws, watcher_for):
    broker = make_broker(retain_available=False)
    watcher = watcher_for(broker)
    conn = raws(broker, 5)
    ack = conn.connect("retainer")
    assert ack.props.get(raw.RETAIN_AVAILABLE) == 0  # section 3.2.2.3.5
    conn.publish("ret/t", b"keep me", qos=1, retain=True)
    conn.expect_disconnect(0x9A)  # section 3.2.2.3.5: Retain not supported
    watcher.check()


def test_maximum_qos_1(make_broker, raws, watcher_for):
    broker = make_broker(maximum_qos=1)
    watcher = watcher_for(broker)
    conn = raws(broker, 5)
    ack = conn.connect("greedy")
    assert ack.props.get(raw.MAXIMUM_QOS) == 1  # section 3.2.2.3.4
    assert conn.subscribe([("mq/t", 2)]).codes == [1]  # granted at most the maximum
    conn.publish("mq/t", b"two", qos=2)
    conn.expect_disconnect(0x9B)  # [MQTT-3.2.2-11]: QoS not supported
    watcher.check()


def test_disconnect_setting_session_expiry_from_zero_is_protocol_error(broker, raws,
                                                                       watcher_for):
    watcher = watcher_for(broker)
    conn = _conn(broker, raws, "sneaky", props=[(raw.SESSION_EXPIRY_INTERVAL, 0)])
    conn.send(raw.disconnect(0, 5, props=[(raw.SESSION_EXPIRY_INTERVAL, 60)]))
    conn.expect_disconnect(0x82)  # [MQTT-3.14.2-2]
    watcher.check()


@pytest.mark.tern_only
def test_connack_advertises_configured_limits(make_broker, raws):
    broker = make_broker(receive_maximum=7, topic_alias_maximum=3, max_packet_size=5000)
    conn = raws(broker, 5)
    ack = conn.connect("curious")
    assert ack.rc == 0
    assert ack.props.get(raw.RECEIVE_MAXIMUM) == 7
    assert ack.props.get(raw.TOPIC_ALIAS_MAXIMUM) == 3
    assert ack.props.get(raw.MAXIMUM_PACKET_SIZE) == 5000


@pytest.mark.tern_only
def test_disabled_features_advertised_and_refused(make_broker, raws, clients):
    broker = make_broker(wildcard_subscriptions=False, shared_subscriptions=False,
                         subscription_identifiers=False)
    # The usual watcher subscribes with a wildcard, which this broker refuses: watch one topic.
    watcher = clients(broker, "features-watch", 5)
    assert watcher.subscribe("watch/one", 1) == [1]
    conn = raws(broker, 5)
    ack = conn.connect("features")
    assert ack.props.get(raw.WILDCARD_SUBSCRIPTION_AVAILABLE) == 0
    assert ack.props.get(raw.SHARED_SUBSCRIPTION_AVAILABLE) == 0
    assert ack.props.get(raw.SUBSCRIPTION_IDENTIFIER_AVAILABLE) == 0
    assert conn.subscribe([("a/+", 1), ("a/#", 1), ("a/b", 1)]).codes == [0xA2, 0xA2, 1]
    assert conn.subscribe([("$share/g/a/b", 1)]).codes == [0x9E]
    pid = conn.next_id()
    conn.send(raw.subscribe(pid, [("a/c", 1)], 5, props=[(raw.SUBSCRIPTION_IDENTIFIER, 5)]))
    conn.expect_disconnect(0xA1)  # Subscription Identifiers not supported
    publisher = clients(broker, "features-pub", 5)
    publisher.publish("watch/one", b"still here", qos=1)
    assert [m.payload for m in watcher.wait_for(1)] == [b"still here"]
