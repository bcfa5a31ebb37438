"""CONNECT/CONNACK: codes, clean start, sessions, takeover, client ids, keepalive, MQTT 3.1."""

import time

import pytest

import mqtt_raw as raw
from broker_process import IS_MOSQUITTO
from helpers import LONG_EXPIRY, persistent_connect


def test_connack_accepted_without_session(broker, raws, proto):
    conn = raws(broker, proto)
    ack = conn.connect("plain", keepalive=30)
    assert ack.rc == 0
    assert ack.session_present is False  # [MQTT-3.2.2-1] / [MQTT-3.2.2-2]
    assert conn.is_open()


def test_unsupported_protocol_level_gets_connack_0x01(broker, raws):
    # [MQTT-3.1.2-2]: level we do not speak -> CONNACK 0x01 (3.1.1 format), then close.
    conn = raws(broker, 4)
    body = raw.mqtt_str("MQTT") + bytes([6, 0x02]) + raw.u16(30) + raw.mqtt_str("lvl6")
    conn.send(raw.packet(raw.CONNECT, 0, body))
    got = conn.wait_closed()
    assert [p.type for p in got] == [raw.CONNACK], got
    assert got[0].rc == 0x01


def test_connect_reserved_flag_set_is_closed(broker, raws, proto):
    # [MQTT-3.1.2-3]: the reserved CONNECT flag must be 0, else the connection is closed.
    conn = raws(broker, proto)
    body = raw.mqtt_str("MQTT") + bytes([proto, 0x03]) + raw.u16(30)
    if proto == 5:
        body += raw.properties([])
    body += raw.mqtt_str("reserved")
    conn.send(raw.packet(raw.CONNECT, 0, body))
    got = conn.wait_closed()
    assert all(p.type == raw.CONNACK and p.rc != 0 for p in got), got


def test_clean_session_and_session_present(broker, raws, clients, proto):
    sub = raws(broker, proto)
    ack = persistent_connect(sub, "keeper", clean=False)
    assert ack.session_present is False  # no session existed
    assert sub.subscribe([("keep/t", 1)]).codes == [1]
    sub.disconnect()

    # Resuming the session: session present = 1 and the subscription still delivers.
    sub = raws(broker, proto)
    ack = persistent_connect(sub, "keeper", clean=False)
    assert ack.rc == 0
    assert ack.session_present is True  # [MQTT-3.2.2-2]
    pub = clients(broker, "pub", proto)
    pub.publish("keep/t", b"while-resumed", qos=1)
    msg = sub.recv_publish()
    assert (msg.topic, msg.payload, msg.qos) == ("keep/t", b"while-resumed", 1)
    sub.disconnect()

    # Clean start discards the session: session present = 0 and no subscription left.
    sub = raws(broker, proto)
    ack = persistent_connect(sub, "keeper", clean=True)
    assert ack.session_present is False  # [MQTT-3.2.2-1]
    pub.publish("keep/t", b"after-clean", qos=1)
    sub.expect_nothing(0.3)


def test_messages_queued_for_offline_persistent_session(broker, raws, clients, proto):
    sub = raws(broker, proto)
    persistent_connect(sub, "offline", clean=False)
    assert sub.subscribe([("offline/t", 1)]).codes == [1]
    sub.disconnect()
    pub = clients(broker, "pub", proto)
    for i in range(3):
        pub.publish("offline/t", b"queued-%d" % i, qos=1)
    sub = raws(broker, proto)
    ack = persistent_connect(sub, "offline", clean=False)
    assert ack.session_present is True
    got = [sub.recv_publish() for _ in range(3)]
    assert [m.payload for m in got] == [b"queued-0", b"queued-1", b"queued-2"]
    assert all(m.qos == 1 for m in got)
    sub.expect_nothing(0.2)


def test_v5_session_expiry_zero_ends_session_at_disconnect(broker, raws):
    sub = raws(broker, 5)
    ack = sub.connect("short", clean=True, props=[(raw.SESSION_EXPIRY_INTERVAL, 0)])
    assert ack.rc == 0
    assert sub.subscribe([("short/t", 1)]).codes == [1]
    sub.disconnect()
    sub = raws(broker, 5)
    ack = sub.connect("short", clean=False, props=[(raw.SESSION_EXPIRY_INTERVAL, 60)])
    assert ack.rc == 0
    assert ack.session_present is False  # [MQTT-3.1.2-23]: expiry 0 ends it at close


def test_v5_session_expiry_interval_keeps_then_drops_session(broker, raws):
    props = [(raw.SESSION_EXPIRY_INTERVAL, 2)]
    sub = raws(broker, 5)
    assert sub.connect("expiring", clean=True, props=props).rc == 0
    assert sub.subscribe([("exp/t", 1)]).codes == [1]
    sub.close()  # network drop: the session must survive for 2 s
    time.sleep(0.5)
    sub = raws(broker, 5)
    ack = sub.connect("expiring", clean=False, props=props)
    assert ack.session_present is True
    sub.disconnect()
    time.sleep(3.5)  # > 2 s expiry (+ 1 s timer granularity)
    sub = raws(broker, 5)
    ack = sub.connect("expiring", clean=False, props=props)
    assert ack.session_present is False


def test_takeover_disconnects_first_connection(broker, raws, proto):
    first = raws(broker, proto)
    assert first.connect("twin").rc == 0
    second = raws(broker, proto)
    assert second.connect("twin").rc == 0
    # [MQTT-3.1.4-3]: the existing connection is closed; v5 sends DISCONNECT 0x8E first.
    first.wait_closed()
    assert second.is_open()


@pytest.mark.tern_only  # mosquitto 2.0.11 closes the old connection without a DISCONNECT
def test_v5_takeover_sends_disconnect_0x8e(broker, raws):
    first = raws(broker, 5)
    assert first.connect("twin").rc == 0
    second = raws(broker, 5)
    assert second.connect("twin").rc == 0
    first.expect_disconnect(0x8E)  # [MQTT-3.1.4-3], section 4.13
    assert second.is_open()


def test_takeover_keeps_persistent_session(broker, raws, clients, proto):
    first = raws(broker, proto)
    persistent_connect(first, "twin", clean=False)
    assert first.subscribe([("twin/t", 1)]).codes == [1]
    second = raws(broker, proto)
    ack = persistent_connect(second, "twin", clean=False)
    assert ack.session_present is True
    first.wait_closed()
    pub = clients(broker, "pub", proto)
    pub.publish("twin/t", b"to-second", qos=1)
    msg = second.recv_publish()
    assert msg.payload == b"to-second"


def test_v5_empty_client_id_gets_assigned_identifier(broker, raws):
    ids = []
    for _ in range(2):
        conn = raws(broker, 5)
        ack = conn.connect("", clean=True)
        assert ack.rc == 0
        assigned = ack.props.get(raw.ASSIGNED_CLIENT_IDENTIFIER)  # [MQTT-3.2.2-16]
        assert assigned, ack
        ids.append(assigned)
    assert ids[0] != ids[1]


def test_v311_empty_client_id_with_clean_session_accepted(broker, raws):
    conn = raws(broker, 4)
    ack = conn.connect("", clean=True)
    assert ack.rc == 0
    assert conn.is_open()


def test_v311_empty_client_id_without_clean_session_rejected(broker, raws):
    conn = raws(broker, 4)
    ack = conn.connect("", clean=False)
    assert ack.rc == 0x02  # [MQTT-3.1.3-8]: identifier rejected, then close
    conn.wait_closed()


def test_empty_client_id_refused_when_not_allowed(make_broker, raws, proto):
    broker = make_broker(allow_zero_length_client_id=False)
    conn = raws(broker, proto)
    ack = conn.connect("", clean=True)
    # v5: 0x85 Client Identifier not valid ([MQTT-3.1.3-8]); mosquitto deviates with 0x80.
    v5_code = 0x80 if IS_MOSQUITTO else 0x85
    assert ack.rc == (v5_code if proto == 5 else 0x02)
    conn.wait_closed()


def test_keepalive_timeout_disconnects_and_publishes_will(broker, raws, clients):
    # Both protocol versions at once (one silent client each) to keep the suite fast.
    watcher = clients(broker, "will-watch", 5)
    assert watcher.subscribe("ka/will/+", 1) == [1]
    silent = {}
    start = time.monotonic()
    for proto in (4, 5):
        conn = raws(broker, proto)
        ack = conn.connect("silent-%d" % proto, keepalive=2,
                           will={"topic": "ka/will/%d" % proto, "payload": b"gone", "qos": 1})
        assert ack.rc == 0
        silent[proto] = conn
    # [MQTT-3.1.2-24]: disconnect after 1.5 x keepalive (3 s) with no packet from the client.
    # mosquitto 2.0.11 checks keepalives only every few seconds: it closes after ~5-6 s.
    limit = 8.0 if IS_MOSQUITTO else 4.5
    for proto, conn in silent.items():
        got = conn.wait_closed(timeout=limit + 1 - (time.monotonic() - start))
        elapsed = time.monotonic() - start
        assert 2.5 <= elapsed <= limit, (proto, elapsed)
        # A v5 server may say why (0x8D Keep Alive timeout) before closing.
        assert all(p.type == raw.DISCONNECT and p.rc == 0x8D for p in got), got
    wills = watcher.wait_for(2, timeout=2)
    assert sorted((m.topic, m.payload, m.qos) for m in wills) == [
        ("ka/will/4", b"gone", 1), ("ka/will/5", b"gone", 1)]


def test_pingreq_keeps_connection_alive(broker, raws):
    conn = raws(broker, 4)
    assert conn.connect("pinger", keepalive=1).rc == 0
    deadline = time.monotonic() + 2.5  # well past the 1.5 s limit
    while time.monotonic() < deadline:
        time.sleep(0.4)
        conn.send(raw.pingreq())
        assert conn.recv_type(raw.PINGRESP).type == raw.PINGRESP  # [MQTT-3.12.4-1]


def test_v5_server_keep_alive_caps_client_keepalive(make_broker, raws):
    broker = make_broker(max_keep_alive=10)
    conn = raws(broker, 5)
    ack = conn.connect("lazy", keepalive=100)
    assert ack.rc == 0
    assert ack.props.get(raw.SERVER_KEEP_ALIVE) == 10  # [MQTT-3.2.2-21]


def test_mqtt31_client_publishes_and_receives(broker, raws, clients):
    conn = raws(broker, 3)
    ack = conn.connect("old-client-31")
    assert ack.rc == 0
    assert conn.subscribe([("v31/#", 1)]).codes == [1]
    newer = clients(broker, "newer", 5)
    assert newer.subscribe("v31/#", 2) == [2]
    pid = conn.publish("v31/from-old", b"hello-31", qos=1)
    got = sorted((conn.recv() for _ in range(2)), key=lambda p: p.type)
    assert [p.type for p in got] == [raw.PUBLISH, raw.PUBACK], got  # own echo + PUBACK
    assert got[1].packet_id == pid
    echo = got[0]
    assert (echo.topic, echo.payload, echo.qos) == ("v31/from-old", b"hello-31", 1)
    conn.ack(echo)
    msg = newer.wait_one()
    assert (msg.topic, msg.payload, msg.qos) == ("v31/from-old", b"hello-31", 1)
    newer.publish("v31/from-new", b"hello-5", qos=2)
    got = conn.recv_publish()
    assert (got.topic, got.payload, got.qos) == ("v31/from-new", b"hello-5", 1)


def test_mqtt31_paho_client(broker, clients):
    old = clients(broker, "paho-31", 3)
    assert old.subscribe("p31/t", 2) == [2]
    old.publish("p31/t", b"round", qos=2)
    msg = old.wait_one()
    assert (msg.payload, msg.qos) == (b"round", 2)


@pytest.mark.parametrize("session_expiry", [0, LONG_EXPIRY])
def test_v5_session_present_only_when_session_kept(broker, raws, session_expiry):
    conn = raws(broker, 5)
    props = [(raw.SESSION_EXPIRY_INTERVAL, session_expiry)]
    assert conn.connect("sp", clean=False, props=props).session_present is False
    conn.disconnect()
    conn = raws(broker, 5)
    ack = conn.connect("sp", clean=False, props=props)
    assert ack.session_present is (session_expiry > 0)
