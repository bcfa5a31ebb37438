"""PUBLISH at QoS 0/1/2: delivery, granted QoS, ordering, redelivery, exactly once, flow control."""

import pytest

import mqtt_raw as raw
from helpers import persistent_connect


@pytest.mark.parametrize("pub_qos", [0, 1, 2])
@pytest.mark.parametrize("sub_qos", [0, 1, 2])
def test_delivered_at_min_of_publish_and_granted_qos(broker, clients, proto, pub_qos, sub_qos):
    sub = clients(broker, "sub", proto)
    assert sub.subscribe("q/t", sub_qos) == [sub_qos]  # [MQTT-3.9.3-1]
    pub = clients(broker, "pub", proto)
    pub.publish("q/t", b"payload-%d" % pub_qos, qos=pub_qos)
    msg = sub.wait_one()
    assert (msg.topic, msg.payload) == ("q/t", b"payload-%d" % pub_qos)
    assert msg.qos == min(pub_qos, sub_qos)  # [MQTT-3.8.4-6] / [MQTT-3.3.5-1]
    assert msg.retain is False
    sub.expect_none(0.15)


def test_suback_grants_each_filter_in_order(broker, raws, proto):
    conn = raws(broker, proto)
    assert conn.connect("multi").rc == 0
    ack = conn.subscribe([("m/2", 2), ("m/0", 0), ("m/1", 1)])
    assert ack.codes == [2, 0, 1]  # [MQTT-3.8.4-5]: one code per filter, same order


def test_qos0_publish_has_no_packet_id_after_downgrade(broker, raws, proto):
    sub = raws(broker, proto)
    assert sub.connect("down").rc == 0
    assert sub.subscribe([("down/t", 0)]).codes == [0]
    pub = raws(broker, proto)
    assert pub.connect("pub").rc == 0
    pub.publish_acked("down/t", b"two", qos=2)
    msg = sub.recv_type(raw.PUBLISH)
    assert (msg.qos, msg.packet_id, msg.dup, msg.payload) == (0, None, False, b"two")


def test_qos2_flow_from_broker_to_subscriber(broker, raws, clients, proto):
    sub = raws(broker, proto)
    assert sub.connect("q2sub").rc == 0
    assert sub.subscribe([("q2/t", 2)]).codes == [2]
    pub = clients(broker, "pub", proto)
    pub.publish("q2/t", b"exactly", qos=2)
    msg = sub.recv_type(raw.PUBLISH)
    assert (msg.qos, msg.dup, msg.payload) == (2, False, b"exactly")
    assert msg.packet_id != 0  # [MQTT-2.3.1-1]
    sub.send(raw.pubrec(msg.packet_id, proto=proto))
    rel = sub.recv_type(raw.PUBREL)
    assert rel.packet_id == msg.packet_id and rel.flags == 0x02  # [MQTT-3.6.1-1]
    sub.send(raw.pubcomp(msg.packet_id, proto=proto))
    sub.expect_nothing(0.2)


def test_1000_qos1_messages_arrive_in_order(broker, clients, proto):
    sub = clients(broker, "sub", proto)
    assert sub.subscribe("order/t", 1) == [1]
    pub = clients(broker, "pub", proto)
    infos = [pub.publish("order/t", b"%d" % i, qos=1, wait=False) for i in range(1000)]
    for info in infos:
        info.wait_for_publish(10)
    got = sub.wait_for(1000, timeout=20)
    # [MQTT-4.6.0-6]: an ordered topic keeps the publisher's order.
    assert [int(m.payload) for m in got] == list(range(1000))
    assert all(m.qos == 1 for m in got)


def test_fan_in_fan_out_many_clients(broker, clients, proto):
    subs = [clients(broker, "fan-sub-%d" % i, proto) for i in range(4)]
    for sub in subs:
        assert sub.subscribe("fan/#", 1) == [1]
    pubs = [clients(broker, "fan-pub-%d" % i, proto) for i in range(6)]
    infos = []
    for i in range(25):
        for n, pub in enumerate(pubs):
            infos.append(pub.publish("fan/%d" % n, b"%d" % i, qos=1, wait=False))
    for info in infos:
        info.wait_for_publish(10)
    for sub in subs:
        got = sub.wait_for(150, timeout=15)
        per_topic = {}
        for m in got:
            per_topic.setdefault(m.topic, []).append(int(m.payload))
        # Each publisher's own order is kept for every subscriber.
        assert per_topic == {"fan/%d" % n: list(range(25)) for n in range(6)}
        sub.expect_none(0.1)


@pytest.mark.parametrize("qos", [1, 2])
def test_unacked_publish_redelivered_with_dup_after_reconnect(broker, raws, clients, proto, qos):
    sub = raws(broker, proto)
    persistent_connect(sub, "redeliver", clean=False)
    assert sub.subscribe([("re/t", qos)]).codes == [qos]
    pub = clients(broker, "pub", proto)
    pub.publish("re/t", b"unacked", qos=qos)
    first = sub.recv_type(raw.PUBLISH)
    assert (first.qos, first.dup, first.payload) == (qos, False, b"unacked")
    sub.close()  # no PUBACK/PUBREC

    sub = raws(broker, proto)
    ack = persistent_connect(sub, "redeliver", clean=False)
    assert ack.session_present is True
    again = sub.recv_type(raw.PUBLISH)
    # [MQTT-4.4.0-1] same packet id; [MQTT-3.3.1-1] DUP set on a re-delivery.
    assert (again.topic, again.payload, again.qos) == ("re/t", b"unacked", qos)
    assert again.dup is True
    assert again.packet_id == first.packet_id
    sub.ack(again)
    sub.expect_nothing(0.3)


def test_qos2_pubrel_resent_after_reconnect_and_delivered_once(broker, raws, clients, proto):
    sub = raws(broker, proto)
    persistent_connect(sub, "once", clean=False)
    assert sub.subscribe([("once/t", 2)]).codes == [2]
    pub = clients(broker, "pub", proto)
    pub.publish("once/t", b"exactly-once", qos=2)
    msg = sub.recv_type(raw.PUBLISH)
    sub.send(raw.pubrec(msg.packet_id, proto=proto))
    assert sub.recv_type(raw.PUBREL).packet_id == msg.packet_id
    sub.close()  # no PUBCOMP

    sub = raws(broker, proto)
    assert persistent_connect(sub, "once", clean=False).session_present is True
    rel = sub.recv()
    # [MQTT-4.4.0-1]: the PUBREL is re-sent, not the PUBLISH (already received).
    assert rel.type == raw.PUBREL and rel.packet_id == msg.packet_id, rel
    sub.send(raw.pubcomp(msg.packet_id, proto=proto))
    sub.expect_nothing(0.3)


def test_qos2_duplicate_publish_from_client_delivered_once(broker, raws, clients, proto):
    sub = clients(broker, "sub", proto)
    assert sub.subscribe("dup/t", 2) == [2]
    pub = raws(broker, proto)
    persistent_connect(pub, "dup-pub", clean=False)
    pid = pub.publish("dup/t", b"one", qos=2)
    assert pub.recv_type(raw.PUBREC).packet_id == pid
    # Resent with DUP as if the PUBREC was lost: must not be delivered again [MQTT-4.3.3-10].
    pub.publish("dup/t", b"one", qos=2, dup=True, packet_id=pid)
    assert pub.recv_type(raw.PUBREC).packet_id == pid
    pub.close()
    pub = raws(broker, proto)
    assert persistent_connect(pub, "dup-pub", clean=False).session_present is True
    pub.send(raw.pubrel(pid, proto=proto))
    assert pub.recv_type(raw.PUBCOMP).packet_id == pid
    got = sub.wait_for(1)
    assert [(m.payload, m.qos) for m in got] == [(b"one", 2)]
    sub.expect_none(0.3)


def _receive_maximum_subscriber(broker, raws, clients, count):
    sub = raws(broker, 5)
    ack = sub.connect("rm", props=[(raw.RECEIVE_MAXIMUM, 5)])
    assert ack.rc == 0
    assert sub.subscribe([("rm/t", 1)]).codes == [1]
    pub = clients(broker, "pub", 5)
    for i in range(count):
        pub.publish("rm/t", b"%d" % i, qos=1, wait=False)
    return sub


def test_v5_broker_respects_client_receive_maximum(broker, raws, clients):
    sub = _receive_maximum_subscriber(broker, raws, clients, 12)
    # [MQTT-3.3.4-9]: never more than Receive Maximum unacknowledged QoS 1 PUBLISHes.
    window = [sub.recv_type(raw.PUBLISH) for _ in range(5)]
    sub.expect_nothing(0.5)
    for m in window:
        sub.send(raw.puback(m.packet_id, proto=5))
    window += [sub.recv_publish() for _ in range(7)]
    assert [int(m.payload) for m in window] == list(range(12))
    sub.expect_nothing(0.2)


@pytest.mark.tern_only  # mosquitto 2.0.11 sends a whole new window after the first PUBACK
def test_v5_receive_maximum_window_slides_one_per_ack(broker, raws, clients):
    sub = _receive_maximum_subscriber(broker, raws, clients, 20)
    outstanding = [sub.recv_type(raw.PUBLISH) for _ in range(5)]
    sub.expect_nothing(0.3)
    received = list(outstanding)
    while len(received) < 20:
        sub.send(raw.puback(outstanding.pop(0).packet_id, proto=5))
        nxt = sub.recv_type(raw.PUBLISH)  # exactly one slot freed, exactly one more sent
        outstanding.append(nxt)
        received.append(nxt)
        if len(received) < 20:
            sub.expect_nothing(0.05)
    assert [int(m.payload) for m in received] == list(range(20))
    for m in outstanding:
        sub.send(raw.puback(m.packet_id, proto=5))
    sub.expect_nothing(0.2)


def test_broker_max_inflight_limits_unacked_publishes(make_broker, raws, clients, proto):
    broker = make_broker(max_inflight=3)
    sub = raws(broker, proto)
    assert sub.connect("inflight").rc == 0
    assert sub.subscribe([("if/t", 1)]).codes == [1]
    pub = clients(broker, "pub", proto)
    for i in range(8):
        pub.publish("if/t", b"%d" % i, qos=1, wait=False)
    first = [sub.recv_type(raw.PUBLISH) for _ in range(3)]
    sub.expect_nothing(0.4)
    for m in first:
        sub.send(raw.puback(m.packet_id, proto=proto))
    rest = [sub.recv_publish() for _ in range(5)]
    assert [int(m.payload) for m in first + rest] == list(range(8))


@pytest.mark.tern_only  # mosquitto 2.0.11 answers PUBREC 0x97 instead of DISCONNECT 0x93
def test_v5_client_exceeding_receive_maximum_is_disconnected(make_broker, raws,
                                                             watcher_for):
    broker = make_broker(receive_maximum=4)
    watcher = watcher_for(broker)
    conn = raws(broker, 5)
    ack = conn.connect("greedy")
    limit = ack.props.get(raw.RECEIVE_MAXIMUM, 65535)
    assert limit == 4
    for _ in range(limit):
        pid = conn.publish("greedy/t", b"x", qos=2)
        assert conn.recv_type(raw.PUBREC).packet_id == pid  # never PUBREL: stays in flight
    conn.publish("greedy/t", b"one too many", qos=2)
    conn.expect_disconnect(0x93)  # section 3.3.4: Receive Maximum exceeded
    watcher.check()
