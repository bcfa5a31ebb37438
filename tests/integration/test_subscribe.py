"""SUBSCRIBE/UNSUBSCRIBE: wildcards, $-topics, overlaps, MQTT 5 options and shared subscriptions."""

import time

import pytest
from paho.mqtt.subscribeoptions import SubscribeOptions

import mqtt_raw as raw

TOPICS = ["a", "a/b", "a/b/c", "a/x/c", "a/b/c/d", "a/c", "a//c", "ab", "b/a", "/a", "a/"]

# filter -> the TOPICS it matches ([MQTT-4.7.1-2], [MQTT-4.7.1-3], section 4.7).
MATCHES = {
    "a/+/c": {"a/b/c", "a/x/c", "a//c"},
    "a/#": {"a", "a/b", "a/b/c", "a/x/c", "a/b/c/d", "a/c", "a//c", "a/"},
    "+": {"a", "ab"},
    "+/+": {"a/b", "a/c", "b/a", "/a", "a/"},
    "#": set(TOPICS),
    "a/+": {"a/b", "a/c", "a/"},
    "/+": {"/a"},
    "+/b/#": {"a/b", "a/b/c", "a/b/c/d"},
    "a/b": {"a/b"},
}


def test_wildcard_matching(broker, clients, proto):
    subs = {}
    for n, topic_filter in enumerate(MATCHES):
        subs[topic_filter] = clients(broker, "wild-%d" % n, proto)
        assert subs[topic_filter].subscribe(topic_filter, 0) == [0]
    pub = clients(broker, "pub", proto)
    for topic in TOPICS:
        pub.publish(topic, topic.encode(), qos=0)
    pub.publish("end", b"", qos=1)
    time.sleep(0.3)
    for topic_filter, sub in subs.items():
        got = [m.topic for m in sub.drain(0.05)]
        assert sorted(got) == sorted(MATCHES[topic_filter] | (
            {"end"} if topic_filter in ("#", "+") else set())), topic_filter


def test_dollar_topics_not_matched_by_leading_wildcard(broker, clients, proto):
    wild = clients(broker, "wild", proto)
    assert wild.subscribe([("#", 0), ("+/a", 0), ("+/+", 0)]) == [0, 0, 0]
    dollar = clients(broker, "dollar", proto)
    assert dollar.subscribe([("$foo/#", 0)]) == [0]
    plus = clients(broker, "plus", proto)
    assert plus.subscribe([("$foo/+", 0)]) == [0]
    pub = clients(broker, "pub", proto)
    pub.publish("$foo/a", b"dollar", qos=1)
    pub.publish("foo/a", b"plain", qos=1)
    # [MQTT-4.7.2-1]: # and + at the first level do not match topics starting with $.
    got = wild.drain(0.3)  # overlapping filters: one or more copies of foo/a only
    assert {(m.topic, m.payload) for m in got} == {("foo/a", b"plain")}
    assert [(m.topic, m.payload) for m in dollar.wait_for(1)] == [("$foo/a", b"dollar")]
    assert [(m.topic, m.payload) for m in plus.wait_for(1)] == [("$foo/a", b"dollar")]


def test_overlapping_subscriptions_deliver_max_qos(broker, clients, proto):
    sub = clients(broker, "overlap", proto)
    assert sub.subscribe([("ov/#", 0), ("ov/t", 2), ("ov/+", 1)]) == [0, 2, 1]
    pub = clients(broker, "pub", proto)
    pub.publish("ov/t", b"x", qos=2)
    got = sub.drain(0.4)
    # [MQTT-3.3.4-2]: delivered respecting the maximum QoS of all matching subscriptions.
    assert max(m.qos for m in got) == 2
    assert all(m.payload == b"x" for m in got)


@pytest.mark.tern_only  # the spec allows one copy per subscription; tern sends one
def test_overlapping_subscriptions_deliver_one_copy(broker, clients, proto):
    sub = clients(broker, "overlap", proto)
    assert sub.subscribe([("ov/#", 0), ("ov/t", 2), ("ov/+", 1)]) == [0, 2, 1]
    pub = clients(broker, "pub", proto)
    pub.publish("ov/t", b"x", qos=2)
    got = sub.drain(0.4)
    assert [(m.topic, m.payload, m.qos) for m in got] == [("ov/t", b"x", 2)]


def test_resubscribe_replaces_subscription(broker, clients, proto):
    sub = clients(broker, "resub", proto)
    assert sub.subscribe("rs/t", 0) == [0]
    assert sub.subscribe("rs/t", 2) == [2]  # [MQTT-3.8.4-3]: replaces, not adds
    pub = clients(broker, "pub", proto)
    pub.publish("rs/t", b"x", qos=2)
    got = sub.drain(0.3)
    assert [(m.payload, m.qos) for m in got] == [(b"x", 2)]


def test_unsubscribe_stops_delivery(broker, clients, proto):
    sub = clients(broker, "unsub", proto)
    assert sub.subscribe([("un/a", 1), ("un/b", 1)]) == [1, 1]
    pub = clients(broker, "pub", proto)
    pub.publish("un/a", b"before", qos=1)
    assert sub.wait_one().payload == b"before"
    sub.unsubscribe("un/a")
    pub.publish("un/a", b"after", qos=1)
    pub.publish("un/b", b"still", qos=1)
    got = sub.wait_for(1)
    assert [(m.topic, m.payload) for m in got] == [("un/b", b"still")]
    sub.expect_none(0.2)


def test_v5_unsuback_reason_codes(broker, raws):
    conn = raws(broker, 5)
    assert conn.connect("unsuback").rc == 0
    assert conn.subscribe([("us/a", 1)]).codes == [1]
    ack = conn.unsubscribe(["us/a", "us/never"])
    assert ack.codes == [0x00, 0x11]  # [MQTT-3.11.3-1]: 0x11 No subscription existed
    assert conn.unsubscribe(["us/a"]).codes == [0x11]


def test_v311_unsuback_has_no_payload(broker, raws):
    conn = raws(broker, 4)
    assert conn.connect("unsuback").rc == 0
    ack = conn.unsubscribe(["us/never"])
    assert ack.codes == [] and ack.raw_body == raw.u16(ack.packet_id)  # [MQTT-3.11.2-1]


def _copies(conn, settle=0.3):
    got = []
    while True:
        try:
            got.append(conn.recv_publish(settle))
        except TimeoutError:
            return got


def test_v5_subscription_identifiers_in_received_properties(broker, raws):
    sub = raws(broker, 5)
    assert sub.connect("subid").rc == 0
    assert sub.subscribe([("sid/+", 1)], props=[(raw.SUBSCRIPTION_IDENTIFIER, 7)]).codes == [1]
    assert sub.subscribe([("sid/#", 1)],
                         props=[(raw.SUBSCRIPTION_IDENTIFIER, 300)]).codes == [1]
    assert sub.subscribe([("other/t", 1)]).codes == [1]
    other = raws(broker, 5)
    assert other.connect("plain").rc == 0
    assert other.subscribe([("sid/+", 1)]).codes == [1]
    pub = raws(broker, 5)
    assert pub.connect("pub").rc == 0

    pub.publish_acked("sid/x/y", b"deep")
    assert [m.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) for m in _copies(sub)] == [[300]]
    pub.publish_acked("other/t", b"none")
    assert [m.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) for m in _copies(sub)] == [[]]
    pub.publish_acked("sid/x", b"both")
    copies = _copies(sub)
    # [MQTT-3.3.4-3]: the identifier of each matching subscription; [MQTT-3.3.4-4]: all of
    # them when one copy serves several subscriptions (mosquitto sends one copy per match).
    ids = [m.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) for m in copies]
    assert all(ids) and sorted(i for group in ids for i in group) == [7, 300], ids
    assert all(m.payload == b"both" for m in copies)
    plain = other.recv_publish()
    assert plain.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) == []


@pytest.mark.tern_only  # tern sends one copy carrying every matching identifier
def test_v5_one_copy_carries_all_subscription_identifiers(broker, raws):
    sub = raws(broker, 5)
    assert sub.connect("subid").rc == 0
    assert sub.subscribe([("sid/+", 1)], props=[(raw.SUBSCRIPTION_IDENTIFIER, 7)]).codes == [1]
    assert sub.subscribe([("sid/#", 2)],
                         props=[(raw.SUBSCRIPTION_IDENTIFIER, 300)]).codes == [2]
    pub = raws(broker, 5)
    assert pub.connect("pub").rc == 0
    pub.publish_acked("sid/x", b"both", qos=2)
    copies = _copies(sub)
    assert len(copies) == 1, copies
    assert copies[0].qos == 2
    assert sorted(copies[0].props.get_all(raw.SUBSCRIPTION_IDENTIFIER)) == [7, 300]


def test_v5_no_local(broker, clients):
    me = clients(broker, "me", 5)
    assert me.subscribe("nl/t", options=SubscribeOptions(qos=1, noLocal=True)) == [1]
    assert me.subscribe("nl/all", options=SubscribeOptions(qos=1, noLocal=False)) == [1]
    me.publish("nl/t", b"mine", qos=1)
    me.publish("nl/all", b"mine-echo", qos=1)
    other = clients(broker, "other", 5)
    other.publish("nl/t", b"theirs", qos=1)
    got = me.wait_for(2)
    # [MQTT-3.8.3-3]: no-local: never forwarded to the connection that published it.
    assert sorted(m.payload for m in got) == [b"mine-echo", b"theirs"]
    me.expect_none(0.2)


def test_v5_retain_as_published_on_live_messages(broker, clients):
    rap = clients(broker, "rap", 5)
    assert rap.subscribe("rap/t", options=SubscribeOptions(qos=1, retainAsPublished=True)) == [1]
    plain = clients(broker, "plain", 5)
    assert plain.subscribe("rap/t", options=SubscribeOptions(qos=1)) == [1]
    pub = clients(broker, "pub", 5)
    pub.publish("rap/t", b"kept", qos=1, retain=True)
    pub.publish("rap/t", b"live", qos=1, retain=False)
    # [MQTT-3.3.1-12] / [MQTT-3.3.1-13]
    assert [(m.payload, m.retain) for m in rap.wait_for(2)] == [(b"kept", True),
                                                              (b"live", False)]
    assert [(m.payload, m.retain) for m in plain.wait_for(2)] == [(b"kept", False),
                                                                (b"live", False)]


@pytest.mark.parametrize("handling", [0, 1, 2])
def test_v5_retain_handling(broker, clients, handling):
    pub = clients(broker, "pub", 5)
    pub.publish("rh/t", b"stored", qos=1, retain=True)
    sub = clients(broker, "sub", 5)
    opts = SubscribeOptions(qos=1, retainHandling=handling)
    assert sub.subscribe("rh/t", options=opts) == [1]
    first = sub.drain(0.3)
    assert sub.subscribe("rh/t", options=opts) == [1]  # the subscription exists now
    second = sub.drain(0.3)
    # [MQTT-3.3.1-9] 0: send on every subscribe; [MQTT-3.3.1-10] 1: only if new; 2: never.
    expected_first = [(b"stored", True)] if handling in (0, 1) else []
    expected_second = [(b"stored", True)] if handling == 0 else []
    assert [(m.payload, m.retain) for m in first] == expected_first
    assert [(m.payload, m.retain) for m in second] == expected_second


def test_v5_shared_subscription_distributes_messages(broker, clients):
    members = [clients(broker, "member-%d" % i, 5) for i in range(2)]
    for member in members:
        assert member.subscribe("$share/grp/sh/t", 1) == [1]
    normal = clients(broker, "normal", 5)
    assert normal.subscribe("sh/t", 1) == [1]
    pub = clients(broker, "pub", 5)
    infos = [pub.publish("sh/t", b"%d" % i, qos=1, wait=False) for i in range(100)]
    for info in infos:
        info.wait_for_publish(10)
    assert [int(m.payload) for m in normal.wait_for(100)] == list(range(100))
    got = [member.drain(0.4) for member in members]
    counts = [len(g) for g in got]
    received = sorted(int(m.payload) for g in got for m in g)
    # [MQTT-4.8.2]: each message goes to exactly one session of the group.
    assert received == list(range(100)), counts
    assert min(counts) >= 25, counts  # roughly balanced
    assert all(m.topic == "sh/t" for g in got for m in g)


@pytest.mark.tern_only  # mosquitto 2.0.11 sends retained messages to new shared subscriptions
def test_v5_shared_subscription_gets_no_retained_on_subscribe(broker, clients):
    pub = clients(broker, "pub", 5)
    pub.publish("shr/t", b"retained", qos=1, retain=True)
    member = clients(broker, "member", 5)
    assert member.subscribe("$share/g/shr/t", 1) == [1]
    member.expect_none(0.3)  # section 4.8.2: retained messages are not sent to shared subs
    pub.publish("shr/t", b"live", qos=1)
    assert member.wait_one().payload == b"live"


def test_v5_shared_subscription_unsubscribe(broker, clients):
    members = [clients(broker, "member-%d" % i, 5) for i in range(2)]
    for member in members:
        assert member.subscribe("$share/g/shu/t", 1) == [1]
    assert members[0].unsubscribe("$share/g/shu/t") == [0]
    pub = clients(broker, "pub", 5)
    for i in range(6):
        pub.publish("shu/t", b"%d" % i, qos=1)
    assert [int(m.payload) for m in members[1].wait_for(6)] == list(range(6))
    members[0].expect_none(0.2)
