"""Shared test utilities: v5 connect properties, a watcher client, timing and polling helpers."""

import time

import mqtt_raw as raw
from mqtt_client import Client

# Session expiry long enough to outlive any test; used for "persistent session" in MQTT 5.
LONG_EXPIRY = 300


def persistent_connect(rawc, client_id, clean=False, **kwargs):
    """CONNECT a raw client with a session that survives disconnection (v3: clean=0; v5: clean
    start as given plus a long Session Expiry Interval). Returns the CONNACK."""
    if rawc.proto == 5:
        props = list(kwargs.pop("props", []) or [])
        props.append((raw.SESSION_EXPIRY_INTERVAL, LONG_EXPIRY))
        kwargs["props"] = props
    return rawc.connect(client_id, clean=clean, **kwargs)


def persistent_props(proto):
    """paho CONNECT properties giving an MQTT 5 session a long expiry (None for v3)."""
    if proto != 5:
        return None
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = LONG_EXPIRY
    return props


def eventually(predicate, timeout=5.0, interval=0.05, message="condition not met"):
    """Poll predicate until it returns a truthy value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s within %.1f s" % (message, timeout))
        time.sleep(interval)


class Watcher:
    """A well-behaved MQTT 5 client connected before an abuse; check() proves it is still
    connected and that the broker still accepts new clients and routes their messages to it."""

    TOPIC = "watch/probe"

    def __init__(self, broker):
        self.broker = broker
        self.client = Client(broker.host, broker.port, "watcher", 5, keepalive=30)
        self.client.connect()
        codes = self.client.subscribe("watch/#", 1)
        assert codes == [1], codes
        self.count = 0

    def check(self):
        assert self.client.connected.is_set(), "watcher was disconnected (rc=%r)" % (
            self.client.disconnect_rc,)
        self.count += 1
        payload = b"probe-%d" % self.count
        with raw.RawClient(self.broker.host, self.broker.port, 4) as fresh:
            ack = fresh.connect("watch-probe-%d" % self.count)
            assert ack.rc == 0, ack
            fresh.publish_acked(self.TOPIC, payload, qos=1)
            fresh.disconnect()
        msg = self.client.wait_one()
        assert (msg.topic, msg.payload) == (self.TOPIC, payload), msg
        assert self.client.connected.is_set(), "watcher was disconnected"

    def stop(self):
        self.client.disconnect()


class SysReader:
    """One connection subscribed to some $SYS topics, remembering the latest value of each."""

    def __init__(self, client, topics):
        self.client = client
        self.values = {}
        assert client.connect("sys-reader").rc == 0
        client.subscribe([(topic, 0) for topic in topics])

    def wait(self, topic, expected, timeout=5.0):
        """Reads $SYS updates (published every second) until topic's value is expected (a
        string, or a predicate on the string)."""
        matches = expected if callable(expected) else (lambda value: value == expected)
        deadline = time.monotonic() + timeout
        while self.values.get(topic) is None or not matches(self.values[topic]):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("%s is %r, expected %r" % (topic, self.values.get(topic),
                                                                expected))
            try:
                pkt = self.client.recv(remaining)
            except TimeoutError:
                continue
            if pkt.type == raw.PUBLISH:
                self.values[pkt.topic] = pkt.payload.decode()
