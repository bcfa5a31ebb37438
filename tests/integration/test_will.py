"""Will messages: unclean close, not on DISCONNECT, v5 reason 0x04, delay, retain and QoS."""

import time

import pytest

import mqtt_raw as raw
from helpers import LONG_EXPIRY

WILL = {"topic": "will/t", "payload": b"last words", "qos": 1}


def _watch(broker, clients, proto, qos=2, name="watch"):
    watcher = clients(broker, name, proto)
    assert watcher.subscribe("will/#", qos) == [qos]
    return watcher


def test_will_published_on_unclean_close(broker, clients, raws, proto):
    watcher = _watch(broker, clients, proto)
    conn = raws(broker, proto)
    assert conn.connect("mortal", will=WILL).rc == 0
    conn.close()  # no DISCONNECT: [MQTT-3.1.2-8] the will is published
    msg = watcher.wait_one()
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("will/t", b"last words", 1, False)
    watcher.expect_none(0.2)


def test_will_published_on_protocol_violation(broker, clients, raws, proto):
    watcher = _watch(broker, clients, proto)
    conn = raws(broker, proto)
    assert conn.connect("violator", will=WILL).rc == 0
    conn.send(raw.packet(raw.CONNACK, 0, b"\x00\x00"))  # clients never send CONNACK
    conn.wait_closed()
    assert watcher.wait_one().payload == b"last words"


def test_will_not_published_on_normal_disconnect(broker, clients, raws, proto):
    watcher = _watch(broker, clients, proto)
    conn = raws(broker, proto)
    assert conn.connect("polite", will=WILL).rc == 0
    conn.disconnect()  # [MQTT-3.1.2-10]: DISCONNECT deletes the will
    watcher.expect_none(0.7)


def test_v5_disconnect_with_will_reason_publishes_will(broker, clients, raws):
    watcher = _watch(broker, clients, 5)
    conn = raws(broker, 5)
    assert conn.connect("wants-will", will=WILL).rc == 0
    conn.disconnect(reason=0x04)  # Disconnect with Will Message
    msg = watcher.wait_one()
    assert (msg.topic, msg.payload) == ("will/t", b"last words")


def test_will_retain_and_qos_honoured(broker, clients, raws, proto):
    watcher = _watch(broker, clients, proto)
    conn = raws(broker, proto)
    will = {"topic": "will/kept", "payload": b"retained will", "qos": 2, "retain": True}
    assert conn.connect("retainer", will=will).rc == 0
    conn.close()
    live = watcher.wait_one()
    # Live subscribers see retain 0 (3.1.1 [MQTT-3.3.1-9]; v5 without Retain As Published).
    assert (live.topic, live.payload, live.qos, live.retain) == (
        "will/kept", b"retained will", 2, False)
    late = _watch(broker, clients, proto, qos=1, name="late")
    stored = late.wait_one()
    assert (stored.topic, stored.payload, stored.qos, stored.retain) == (
        "will/kept", b"retained will", 1, True)


def test_v5_will_properties_forwarded(broker, raws):
    watcher = raws(broker, 5)
    assert watcher.connect("watch").rc == 0
    assert watcher.subscribe([("will/#", 1)]).codes == [1]
    conn = raws(broker, 5)
    props = [(raw.CONTENT_TYPE, "text/plain"), (raw.USER_PROPERTY, ("why", "test")),
             (raw.RESPONSE_TOPIC, "will/reply")]
    will = dict(WILL, props=props)
    assert conn.connect("propertied", will=will).rc == 0
    conn.close()
    msg = watcher.recv_publish()
    assert msg.payload == b"last words"
    assert msg.props.get(raw.CONTENT_TYPE) == "text/plain"
    assert msg.props.get(raw.RESPONSE_TOPIC) == "will/reply"
    assert msg.props.get_all(raw.USER_PROPERTY) == [("why", "test")]


def _delayed_will(delay):
    return dict(WILL, props=[(raw.WILL_DELAY_INTERVAL, delay)])


def test_v5_will_delay_interval(broker, clients, raws):
    watcher = _watch(broker, clients, 5)
    conn = raws(broker, 5)
    ack = conn.connect("delayed", will=_delayed_will(2),
                       props=[(raw.SESSION_EXPIRY_INTERVAL, LONG_EXPIRY)])
    assert ack.rc == 0
    conn.close()
    closed_at = time.monotonic()
    # [MQTT-3.1.3-9]: not published before the Will Delay Interval has passed.
    watcher.expect_none(1.5)
    msg = watcher.wait_one(timeout=3.0)
    waited = msg.received_at - closed_at
    assert 1.8 <= waited <= 4.0, waited
    assert msg.payload == b"last words"


def test_v5_will_not_published_if_client_reconnects_within_delay(broker, clients, raws):
    watcher = _watch(broker, clients, 5)
    conn = raws(broker, 5)
    session = [(raw.SESSION_EXPIRY_INTERVAL, LONG_EXPIRY)]
    assert conn.connect("returns", will=_delayed_will(2), props=session).rc == 0
    conn.close()
    time.sleep(0.5)
    conn = raws(broker, 5)
    ack = conn.connect("returns", clean=False, props=session)
    assert ack.session_present is True
    watcher.expect_none(3.0)  # [MQTT-3.1.3-9]: reconnect before the delay cancels the will
    assert conn.is_open()


@pytest.mark.tern_only  # mosquitto 2.0.11 waits for the will delay even after the session ended
def test_v5_will_sent_when_session_ends_before_delay(broker, clients, raws):
    watcher = _watch(broker, clients, 5)
    conn = raws(broker, 5)
    # Session expiry 0: the session ends at the close, before the 30 s delay ends.
    assert conn.connect("short-session", will=_delayed_will(30)).rc == 0
    conn.close()
    closed_at = time.monotonic()
    msg = watcher.wait_one(timeout=2.0)  # [MQTT-3.1.3-9]: whichever happens first
    assert msg.payload == b"last words"
    assert msg.received_at - closed_at < 1.5


def test_v5_normal_disconnect_discards_delayed_will(broker, clients, raws):
    watcher = _watch(broker, clients, 5)
    conn = raws(broker, 5)
    assert conn.connect("tidy", will=_delayed_will(1),
                        props=[(raw.SESSION_EXPIRY_INTERVAL, LONG_EXPIRY)]).rc == 0
    conn.disconnect(reason=0x00)
    watcher.expect_none(1.8)
