"""Limits and hostile input: every abuse is refused exactly, and the broker keeps serving others.

Each test connects a well-behaved watcher first and checks it afterwards (Watcher.check: still
connected, a brand-new client can connect and its message reaches the watcher).
"""

import socket
import time

import pytest

import mqtt_raw as raw


def _connected(broker, raws, proto, client_id):
    conn = raws(broker, proto)
    ack = conn.connect(client_id)
    assert ack.rc == 0, ack
    return conn


# -- max_connections ----------------------------------------------------------------------------


@pytest.mark.tern_only  # mosquitto 2.0.11 does not enforce max_connections (fixed in 2.0.12)
def test_max_connections_refuses_extra_client(make_broker, raws, watcher_for, proto):
    broker = make_broker(max_connections=3)
    watcher = watcher_for(broker)  # connection 1
    kept = [_connected(broker, raws, proto, "c%d" % i) for i in range(2)]  # 2 and 3
    extra = raws(broker, proto)
    try:
        extra.send(raw.connect("extra", proto=proto))
        got = extra.wait_closed()
    except (ConnectionResetError, BrokenPipeError):
        got = []
    assert all(p.type == raw.CONNACK and p.rc != 0 for p in got), got
    assert all(conn.is_open() for conn in kept)
    kept[0].disconnect()
    time.sleep(0.2)
    again = _connected(broker, raws, proto, "again")  # a slot was freed
    assert again.is_open()
    assert watcher.client.connected.is_set()


@pytest.mark.tern_only  # the spec-appropriate refusal; mosquitto would close without CONNACK
def test_max_connections_connack_code(make_broker, raws, watcher_for, proto):
    broker = make_broker(max_connections=2)
    watcher_for(broker)
    _connected(broker, raws, proto, "only")
    extra = raws(broker, proto)
    ack = extra.connect("extra")
    assert ack.rc == (0x89 if proto == 5 else 0x03)  # Server busy / Server unavailable
    extra.wait_closed()


# -- max_packet_size ----------------------------------------------------------------------------


def _publish_of_size(total, proto, topic="big/t"):
    """A QoS 0 PUBLISH whose encoded size is exactly total bytes."""
    overhead = len(raw.publish(topic, b"", proto=proto))
    payload = b"z" * (total - overhead)
    for _ in range(3):  # the remaining-length field may grow by a byte
        pkt = raw.publish(topic, payload, proto=proto)
        payload = payload[:len(payload) - (len(pkt) - total)]
    pkt = raw.publish(topic, payload, proto=proto)
    assert len(pkt) == total
    return pkt


def test_publish_over_max_packet_size(make_broker, raws, watcher_for, proto):
    broker = make_broker(max_packet_size=1024)
    watcher = watcher_for(broker)
    sub = _connected(broker, raws, proto, "sub")
    assert sub.subscribe([("big/t", 0)]).codes == [0]
    conn = raws(broker, proto)
    ack = conn.connect("big")
    if proto == 5:
        assert ack.props.get(raw.MAXIMUM_PACKET_SIZE) == 1024  # section 3.2.2.3.6
    conn.send(_publish_of_size(1024, proto))  # exactly at the limit: accepted
    assert sub.recv_publish().size == 1024
    conn.send(_publish_of_size(1100, proto))
    conn.expect_disconnect(0x95)  # v5: Packet too large; 3.1.1: close
    sub.expect_nothing(0.2)
    watcher.check()


@pytest.mark.tern_only  # mosquitto 2.0.11 leaves the fixed header out: accepts up to 1026 bytes
def test_publish_one_byte_over_max_packet_size(make_broker, raws, watcher_for, proto):
    broker = make_broker(max_packet_size=1024)
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, proto, "big")
    conn.send(_publish_of_size(1025, proto))  # the whole packet counts (section 3.2.2.3.6)
    conn.expect_disconnect(0x95)
    watcher.check()


# -- connect timeout ----------------------------------------------------------------------------


@pytest.mark.tern_only  # mosquitto has no configurable CONNECT timeout
@pytest.mark.parametrize("sends", [b"", b"\x10\x20\x00"], ids=["silent", "partial"])
def test_connect_timeout(make_broker, raws, watcher_for, sends):
    broker = make_broker(connect_timeout_ms=500)
    watcher = watcher_for(broker)
    conn = raws(broker, 4)
    start = time.monotonic()
    if sends:
        conn.send(sends)
    assert conn.wait_closed(timeout=3.0) == []
    elapsed = time.monotonic() - start
    assert 0.4 <= elapsed <= 1.5, elapsed
    watcher.check()


# -- max_subscriptions_per_client ---------------------------------------------------------------


@pytest.mark.tern_only  # mosquitto has no subscription quota
def test_max_subscriptions_per_client(make_broker, raws, watcher_for, proto):
    broker = make_broker(max_subscriptions_per_client=3)
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, proto, "subscriber")
    assert conn.subscribe([("ms/a", 1), ("ms/b", 1), ("ms/c", 1)]).codes == [1, 1, 1]
    refused = 0x97 if proto == 5 else 0x80  # Quota exceeded / Failure
    assert conn.subscribe([("ms/d", 1)]).codes == [refused]
    assert conn.subscribe([("ms/a", 2)]).codes == [2]  # replacing one is not a new one
    conn.unsubscribe(["ms/b"])
    assert conn.subscribe([("ms/e", 0)]).codes == [0]
    assert conn.is_open()
    watcher.check()


# -- topic length and levels --------------------------------------------------------------------


@pytest.mark.tern_only  # mosquitto has no topic length/level limits
@pytest.mark.parametrize("limit", ["length", "levels"])
def test_topic_over_limit_rejected(make_broker, raws, watcher_for, proto, limit):
    broker = make_broker(max_topic_length=32, max_topic_levels=4)
    watcher = watcher_for(broker)
    ok_topic = "a/b/c/d" if limit == "levels" else "t" * 32
    bad_topic = "a/b/c/d/e" if limit == "levels" else "t" * 33
    sub = _connected(broker, raws, proto, "sub")
    assert sub.subscribe([("#", 1)]).codes == [1]
    refused = 0x8F if proto == 5 else 0x80  # Topic Filter invalid / Failure
    assert sub.subscribe([(bad_topic, 1)]).codes == [refused]
    conn = _connected(broker, raws, proto, "pub")
    conn.publish_acked(ok_topic, b"fine")
    assert sub.recv_publish().topic == ok_topic
    # QoS 0 has no acknowledgement: v5 DISCONNECT 0x90 Topic Name invalid, 3.1.1 close.
    conn.publish(bad_topic, b"too long", qos=0)
    conn.expect_disconnect(0x90)
    conn = _connected(broker, raws, proto, "pub1")
    pid = conn.publish(bad_topic, b"too long", qos=1)
    if proto == 5:  # QoS 1: PUBACK 0x90 or DISCONNECT 0x90, never delivered
        pkt = conn.recv()
        assert pkt.rc == 0x90 and pkt.type in (raw.PUBACK, raw.DISCONNECT), pkt
        if pkt.type == raw.PUBACK:
            assert pkt.packet_id == pid
    else:
        conn.wait_closed()
    sub.expect_nothing(0.2)
    watcher.check()


# -- protocol violations ------------------------------------------------------------------------


def test_second_connect_is_closed(broker, raws, watcher_for, proto):
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, proto, "twice")
    conn.send(raw.connect("twice", proto=proto))
    got = conn.wait_closed()  # [MQTT-3.1.0-2]
    assert all(p.type == raw.DISCONNECT and p.rc == 0x82 for p in got), got
    watcher.check()


@pytest.mark.tern_only  # mosquitto 2.0.11 closes without saying why
def test_v5_second_connect_gets_disconnect_0x82(broker, raws, watcher_for):
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, 5, "twice")
    conn.send(raw.connect("twice", proto=5))
    conn.expect_disconnect(0x82)  # [MQTT-3.1.0-2]: Protocol Error
    watcher.check()


def test_publish_before_connect_is_closed(broker, raws, watcher_for, proto):
    watcher = watcher_for(broker)
    sub = _connected(broker, raws, proto, "sub")
    assert sub.subscribe([("early/t", 0)]).codes == [0]
    conn = raws(broker, proto)
    conn.send(raw.publish("early/t", b"no connect", proto=proto))
    assert conn.wait_closed() == []  # [MQTT-3.1.0-1]: first packet must be CONNECT
    sub.expect_nothing(0.2)
    watcher.check()


@pytest.mark.parametrize("topic", [b"bad\xff\xfeutf8", b"nul\x00char", b"surrogate\xed\xa0\x80"],
                         ids=["invalid_utf8", "nul", "surrogate"])
def test_malformed_topic_name_is_closed(broker, raws, watcher_for, proto, topic):
    watcher = watcher_for(broker)
    sub = _connected(broker, raws, proto, "sub")
    assert sub.subscribe([("#", 0)]).codes == [0]
    conn = _connected(broker, raws, proto, "bad-topic")
    conn.send(raw.publish(topic, b"x", proto=proto))
    conn.expect_disconnect(0x81)  # [MQTT-1.5.4-1] / [MQTT-1.5.4-2]: Malformed Packet
    sub.expect_nothing(0.2)
    watcher.check()


@pytest.mark.parametrize("topic", ["wild/+", "wild/#"])
def test_wildcard_in_topic_name_is_closed(broker, raws, watcher_for, proto, topic):
    watcher = watcher_for(broker)
    sub = _connected(broker, raws, proto, "sub")
    assert sub.subscribe([("wild/#", 0)]).codes == [0]
    conn = _connected(broker, raws, proto, "wild-pub")
    conn.publish(topic, b"x", qos=0)
    got = conn.wait_closed()  # [MQTT-3.3.2-2]
    # v5: Protocol Error (mosquitto) or Topic Name invalid.
    assert all(p.type == raw.DISCONNECT and p.rc in (0x82, 0x90) for p in got), got
    if proto == 5:
        assert got, "v5: expected a DISCONNECT before the close"
    sub.expect_nothing(0.2)
    watcher.check()


def test_remaining_length_over_four_bytes_is_closed(broker, raws, watcher_for, proto):
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, proto, "long-length")
    conn.send(b"\x30\xff\xff\xff\xff\x01")
    got = conn.wait_closed()  # section 2.1.4: at most four bytes
    assert all(p.type == raw.DISCONNECT and p.rc == 0x81 for p in got), got
    watcher.check()


@pytest.mark.parametrize("garbage", [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)),
                                     b"\x00" * 64], ids=["http", "bytes", "zeros"])
def test_garbage_before_connect_is_closed(broker, raws, watcher_for, garbage):
    watcher = watcher_for(broker)
    conn = raws(broker, 4)
    try:
        conn.send(garbage)
        got = conn.wait_closed()
    except (ConnectionResetError, BrokenPipeError):
        got = []
    assert all(p.type == raw.CONNACK and p.rc != 0 for p in got), got
    watcher.check()


INVALID_PACKETS = {
    "type0": lambda proto: b"\x00\x00",  # reserved packet type 0
    "auth": lambda proto: b"\xf0\x00",  # AUTH: reserved in 3.1.1; v5 without auth method
    # SUBSCRIBE with fixed-header flags 0 instead of 2 [MQTT-3.8.1-1]
    "subscribe_flags": lambda proto: b"\x80" + raw.subscribe(1, [("a", 0)], proto)[1:],
    # SUBSCRIBE without any topic filter [MQTT-3.8.3-3]
    "subscribe_empty": lambda proto: raw.packet(raw.SUBSCRIBE, 2, raw.u16(1) + (
        b"\x00" if proto == 5 else b"")),
    "subscribe_qos3": lambda proto: raw.subscribe(1, [("a", 3)], proto),  # [MQTT-3.8.3-4]
    "subscribe_reserved_bits": lambda proto: raw.subscribe(1, [("a", 0xC0)], proto),
    # UNSUBSCRIBE without any topic filter [MQTT-3.10.3-2]
    "unsubscribe_empty": lambda proto: raw.packet(raw.UNSUBSCRIBE, 2, raw.u16(1) + (
        b"\x00" if proto == 5 else b"")),
    "publish_qos3": lambda proto: raw.packet(raw.PUBLISH, 0x06, raw.mqtt_str("t") + raw.u16(1) + (
        b"\x00" if proto == 5 else b"") + b"x"),  # [MQTT-3.3.1-4]
    "connack": lambda proto: b"\x20\x02\x00\x00",  # a client never sends CONNACK
}


@pytest.mark.parametrize("kind", sorted(INVALID_PACKETS))
def test_invalid_packet_after_connect_is_closed(broker, raws, watcher_for, proto, kind):
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, proto, "invalid")
    conn.send(INVALID_PACKETS[kind](proto))
    got = conn.wait_closed()
    # v5 may say why first: Malformed Packet or Protocol Error.
    assert all(p.type == raw.DISCONNECT and p.rc in (0x81, 0x82) for p in got), got
    watcher.check()


@pytest.mark.tern_only  # mosquitto 2.0.11 accepts No Local on a shared subscription
def test_v5_no_local_on_shared_subscription_is_protocol_error(broker, raws, watcher_for):
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, 5, "shared-nl")
    conn.send(raw.subscribe(1, [("$share/g/a", raw.sub_options(qos=1, no_local=True))], 5))
    conn.expect_disconnect(0x82)  # [MQTT-3.8.3-4]
    watcher.check()


def test_qos1_publish_with_packet_id_zero_is_closed(broker, raws, watcher_for, proto):
    watcher = watcher_for(broker)
    conn = _connected(broker, raws, proto, "zero-id")
    conn.send(raw.publish("zero/id", b"x", qos=1, packet_id=0, proto=proto))
    got = conn.wait_closed()  # [MQTT-2.3.1-1]: non-zero packet identifier
    assert all(p.type == raw.DISCONNECT and p.rc in (0x81, 0x82) for p in got), got
    watcher.check()


@pytest.mark.parametrize("stage", ["connect", "publish", "header"])
def test_dropped_mid_packet(broker, raws, watcher_for, proto, stage):
    watcher = watcher_for(broker)
    conn = raws(broker, proto)
    if stage == "connect":
        conn.send(raw.connect("half", proto=proto)[:9])
    else:
        assert conn.connect("half").rc == 0
        pkt = raw.publish("half/t", b"x" * 5000, qos=1, packet_id=1, proto=proto)
        conn.send(pkt[:2] if stage == "header" else pkt[:2500])
    time.sleep(0.1)
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()  # RST mid-packet
    watcher.check()


def test_many_abusers_at_once(broker, raws, watcher_for):
    watcher = watcher_for(broker)
    abusers = []
    for i in range(20):
        conn = raws(broker, 4 if i % 2 else 5)
        conn.send([b"\x10\xff\xff\xff\xff\x01", b"\xff" * 32, raw.connect("x", proto=5)[:5],
                   b"\x30"][i % 4])
        abusers.append(conn)
    for conn in abusers[:8]:
        conn.close()
    watcher.check()
    for conn in abusers[8:]:
        conn.close()
    watcher.check()
