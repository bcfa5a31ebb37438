"""Synchronous wrapper around paho-mqtt 1.6 for integration tests: every wait has a timeout.

A Client runs paho's network thread, records received messages in a queue and turns the
CONNACK/SUBACK/UNSUBACK/DISCONNECT callbacks into blocking calls with bounded waits.
"""

import queue
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROTOCOLS = {3: paho.MQTTv31, 4: paho.MQTTv311, 5: paho.MQTTv5}
PROTO_IDS = {3: "v31", 4: "v311", 5: "v5"}

DEFAULT_TIMEOUT = 5.0


def publish_props(**kwargs):
    """paho Properties for PUBLISH / will from keyword arguments, e.g. MessageExpiryInterval=60.

    UserProperty takes a list of (name, value) pairs, kept in order.
    """
    props = Properties(PacketTypes.PUBLISH)
    for name, value in kwargs.items():
        setattr(props, name, value)
    return props


def packet_props(packet_type, **kwargs):
    props = Properties(packet_type)
    for name, value in kwargs.items():
        setattr(props, name, value)
    return props


class Message:
    """A received PUBLISH, copied out of paho's object."""

    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = msg.payload
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.dup = bool(msg.dup)
        self.mid = msg.mid
        self.properties = getattr(msg, "properties", None)
        self.received_at = time.monotonic()

    def prop(self, name, default=None):
        if self.properties is None:
            return default
        return getattr(self.properties, name, default)

    def __repr__(self):
        return "<Message %s %r qos=%d retain=%d>" % (self.topic, self.payload, self.qos,
                                                     self.retain)


class Client:
    """A paho client bound to one broker, with synchronous connect/subscribe/publish."""

    def __init__(self, host, port, client_id="", proto=4, clean=True, keepalive=30, will=None,
                 connect_props=None, username=None, password=None):
        self.host = host
        self.port = port
        self.proto = proto
        self.keepalive = keepalive
        self.clean = clean
        self.connect_props = connect_props
        kwargs = dict(client_id=client_id, protocol=PROTOCOLS[proto], reconnect_on_failure=False)
        if proto != 5:
            kwargs["clean_session"] = clean
        self.paho = paho.Client(**kwargs)
        if will is not None:
            self.paho.will_set(will["topic"], will.get("payload", b""), will.get("qos", 0),
                               will.get("retain", False), will.get("props"))
        if username is not None:
            self.paho.username_pw_set(username, password)
        self.messages = queue.Queue()
        self._events = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.disconnect_rc = None
        self.disconnect_props = None
        self.connack = None
        self.paho.on_connect = self._on_connect
        self.paho.on_message = self._on_message
        self.paho.on_subscribe = self._on_subscribe
        self.paho.on_unsubscribe = self._on_unsubscribe
        self.paho.on_disconnect = self._on_disconnect
        self._started = False

    # -- callbacks (paho's network thread) -------------------------------------------------------

    def _on_connect(self, client, userdata, flags, rc, props=None):
        rc_value = rc.value if hasattr(rc, "value") else rc
        self.connack = (bool(flags.get("session present")), rc_value, props)
        self._events.put(("connack", self.connack))
        if rc_value == 0:
            self.connected.set()

    def _on_message(self, client, userdata, msg):
        self.messages.put(Message(msg))

    def _on_subscribe(self, client, userdata, mid, granted, props=None):
        codes = [g.value if hasattr(g, "value") else g for g in granted]
        self._events.put(("suback", mid, codes))

    def _on_unsubscribe(self, client, userdata, mid, props=None, codes=None):
        if codes is None:
            values = []
        elif isinstance(codes, list):
            values = [c.value for c in codes]
        else:
            values = [codes.value]
        self._events.put(("unsuback", mid, values))

    def _on_disconnect(self, client, userdata, rc, props=None):
        self.disconnect_rc = rc.value if hasattr(rc, "value") else rc
        self.disconnect_props = props
        self.connected.clear()
        self.disconnected.set()

    def _wait_event(self, kind, mid=None, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no %s within %.1f s" % (kind, timeout))
            try:
                event = self._events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event[0] == kind and (mid is None or event[1] == mid):
                return event

    # -- operations -----------------------------------------------------------------------------

    def connect(self, clean_start=None, timeout=DEFAULT_TIMEOUT, expect_rc=0):
        """Connect and wait for CONNACK; returns (session_present, rc, properties)."""
        kwargs = dict(keepalive=self.keepalive)
        if self.proto == 5:
            kwargs["clean_start"] = self.clean if clean_start is None else clean_start
            kwargs["properties"] = self.connect_props
        self.disconnected.clear()
        self.paho.connect(self.host, self.port, **kwargs)
        if not self._started:
            self.paho.loop_start()
            self._started = True
        _, connack = self._wait_event("connack", timeout=timeout)
        assert connack[1] == expect_rc, "CONNACK rc %r, expected %r" % (connack[1], expect_rc)
        return connack

    def subscribe(self, topic, qos=0, options=None, props=None, timeout=DEFAULT_TIMEOUT):
        """Subscribe (topic may be a list of (filter, qos|SubscribeOptions)); returns SUBACK codes.

        For v5, pass options=paho.mqtt.subscribeoptions.SubscribeOptions(...).
        """
        if self.proto == 5 and options is not None:
            rc, mid = self.paho.subscribe(topic, options=options, properties=props)
        elif self.proto == 5:
            rc, mid = self.paho.subscribe(topic, qos, properties=props)
        else:
            rc, mid = self.paho.subscribe(topic, qos)
        assert rc == paho.MQTT_ERR_SUCCESS, rc
        return self._wait_event("suback", mid, timeout)[2]

    def unsubscribe(self, topic, timeout=DEFAULT_TIMEOUT):
        rc, mid = self.paho.unsubscribe(topic)
        assert rc == paho.MQTT_ERR_SUCCESS, rc
        return self._wait_event("unsuback", mid, timeout)[2]

    def publish(self, topic, payload=b"", qos=0, retain=False, props=None, wait=True,
                timeout=DEFAULT_TIMEOUT):
        """Publish; with wait=True blocks until the QoS flow completes (or the send for QoS 0)."""
        info = self.paho.publish(topic, payload, qos, retain, props)
        assert info.rc == paho.MQTT_ERR_SUCCESS, info.rc
        if wait:
            info.wait_for_publish(timeout)
            assert info.is_published(), "publish to %s not completed in %.1f s" % (topic,
                                                                                   timeout)
        return info

    def wait_for(self, count=1, timeout=DEFAULT_TIMEOUT):
        """Wait for the next count messages; fail with what arrived if they do not in time."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("received %d of %d messages in %.1f s: %r" % (
                    len(got), count, timeout, got[:10]))
            try:
                got.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                pass
        return got

    def wait_one(self, timeout=DEFAULT_TIMEOUT):
        return self.wait_for(1, timeout)[0]

    def expect_none(self, duration=0.5):
        """Assert no message arrives within duration seconds."""
        try:
            msg = self.messages.get(timeout=duration)
        except queue.Empty:
            return
        raise AssertionError("unexpected message %r" % (msg,))

    def drain(self, settle=0.3):
        """Return everything that arrives until settle seconds pass with nothing new."""
        got = []
        while True:
            try:
                got.append(self.messages.get(timeout=settle))
            except queue.Empty:
                return got

    def wait_disconnected(self, timeout=DEFAULT_TIMEOUT):
        assert self.disconnected.wait(timeout), "client still connected after %.1f s" % timeout
        return self.disconnect_rc

    def roundtrip(self, topic, timeout=DEFAULT_TIMEOUT):
        """Publish to topic (which this client subscribes to) and wait for the echo: proves the
        connection to the broker is alive and the broker is serving it."""
        payload = ("ping-%f" % time.monotonic()).encode()
        self.publish(topic, payload, qos=1, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.wait_one(max(deadline - time.monotonic(), 0.001))
            if msg.payload == payload:
                return msg

    def disconnect(self, reason=None, props=None):
        if self.connected.is_set():
            if self.proto == 5 and reason is not None:
                self.paho.disconnect(paho.ReasonCodes(PacketTypes.DISCONNECT, identifier=reason),
                                     props)
            else:
                self.paho.disconnect()
            self.disconnected.wait(DEFAULT_TIMEOUT)
        self.stop()

    def stop(self):
        """Stop the network thread and drop the socket without DISCONNECT if still open."""
        if self._started:
            # Wake the network thread out of its 1 s select() so stopping is immediate.
            self.paho._thread_terminate = True
            wake = getattr(self.paho, "_sockpairW", None)
            if wake is not None:
                try:
                    wake.send(b"0")
                except OSError:
                    pass
            self.paho.loop_stop()
            self._started = False
        sock = self.paho.socket()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
