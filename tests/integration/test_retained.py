"""Retained messages: set, replace, clear, delivery flags, QoS, expiry and wildcard matching."""

import time

import mqtt_raw as raw
from mqtt_client import publish_props


def _fresh_subscriber(broker, clients, name, proto, topic_filter, qos=1):
    sub = clients(broker, name, proto)
    assert sub.subscribe(topic_filter, qos) == [qos]
    return sub


def test_retained_set_and_delivered_on_subscribe(broker, clients, proto):
    pub = clients(broker, "pub", proto)
    pub.publish("ret/t", b"v1", qos=1, retain=True)
    sub = _fresh_subscriber(broker, clients, "late", proto, "ret/t")
    msg = sub.wait_one()
    # [MQTT-3.3.1-6] sent on subscribe; [MQTT-3.3.1-8] with RETAIN = 1.
    assert (msg.topic, msg.payload, msg.retain, msg.qos) == ("ret/t", b"v1", True, 1)
    sub.expect_none(0.2)


def test_retained_replaced(broker, clients, proto):
    pub = clients(broker, "pub", proto)
    pub.publish("ret/t", b"v1", qos=1, retain=True)
    pub.publish("ret/t", b"v2", qos=1, retain=True)  # [MQTT-3.3.1-5]: replaces
    sub = _fresh_subscriber(broker, clients, "late", proto, "ret/t")
    assert [(m.payload, m.retain) for m in sub.drain(0.3)] == [(b"v2", True)]


def test_retained_cleared_by_empty_payload(broker, clients, proto):
    pub = clients(broker, "pub", proto)
    pub.publish("ret/t", b"v1", qos=1, retain=True)
    pub.publish("ret/t", b"", qos=1, retain=True)  # [MQTT-3.3.1-10] / [MQTT-3.3.1-11]
    sub = _fresh_subscriber(broker, clients, "late", proto, "ret/t")
    sub.expect_none(0.3)
    pub.publish("ret/t", b"v3", qos=1, retain=True)  # and it can be set again
    sub2 = _fresh_subscriber(broker, clients, "later", proto, "ret/t")
    assert [(m.payload, m.retain) for m in sub2.drain(0.3)] == [(b"v3", True)]


def test_live_message_has_retain_0_for_existing_subscriber(broker, clients, proto):
    sub = _fresh_subscriber(broker, clients, "live", proto, "ret/t")
    pub = clients(broker, "pub", proto)
    pub.publish("ret/t", b"live-retained", qos=1, retain=True)
    msg = sub.wait_one()
    # [MQTT-3.3.1-9] (3.1.1); MQTT 5 with Retain As Published = 0 [MQTT-3.3.1-12].
    assert (msg.payload, msg.retain) == (b"live-retained", False)


def test_retained_delivered_at_granted_qos(broker, clients, proto):
    pub = clients(broker, "pub", proto)
    pub.publish("rq/two", b"q2", qos=2, retain=True)
    pub.publish("rq/zero", b"q0", qos=0, retain=True)
    low = _fresh_subscriber(broker, clients, "low", proto, "rq/two", qos=0)
    assert [(m.payload, m.qos, m.retain) for m in low.drain(0.3)] == [(b"q2", 0, True)]
    high = _fresh_subscriber(broker, clients, "high", proto, "rq/#", qos=2)
    got = sorted((m.payload, m.qos, m.retain) for m in high.drain(0.3))
    assert got == [(b"q0", 0, True), (b"q2", 2, True)]


def test_wildcard_subscription_gets_all_matching_retained(broker, clients, proto):
    pub = clients(broker, "pub", proto)
    for topic in ("w/a", "w/b", "w/c/d", "x/a", "w"):
        pub.publish(topic, topic.encode(), qos=1, retain=True)
    multi = _fresh_subscriber(broker, clients, "multi", proto, "w/#")
    got = multi.drain(0.3)
    assert sorted(m.topic for m in got) == ["w", "w/a", "w/b", "w/c/d"]
    assert all(m.retain and m.payload == m.topic.encode() for m in got)
    single = _fresh_subscriber(broker, clients, "single", proto, "+/a")
    assert sorted(m.topic for m in single.drain(0.3)) == ["w/a", "x/a"]


def test_retained_survives_publisher_disconnect(broker, clients, raws, proto):
    pub = raws(broker, proto)
    assert pub.connect("gone").rc == 0
    pub.publish_acked("rs/t", b"kept", qos=1, retain=True)
    pub.disconnect()
    sub = _fresh_subscriber(broker, clients, "late", proto, "rs/t")
    assert [(m.payload, m.retain) for m in sub.drain(0.3)] == [(b"kept", True)]


def test_v5_retained_message_expiry(broker, clients):
    pub = clients(broker, "pub", 5)
    pub.publish("rx/short", b"short", qos=1, retain=True,
                props=publish_props(MessageExpiryInterval=1))
    pub.publish("rx/long", b"long", qos=1, retain=True,
                props=publish_props(MessageExpiryInterval=60))
    early = _fresh_subscriber(broker, clients, "early", 5, "rx/#")
    got = {m.payload: m for m in early.drain(0.2)}
    assert sorted(got) == [b"long", b"short"]
    assert 0 < got[b"short"].prop("MessageExpiryInterval") <= 1
    time.sleep(2.0)
    # [MQTT-3.3.2-5]: an expired retained message is no longer sent.
    late = _fresh_subscriber(broker, clients, "late", 5, "rx/#")
    got = late.drain(0.3)
    assert [m.payload for m in got] == [b"long"]
    assert 0 < got[0].prop("MessageExpiryInterval") <= 58


def test_v5_retained_properties_kept(broker, raws):
    pub = raws(broker, 5)
    assert pub.connect("pub").rc == 0
    props = [(raw.CONTENT_TYPE, "text/plain"), (raw.USER_PROPERTY, ("k", "v"))]
    pub.publish_acked("rp/t", b"typed", qos=1, retain=True, props=props)
    sub = raws(broker, 5)
    assert sub.connect("sub").rc == 0
    assert sub.subscribe([("rp/t", 1)]).codes == [1]
    msg = sub.recv_publish()
    assert (msg.payload, msg.retain) == (b"typed", True)
    assert msg.props.get(raw.CONTENT_TYPE) == "text/plain"
    assert msg.props.get_all(raw.USER_PROPERTY) == [("k", "v")]
