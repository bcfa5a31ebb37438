"""Durable storage across a graceful restart (SIGTERM): retained messages, persistent sessions
with their subscription options, queued and in-flight QoS 1/2 state, delayed wills, expiry,
"memory" durability; and start-up on a damaged, foreign or unusable data directory.

tern-only: mosquitto runs with persistence off. The crash (kill -9) tests live in test_crash.py
and reuse the helpers defined here.
"""

import hashlib
import os
import re
import shutil
import signal
import struct
import subprocess
import time

import pytest

import mqtt_raw as raw
from broker_process import BROKER_KEYS, LIMIT_KEYS, tern_config, toml_value
from helpers import LONG_EXPIRY

pytestmark = pytest.mark.tern_only

DURABILITIES = ["async", "sync"]
durabilities = pytest.mark.parametrize("durability", DURABILITIES)
protos = pytest.mark.parametrize("proto", [4, 5], ids=["v311", "v5"])

SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "ThreadSanitizer")

# --------------------------------------------------------------------------------------------
# Broker configuration and start-up summary
# --------------------------------------------------------------------------------------------


def configure_storage(broker, durability, storage=None, limits=None, data_dir=None):
    """Rewrite broker.config_path: the harness's config plus [storage] durability (and any other
    storage keys) and limit keys the harness does not know (e.g. queue_full_policy)."""
    settings = broker.settings
    broker_keys = {k: v for k, v in settings.items() if k in BROKER_KEYS}
    limit_keys = {k: v for k, v in settings.items() if k in LIMIT_KEYS}
    limit_keys.update(limits or {})
    directory = broker.data_dir if data_dir is None else data_dir
    text = tern_config(broker.port, directory, broker_keys, limit_keys)
    values = {"durability": durability}
    values.update(storage or {})
    text += "".join("%s = %s\n" % (k, toml_value(v)) for k, v in values.items())
    broker.config_path.write_text(text)


def durable_broker(make_broker, durability, start=True, storage=None, limits=None, **overrides):
    """A broker from the make_broker fixture with [storage] durability set; $SYS off so that the
    start-up counts are exact."""
    overrides.setdefault("sys_interval", 0)
    broker = make_broker(start=False, **overrides)
    configure_storage(broker, durability, storage, limits)
    if start:
        broker.start()
    return broker


SUMMARY_RE = re.compile(
    r"storage: (\w+) durability in (.*?): loaded (\d+) retained message\(s\), (\d+) session\(s\), "
    r"(\d+) queued message\(s\), (\d+) history entries; removed (\d+) expired")


def storage_summary(broker):
    """The counts of the start-up line "storage: ... loaded N retained message(s), ..." of the
    broker's current run."""
    text = broker.stderr()
    found = SUMMARY_RE.findall(text)
    assert len(found) == 1, "expected one storage summary line, got:\n%s" % text[-3000:]
    kind, path, retained, sessions, queued, history, removed = found[0]
    return {"durability": kind, "path": path, "retained": int(retained),
            "sessions": int(sessions), "queued": int(queued), "history": int(history),
            "removed": int(removed)}


def assert_summary(broker, **expected):
    summary = storage_summary(broker)
    got = {k: summary[k] for k in expected}
    assert got == expected, "storage summary %r, expected %r" % (summary, expected)
    return summary


def kill_and_start(broker):
    """kill -9 the broker, then start it again on the same port, config and data dir."""
    broker.proc.kill()
    code = broker.wait_exit()  # (also tells the teardown not to check this run's exit)
    assert code == -signal.SIGKILL, code
    return broker.start()


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


def connect_session(raws, broker, client_id, proto, clean=False, expiry=LONG_EXPIRY, will=None,
                    expect_present=None):
    """A raw client with a persistent session (3.1.1: clean session 0; 5: Session Expiry
    Interval `expiry`), or a clean one with clean=True and expiry=0."""
    conn = raws(broker, proto)
    props = [(raw.SESSION_EXPIRY_INTERVAL, expiry)] if proto == 5 and expiry else []
    ack = conn.connect(client_id, clean=clean, props=props, will=will)
    assert ack.rc == 0, ack
    if expect_present is not None:
        assert ack.session_present == expect_present, (
            "%s: session present %r, expected %r" % (client_id, ack.session_present,
                                                      expect_present))
    conn.connack = ack
    return conn


class Receiver:
    """The application side of a subscriber, kept across its reconnections.

    Acknowledges like a correct client: PUBACK for QoS 1; for QoS 2 it delivers on PUBLISH,
    answers PUBREC and remembers the packet id until PUBREL (MQTT 5 section 4.3.3, Method B), so
    that a PUBLISH resent with an id it still holds is answered again but is not a new delivery.
    """

    def __init__(self, rawc=None, ack=True):
        self.raw = None
        self.ack = ack
        self.connection = 0
        self.awaiting_pubrel = {}  # packet id -> delivered PUBLISH awaiting PUBREL
        self.deliveries = []  # PUBLISHes handed to the application, in arrival order
        self.resends = []  # QoS 2 PUBLISHes recognised as resends of a message we own
        self.pubrels = []  # (connection, packet id) of every PUBREL
        self.problems = []  # protocol anomalies (e.g. an id reused for another message)
        self.others = []  # any other packet (PUBACK, SUBACK, ...)
        if rawc is not None:
            self.attach(rawc)

    def attach(self, rawc):
        self.raw = rawc
        self.connection += 1

    def handle(self, pkt):
        """Process one packet; returns it when it is a new delivery, else None."""
        if pkt.type == raw.PUBLISH:
            pkt.connection = self.connection
            pkt.arrived = time.monotonic()
            pkt.completed = False
            if pkt.qos == 2 and pkt.packet_id in self.awaiting_pubrel:
                owned = self.awaiting_pubrel[pkt.packet_id]
                if (owned.topic, owned.payload) != (pkt.topic, pkt.payload):
                    self.problems.append("packet id %d reused for %r while %r awaits PUBREL" % (
                        pkt.packet_id, pkt.payload, owned.payload))
                self.resends.append(pkt)
                if self.ack:
                    self.raw.send(raw.pubrec(pkt.packet_id, proto=self.raw.proto))
                return None
            self.deliveries.append(pkt)
            if self.ack and pkt.qos == 1:
                self.raw.send(raw.puback(pkt.packet_id, proto=self.raw.proto))
            elif self.ack and pkt.qos == 2:
                self.awaiting_pubrel[pkt.packet_id] = pkt
                self.raw.send(raw.pubrec(pkt.packet_id, proto=self.raw.proto))
            return pkt
        if pkt.type == raw.PUBREL:
            self.pubrels.append((self.connection, pkt.packet_id))
            owned = self.awaiting_pubrel.pop(pkt.packet_id, None)
            if self.ack:
                # PUBCOMP even for an unknown id: the sender is releasing it [MQTT-4.3.3-11].
                self.raw.send(raw.pubcomp(pkt.packet_id, proto=self.raw.proto))
                if owned is not None:
                    owned.completed = True
            return None
        self.others.append(pkt)
        return None

    def next(self, timeout=5.0):
        """The next new delivery (acknowledging everything on the way)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                pkt = self.raw.recv(max(remaining, 0.001))
            except TimeoutError:
                raise AssertionError("no delivery within %.1f s (delivered so far: %r)" % (
                    timeout, [(p.topic, p.payload) for p in self.deliveries[-10:]])) from None
            if self.handle(pkt) is not None:
                return pkt

    def collect(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        return [self.next(max(deadline - time.monotonic(), 0.001)) for _ in range(count)]

    def expect(self, ptype, timeout=5.0):
        """Pump until a packet of type ptype (not a PUBLISH/PUBREL) arrives; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            pkt = self.raw.recv(max(deadline - time.monotonic(), 0.001))
            self.handle(pkt)
            if pkt.type == ptype:
                return pkt

    def quiet(self, duration):
        """Everything delivered within duration seconds (empty when the broker stays silent)."""
        got = []
        deadline = time.monotonic() + duration
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return got
            try:
                pkt = self.raw.recv(remaining)
            except TimeoutError:
                return got
            if self.handle(pkt) is not None:
                got.append(pkt)

    def subscribe(self, filters, props=None):
        pid = self.raw.next_id()
        self.raw.send(raw.subscribe(pid, filters, self.raw.proto, props))
        ack = self.expect(raw.SUBACK)
        assert ack.packet_id == pid, ack
        return ack


def summary_of(pkt):
    return (pkt.topic, pkt.payload, pkt.qos, pkt.retain, pkt.dup)


# --------------------------------------------------------------------------------------------
# 1. Graceful restart
# --------------------------------------------------------------------------------------------

RETAINED_PROPS = [
    (raw.PAYLOAD_FORMAT_INDICATOR, 1),
    (raw.CONTENT_TYPE, "application/json"),
    (raw.RESPONSE_TOPIC, "reply/here"),
    (raw.CORRELATION_DATA, b"\x00\xffcorr"),
    (raw.USER_PROPERTY, ("k", "v1")),
    (raw.USER_PROPERTY, ("k", "v2")),
    (raw.USER_PROPERTY, ("a", "b")),
    (raw.MESSAGE_EXPIRY_INTERVAL, 600),
]


@durabilities
def test_retained_messages_and_properties_survive_restart(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    pub5 = raws(broker, 5)
    assert pub5.connect("ret-pub5").rc == 0
    payload = '{"t":"température"}'.encode()
    published_at = time.monotonic()
    pub5.publish_acked("ret/props", payload, qos=1, retain=True, props=RETAINED_PROPS)
    pub5.publish_acked("ret/q2", b"two", qos=2, retain=True)
    pub5.publish_acked("ret/replaced", b"old", qos=1, retain=True)
    pub5.publish_acked("ret/replaced", b"new", qos=1, retain=True)
    pub5.publish_acked("ret/deleted", b"x", qos=1, retain=True)
    pub5.publish_acked("ret/deleted", b"", qos=1, retain=True)  # deletes [MQTT-3.3.1-6]
    pub4 = raws(broker, 4)
    assert pub4.connect("ret-pub4").rc == 0
    pub4.publish("ret/v3", b"three", qos=0, retain=True)
    assert pub4.is_open()  # the PINGRESP follows the PUBLISH: it was processed

    broker.restart()
    assert_summary(broker, durability=durability, retained=4, sessions=0, queued=0, removed=0)
    sub = raws(broker, 5)
    assert sub.connect("ret-sub").rc == 0
    receiver = Receiver(sub)
    assert receiver.subscribe([("ret/#", 2)]).codes == [2]
    got = {p.topic: p for p in receiver.collect(4)}
    assert sorted(got) == ["ret/props", "ret/q2", "ret/replaced", "ret/v3"]
    assert receiver.quiet(0.3) == []  # ret/deleted stays deleted

    msg = got["ret/props"]
    assert (msg.payload, msg.qos, msg.retain) == (payload, 1, True)
    props = msg.props
    assert props.get(raw.PAYLOAD_FORMAT_INDICATOR) == 1
    assert props.get(raw.CONTENT_TYPE) == "application/json"
    assert props.get(raw.RESPONSE_TOPIC) == "reply/here"
    assert props.get(raw.CORRELATION_DATA) == b"\x00\xffcorr"
    # User properties keep their order, duplicates included [MQTT-3.3.2-18].
    assert props.get_all(raw.USER_PROPERTY) == [("k", "v1"), ("k", "v2"), ("a", "b")]
    # The expiry keeps counting down across the restart [MQTT-3.3.2-6].
    expiry = props.get(raw.MESSAGE_EXPIRY_INTERVAL)
    elapsed = time.monotonic() - published_at
    assert expiry is not None and 600 - elapsed - 1 <= expiry <= 600, (expiry, elapsed)

    assert (got["ret/q2"].payload, got["ret/q2"].qos, got["ret/q2"].retain) == (b"two", 2, True)
    assert got["ret/q2"].props.items == []
    assert (got["ret/replaced"].payload, got["ret/replaced"].qos) == (b"new", 1)
    assert (got["ret/v3"].payload, got["ret/v3"].qos, got["ret/v3"].retain) == (b"three", 0, True)
    assert got["ret/v3"].props.items == []


def sub_options(qos, **kwargs):
    return raw.sub_options(qos=qos, **kwargs)


@durabilities
def test_v5_subscription_options_act_after_restart(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    sub = connect_session(raws, broker, "opts-sub", 5)
    ack = sub.subscribe([("o/qos1", sub_options(1))], props=[(raw.SUBSCRIPTION_IDENTIFIER, 7)])
    assert ack.codes == [1]
    ack = sub.subscribe([
        ("o/nl", sub_options(2, no_local=True)),
        ("o/rap", sub_options(2, retain_as_published=True)),
        ("o/norap", sub_options(2)),
        ("o/rh0", sub_options(2, retain_handling=0)),
        ("o/rh1", sub_options(2, retain_handling=1)),
        ("o/rh2", sub_options(2, retain_handling=2)),
    ])
    assert ack.codes == [2] * 6
    ack = sub.subscribe([("o/sid/#", sub_options(2))], props=[(raw.SUBSCRIPTION_IDENTIFIER, 42)])
    assert ack.codes == [2]
    sub.disconnect()

    broker.restart()
    assert_summary(broker, sessions=1, retained=0, queued=0)
    pub = raws(broker, 5)
    assert pub.connect("opts-pub").rc == 0
    # The subscriptions route while their session is offline: queued, and the PUBACK reports
    # matching subscribers (not 0x10).
    for topic in ("o/rh0", "o/rh1", "o/rh2"):
        assert pub.publish_acked(topic, b"kept " + topic.encode(), qos=1, retain=True).rc == 0
    sub = connect_session(raws, broker, "opts-sub", 5, expect_present=True)
    receiver = Receiver(sub)
    queued = receiver.collect(3)
    assert [summary_of(p) for p in queued] == [
        ("o/rh0", b"kept o/rh0", 1, False, False), ("o/rh1", b"kept o/rh1", 1, False, False),
        ("o/rh2", b"kept o/rh2", 1, False, False)]

    # QoS: granted 1, so a QoS 2 message arrives at QoS 1 [MQTT-3.8.4-6]; identifier 7.
    pub.publish_acked("o/qos1", b"q", qos=2)
    msg = receiver.next()
    assert summary_of(msg) == ("o/qos1", b"q", 1, False, False)
    assert msg.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) == [7]

    # No Local: the subscriber's own message is not sent back [MQTT-3.8.3-3].
    sub.publish("o/nl", b"mine", qos=1)
    assert receiver.expect(raw.PUBACK).rc == 0x10  # its only subscriber is the publisher
    pub.publish_acked("o/nl", b"theirs", qos=1)
    msg = receiver.next()
    assert summary_of(msg) == ("o/nl", b"theirs", 1, False, False)
    assert msg.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) == []

    # Retain As Published keeps RETAIN 1 on live delivery; without it RETAIN is 0
    # [MQTT-3.3.1-12, 3.3.1-13].
    pub.publish_acked("o/rap", b"r", qos=1, retain=True)
    assert summary_of(receiver.next()) == ("o/rap", b"r", 1, True, False)
    pub.publish_acked("o/norap", b"n", qos=1, retain=True)
    assert summary_of(receiver.next()) == ("o/norap", b"n", 1, False, False)

    # Subscription Identifier 42 on the wildcard subscription [MQTT-3.3.4-3].
    pub.publish_acked("o/sid/x", b"s", qos=1)
    msg = receiver.next()
    assert summary_of(msg) == ("o/sid/x", b"s", 1, False, False)
    assert msg.props.get_all(raw.SUBSCRIPTION_IDENTIFIER) == [42]

    # Retain Handling on re-subscription: 0 sends the retained message, 1 does not because the
    # subscription still exists (it survived the restart), 2 never does [MQTT-3.3.1-9..11].
    ack = receiver.subscribe([("o/rh0", sub_options(2, retain_handling=0)),
                              ("o/rh1", sub_options(2, retain_handling=1)),
                              ("o/rh2", sub_options(2, retain_handling=2))])
    assert ack.codes == [2, 2, 2]
    assert [summary_of(p) for p in receiver.quiet(0.5)] == [
        ("o/rh0", b"kept o/rh0", 1, True, False)]
    # Control: a new subscription with Retain Handling 1 does get the retained message.
    ack = receiver.subscribe([("o/+", sub_options(2, retain_handling=1))])
    assert ack.codes == [2]
    got = sorted((p.topic, p.retain) for p in receiver.quiet(0.5))
    assert got == [("o/norap", True), ("o/rap", True), ("o/rh0", True), ("o/rh1", True),
                   ("o/rh2", True)]


@durabilities
def test_v311_session_and_granted_qos_survive_restart(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    sub = connect_session(raws, broker, "v3-sub", 4)
    assert sub.subscribe([("v3/q0", 0), ("v3/q1", 1), ("v3/q2", 2)]).codes == [0, 1, 2]
    sub.disconnect()
    # A clean session is not stored [MQTT-3.1.2-6].
    transient = connect_session(raws, broker, "v3-clean", 4, clean=True)
    assert transient.subscribe([("v3/#", 1)]).codes == [1]
    transient.disconnect()

    broker.restart()
    assert_summary(broker, sessions=1, queued=0, retained=0)
    sub = connect_session(raws, broker, "v3-sub", 4, expect_present=True)  # [MQTT-3.2.2-2]
    receiver = Receiver(sub)
    pub = raws(broker, 4)
    assert pub.connect("v3-pub").rc == 0
    for topic in ("v3/q0", "v3/q1", "v3/q2"):
        pub.publish_acked(topic, b"two", qos=2)
    got = receiver.collect(3)
    assert [(p.topic, p.qos) for p in got] == [("v3/q0", 0), ("v3/q1", 1), ("v3/q2", 2)]
    assert receiver.quiet(0.3) == []
    again = connect_session(raws, broker, "v3-clean", 4, clean=False, expect_present=False)
    again.disconnect()


@durabilities
@protos
def test_offline_queue_survives_restart_in_order(make_broker, raws, durability, proto):
    broker = durable_broker(make_broker, durability, queue_qos0_offline=True)
    sub = connect_session(raws, broker, "queue-sub", proto)
    assert sub.subscribe([("queue/#", 2)]).codes == [2]
    sub.disconnect()
    pub = raws(broker, proto)
    assert pub.connect("queue-pub").rc == 0
    expected = []
    for i in range(60):
        qos, topic, payload = i % 3, "queue/%s" % "ab"[i % 2], b"m%02d" % i
        if qos:
            assert pub.publish_acked(topic, payload, qos=qos).rc == 0
        else:
            pub.publish(topic, payload, qos=0)
        expected.append((topic, payload, qos, False, False))
    assert pub.is_open()

    broker.restart()
    assert_summary(broker, sessions=1, queued=60, retained=0)
    sub = connect_session(raws, broker, "queue-sub", proto, expect_present=True)
    receiver = Receiver(sub)
    # Same order as published [MQTT-4.6.0-6], each once, none flagged DUP.
    assert [summary_of(p) for p in receiver.collect(60)] == expected
    assert receiver.quiet(0.5) == []
    assert receiver.awaiting_pubrel == {}
    sub.disconnect()

    broker.restart()  # everything was acknowledged: nothing left
    assert_summary(broker, sessions=1, queued=0)
    sub = connect_session(raws, broker, "queue-sub", proto, expect_present=True)
    sub.expect_nothing(0.3)


@durabilities
@pytest.mark.parametrize("policy", ["refuse-newest", "drop-oldest"])
def test_full_queue_policy_applies_to_stored_queue(make_broker, raws, durability, policy):
    broker = durable_broker(make_broker, durability, max_queued_messages=5,
                            limits={"queue_full_policy": policy})
    sub = connect_session(raws, broker, "full-sub", 5)
    assert sub.subscribe([("full/#", 1)]).codes == [1]
    sub.disconnect()
    pub = raws(broker, 5)
    assert pub.connect("full-pub").rc == 0
    for i in range(8):
        pub.publish_acked("full/t", b"m%d" % i, qos=1)

    broker.restart()
    # What the policy dropped is gone from the database too.
    assert_summary(broker, sessions=1, queued=5)
    kept = range(5) if policy == "refuse-newest" else range(3, 8)
    receiver = Receiver(connect_session(raws, broker, "full-sub", 5, expect_present=True))
    assert [p.payload for p in receiver.collect(5)] == [b"m%d" % i for i in kept]
    assert receiver.quiet(0.3) == []


@durabilities
@protos
def test_unacknowledged_qos1_redelivered_with_dup_after_restart(make_broker, raws, durability,
                                                                proto):
    broker = durable_broker(make_broker, durability, max_inflight=3)
    sub = connect_session(raws, broker, "inflight-sub", proto)
    assert sub.subscribe([("inflight/#", 1)]).codes == [1]
    pub = raws(broker, proto)
    assert pub.connect("inflight-pub").rc == 0
    for i in range(6):
        pub.publish_acked("inflight/t", b"m%d" % i, qos=1)
    first = [sub.recv_publish(ack=False) for _ in range(3)]
    assert [(p.payload, p.dup) for p in first] == [(b"m0", False), (b"m1", False), (b"m2", False)]
    sub.expect_nothing(0.3)  # the in-flight window (3) is full: m3..m5 wait in the queue

    broker.restart()
    assert_summary(broker, sessions=1, queued=6)
    sub = connect_session(raws, broker, "inflight-sub", proto, expect_present=True)
    # Resent first, in order, with DUP 1 and their original packet ids [MQTT-4.4.0-1, 3.3.1-1].
    again = [sub.recv_publish(ack=False) for _ in range(3)]
    assert [(p.payload, p.dup, p.qos, p.packet_id) for p in again] == [
        (p.payload, True, 1, p.packet_id) for p in first]
    for pkt in again:
        sub.send(raw.puback(pkt.packet_id, proto=proto))
    rest = [sub.recv_publish() for _ in range(3)]
    assert [(p.payload, p.dup, p.qos) for p in rest] == [
        (b"m3", False, 1), (b"m4", False, 1), (b"m5", False, 1)]
    sub.expect_nothing(0.5)
    sub.disconnect()

    broker.restart()
    assert_summary(broker, sessions=1, queued=0)


@durabilities
@protos
def test_qos2_pubrel_pending_completes_after_restart(make_broker, raws, durability, proto):
    broker = durable_broker(make_broker, durability)
    sub = connect_session(raws, broker, "rel-sub", proto)
    assert sub.subscribe([("rel/#", 2)]).codes == [2]
    pub = raws(broker, proto)
    assert pub.connect("rel-pub").rc == 0
    for payload in (b"one", b"two", b"three"):
        pub.publish_acked("rel/t", payload, qos=2)
    got = [sub.recv_publish(ack=False) for _ in range(3)]
    assert [(p.payload, p.qos, p.dup) for p in got] == [
        (b"one", 2, False), (b"two", 2, False), (b"three", 2, False)]
    # one and two: PUBREC sent, PUBREL received, PUBCOMP withheld. three: no PUBREC.
    for pkt in got[:2]:
        sub.send(raw.pubrec(pkt.packet_id, proto=proto))
    rels = [sub.recv_type(raw.PUBREL).packet_id for _ in range(2)]
    assert rels == [got[0].packet_id, got[1].packet_id]
    sub.expect_nothing(0.3)

    broker.restart()
    assert_summary(broker, sessions=1, queued=3)
    sub = connect_session(raws, broker, "rel-sub", proto, expect_present=True)
    # After PUBREC the sender resends PUBREL, never the PUBLISH [MQTT-4.3.3-5]; the message still
    # awaiting PUBREC comes again with DUP 1 and its id, all in the original order [MQTT-4.6.0-2].
    resent = [sub.recv(5.0) for _ in range(3)]
    assert [(p.type, p.packet_id) for p in resent] == [
        (raw.PUBREL, got[0].packet_id), (raw.PUBREL, got[1].packet_id),
        (raw.PUBLISH, got[2].packet_id)]
    assert (resent[2].payload, resent[2].dup, resent[2].qos) == (b"three", True, 2)
    for pkt in got[:2]:
        sub.send(raw.pubcomp(pkt.packet_id, proto=proto))
    sub.ack(resent[2])  # PUBREC, PUBREL, PUBCOMP
    sub.expect_nothing(0.5)
    sub.disconnect()

    broker.restart()
    assert_summary(broker, sessions=1, queued=0)
    sub = connect_session(raws, broker, "rel-sub", proto, expect_present=True)
    sub.expect_nothing(0.5)


@durabilities
@protos
def test_incoming_qos2_packet_ids_survive_restart(make_broker, raws, durability, proto):
    broker = durable_broker(make_broker, durability)
    watcher = connect_session(raws, broker, "in2-sub", proto)
    receiver = Receiver(watcher)
    assert receiver.subscribe([("in2/#", 2)]).codes == [2]
    pub = connect_session(raws, broker, "in2-pub", proto)
    for pid, payload in ((10, b"a"), (11, b"b")):
        pub.publish("in2/t", payload, qos=2, packet_id=pid)
        rec = pub.recv_type(raw.PUBREC)
        assert (rec.packet_id, rec.rc) == (pid, 0)
    assert [p.payload for p in receiver.collect(2)] == [b"a", b"b"]
    assert receiver.quiet(0.3) == []
    assert receiver.awaiting_pubrel == {}  # both flows to the subscriber completed

    broker.restart()
    assert_summary(broker, sessions=2, queued=0)
    pub = connect_session(raws, broker, "in2-pub", proto, expect_present=True)
    receiver.attach(connect_session(raws, broker, "in2-sub", proto, expect_present=True))
    # 11 again, as if its PUBREC had been lost: the broker still owns it, so it answers PUBREC
    # and delivers nothing [MQTT-4.3.3-9, 4.3.3-10].
    pub.publish("in2/t", b"b", qos=2, dup=True, packet_id=11)
    rec = pub.recv_type(raw.PUBREC)
    assert (rec.packet_id, rec.rc) == (11, 0)
    for pid in (10, 11):
        pub.send(raw.pubrel(pid, proto=proto))
        comp = pub.recv_type(raw.PUBCOMP)
        assert (comp.packet_id, comp.rc) == (pid, 0)  # known ids: not 0x92
    assert receiver.quiet(0.5) == []
    # Released ids are forgotten: PUBREL again is 0x92 (v5), and id 10 carries a new message.
    pub.send(raw.pubrel(10, proto=proto))
    comp = pub.recv_type(raw.PUBCOMP)
    assert (comp.packet_id, comp.rc) == (10, 0x92 if proto == 5 else 0)
    pub.publish_acked("in2/t", b"c", qos=2)
    assert [p.payload for p in receiver.collect(1)] == [b"c"]
    assert receiver.quiet(0.3) == []


@durabilities
def test_delayed_will_published_after_restart(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    watcher = connect_session(raws, broker, "will-watch", 5)
    receiver = Receiver(watcher)
    assert receiver.subscribe([("will/#", 1)]).codes == [1]
    dying = connect_session(raws, broker, "will-dying", 5, expiry=60, will={
        "topic": "will/dying", "payload": b"gone", "qos": 1,
        "props": [(raw.WILL_DELAY_INTERVAL, 2)]})
    back = connect_session(raws, broker, "will-back", 5, expiry=60, will={
        "topic": "will/back", "payload": b"back", "qos": 1,
        "props": [(raw.WILL_DELAY_INTERVAL, 5)]})
    dying.close()  # no DISCONNECT: both wills are due after their delay [MQTT-3.1.3-9]
    back.close()
    died_at = time.monotonic()
    assert receiver.quiet(0.3) == []
    watcher.disconnect()

    broker.restart()
    assert_summary(broker, sessions=3)
    receiver.attach(connect_session(raws, broker, "will-watch", 5, expect_present=True))
    # will-back resumes its session before its delay ends: the will is not sent.
    connect_session(raws, broker, "will-back", 5, expiry=60, expect_present=True)
    assert time.monotonic() - died_at < 5, "restart too slow for this test"
    msg = receiver.next(timeout=10)
    arrived = time.monotonic() - died_at
    assert (msg.topic, msg.payload, msg.qos) == ("will/dying", b"gone", 1)
    # Neither at shutdown nor at start-up: after its delay from the client's death.
    assert 1.8 <= arrived < 4.5, "will published %.2f s after the client died (delay 2 s)" % (
        arrived,)
    assert receiver.quiet(max(died_at + 5.5 - time.monotonic(), 0.3)) == []


def sys_counter(raws, broker, topic, at_least, timeout=6.0):
    """The value of a retained numeric $SYS topic once it reaches `at_least` (within timeout)."""
    watcher = raws(broker, 5)
    assert watcher.connect("sys-watcher-%d" % time.monotonic_ns()).rc == 0
    assert watcher.subscribe([(topic, 0)]).codes == [0]
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            pkt = watcher.recv_type(raw.PUBLISH, max(deadline - time.monotonic(), 0.01))
        except Exception:  # noqa: BLE001 - timed out: report the last value seen
            break
        value = int(pkt.payload)
        if value >= at_least:
            break
    watcher.disconnect()
    return value


@durabilities
def test_write_delay_acknowledged_entries_are_never_written(make_broker, raws, durability):
    # An online subscriber's acknowledgement is what releases the publisher's, long before the
    # (longest) write delay is over: the queue entry is never written.
    broker = durable_broker(make_broker, durability, storage={"write_delay_ms": 1000},
                            sys_interval=1)
    sub = connect_session(raws, broker, "wd-sub", 5)
    assert sub.subscribe([("wd/#", 1)]).codes == [1]
    pub = raws(broker, 5)
    assert pub.connect("wd-pub").rc == 0
    waits = []
    for i in range(20):
        started = time.monotonic()
        pid = pub.publish("wd/t", b"m%d" % i, qos=1)
        got = sub.recv_publish(timeout=5.0, ack=True)
        assert got.payload == b"m%d" % i
        puback = pub.recv_type(raw.PUBACK, timeout=5.0)
        assert puback.packet_id == pid
        waits.append(time.monotonic() - started)
    assert sorted(waits)[len(waits) // 2] < 0.5, "PUBACK after %s s (write delay 1 s)" % waits
    # Each message's queue entry was created and erased without a write: 2 operations each.
    cancelled = sys_counter(raws, broker, "$SYS/broker/storage/ops/cancelled", 40)
    assert cancelled is not None and cancelled >= 40, cancelled
    # And nothing of them is left to restore after a crash: they were delivered.
    kill_and_start(broker)
    assert_summary(broker, sessions=1, queued=0)


@durabilities
def test_write_delay_does_not_hold_offline_sessions_entries(make_broker, raws, durability):
    # An offline session's entry cannot be acknowledged soon: it is written at once, so the
    # publisher's PUBACK does not wait out the (longest) delay, and it survives kill -9.
    broker = durable_broker(make_broker, durability, storage={"write_delay_ms": 1000})
    sub = connect_session(raws, broker, "wdo-sub", 5)
    assert sub.subscribe([("wdo/#", 1)]).codes == [1]
    sub.disconnect()
    pub = raws(broker, 5)
    assert pub.connect("wdo-pub").rc == 0
    waits = []
    for i in range(5):
        started = time.monotonic()
        pub.publish_acked("wdo/t", b"m%d" % i, qos=1, timeout=5.0)
        waits.append(time.monotonic() - started)
    assert sorted(waits)[len(waits) // 2] < 0.5, "PUBACK after %s s (write delay 1 s)" % waits
    kill_and_start(broker)
    assert_summary(broker, sessions=1, queued=5)
    receiver = Receiver(connect_session(raws, broker, "wdo-sub", 5, expect_present=True))
    assert [p.payload for p in receiver.collect(5)] == [b"m%d" % i for i in range(5)]


@durabilities
def test_write_delay_bounds_the_wait_for_a_silent_subscriber(make_broker, raws, durability):
    # A subscriber that receives but does not acknowledge: the entry is written once the delay
    # has passed, then the publisher gets its PUBACK, and a crash keeps the message.
    broker = durable_broker(make_broker, durability, storage={"write_delay_ms": 1000})
    sub = connect_session(raws, broker, "wds-sub", 5)
    assert sub.subscribe([("wds/#", 1)]).codes == [1]
    pub = raws(broker, 5)
    assert pub.connect("wds-pub").rc == 0
    started = time.monotonic()
    pid = pub.publish("wds/t", b"kept", qos=1)
    assert sub.recv_publish(timeout=5.0, ack=False).payload == b"kept"
    puback = pub.recv_type(raw.PUBACK, timeout=10.0)
    waited = time.monotonic() - started
    assert puback.packet_id == pid
    assert 0.9 <= waited < 8.0, "PUBACK after %.2f s (write delay 1 s)" % waited
    kill_and_start(broker)
    assert_summary(broker, sessions=1, queued=1)
    receiver = Receiver(connect_session(raws, broker, "wds-sub", 5, expect_present=True))
    assert [p.payload for p in receiver.collect(1)] == [b"kept"]


@durabilities
def test_acknowledgements_keep_publish_order_whatever_they_wait_for(make_broker, raws, durability):
    # PUBACKs wait for different things: the publisher's loop's storage batch (an entry of a
    # persistent session), another loop recording a delivery (clean subscribers, on other loops
    # with more workers), both, the write delay of a subscriber that never acknowledges, or
    # nothing (no subscriber). They still leave in the order of the PUBLISHes [MQTT-4.6.0-2].
    broker = durable_broker(make_broker, durability, storage={"write_delay_ms": 300})
    durable = connect_session(raws, broker, "ord-durable", 5)
    assert durable.subscribe([("ord/d", 1), ("ord/both", 1)]).codes == [1, 1]
    silent = connect_session(raws, broker, "ord-silent", 5)
    assert silent.subscribe([("ord/s", 1)]).codes == [1]
    cleans = []
    for n in range(4):
        clean = raws(broker, 5)
        assert clean.connect("ord-clean-%d" % n).rc == 0
        assert clean.subscribe([("ord/c", 1), ("ord/both", 1)]).codes == [1, 1]
        cleans.append(clean)
    pub = raws(broker, 5)
    assert pub.connect("ord-pub").rc == 0
    topics = ["ord/d", "ord/c", "ord/s", "ord/none", "ord/both", "ord/d", "ord/c", "ord/none"]
    ids = [pub.publish(topics[i % len(topics)], b"m%d" % i, qos=1) for i in range(80)]
    # The subscribers that acknowledge do (the silent one's entries wait out the delay).
    def expected(topic_names):
        return sum(1 for i in range(80) if topics[i % len(topics)] in topic_names)
    for _ in range(expected({"ord/d", "ord/both"})):
        durable.recv_publish(timeout=5.0, ack=True)
    for clean in cleans:
        for _ in range(expected({"ord/c", "ord/both"})):
            clean.recv_publish(timeout=5.0, ack=True)
    for _ in range(expected({"ord/s"})):
        silent.recv_publish(timeout=5.0, ack=False)
    acked = [pub.recv_type(raw.PUBACK, timeout=10.0).packet_id for _ in ids]
    assert acked == ids


@durabilities
def test_expired_sessions_are_not_restored(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    for client_id, expiry in (("exp-short", 2), ("exp-runtime", 1), ("exp-long", 300)):
        conn = connect_session(raws, broker, client_id, 5, expiry=expiry)
        assert conn.subscribe([("exp/#", 1)]).codes == [1]
        conn.disconnect()
    pub = raws(broker, 5)
    assert pub.connect("exp-pub").rc == 0
    pub.publish_acked("exp/t", b"m1", qos=1)
    pub.publish_acked("exp/t", b"m2", qos=1)
    time.sleep(1.6)  # exp-runtime expires while the broker runs
    code = broker.stop()
    broker.check_exit(code)
    time.sleep(3.0)  # exp-short expires while the broker is down
    broker.start()
    # Only exp-long and its two messages come back; exp-short is removed at start-up, and
    # exp-runtime was already removed while the broker ran.
    assert_summary(broker, sessions=1, queued=2, removed=1)
    for client_id in ("exp-short", "exp-runtime"):
        conn = connect_session(raws, broker, client_id, 5, expiry=0, expect_present=False)
        conn.expect_nothing(0.3)
        conn.disconnect()
    # Their subscriptions went with them: only exp-long matches.
    pub = raws(broker, 5)
    assert pub.connect("exp-pub").rc == 0
    pub.publish_acked("exp/t", b"m3", qos=1)
    long = Receiver(connect_session(raws, broker, "exp-long", 5, expect_present=True))
    assert [p.payload for p in long.collect(3)] == [b"m1", b"m2", b"m3"]
    assert long.quiet(0.3) == []


@durabilities
def test_expired_messages_are_not_restored(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    sub = connect_session(raws, broker, "em-sub", 5)
    assert sub.subscribe([("em/#", 1)]).codes == [1]
    sub.disconnect()
    pub = raws(broker, 5)
    assert pub.connect("em-pub").rc == 0
    published_at = time.monotonic()
    short = [(raw.MESSAGE_EXPIRY_INTERVAL, 1)]
    pub.publish_acked("em/short", b"s", qos=1, retain=True, props=short)
    pub.publish_acked("em/long", b"l", qos=1, retain=True,
                      props=[(raw.MESSAGE_EXPIRY_INTERVAL, 600)])
    pub.publish_acked("em/queued-short", b"q", qos=1, props=short)
    code = broker.stop()
    broker.check_exit(code)
    time.sleep(2.0)
    broker.start()
    # Expired: the retained em/short and the queued copies of em/short and em/queued-short.
    assert_summary(broker, retained=1, sessions=1, queued=1, removed=3)
    receiver = Receiver(connect_session(raws, broker, "em-sub", 5, expect_present=True))
    msg = receiver.next()
    assert (msg.topic, msg.payload, msg.retain) == ("em/long", b"l", False)
    expiry = msg.props.get(raw.MESSAGE_EXPIRY_INTERVAL)
    elapsed = time.monotonic() - published_at
    assert expiry is not None and 600 - elapsed - 1 <= expiry <= 598, (expiry, elapsed)
    assert receiver.quiet(0.3) == []
    fresh = Receiver(raws(broker, 5))
    assert fresh.raw.connect("em-fresh").rc == 0
    assert fresh.subscribe([("em/#", 1)]).codes == [1]
    assert [(p.topic, p.retain) for p in fresh.quiet(0.5)] == [("em/long", True)]


@protos
def test_memory_durability_forgets_everything(make_broker, raws, proto):
    broker = durable_broker(make_broker, "memory")
    assert "storage: memory only" in broker.stderr()
    for client_id in ("mem-sub", "mem-control"):
        conn = connect_session(raws, broker, client_id, proto)
        assert conn.subscribe([("mem/#", 1)]).codes == [1]
        conn.disconnect()
    pub = raws(broker, proto)
    assert pub.connect("mem-pub").rc == 0
    pub.publish_acked("mem/r", b"r", qos=1, retain=True)
    pub.publish_acked("mem/q", b"q", qos=1)
    # Control: while the broker runs, the session, its queue and the retained message exist.
    control = Receiver(connect_session(raws, broker, "mem-control", proto, expect_present=True))
    assert [p.payload for p in control.collect(2)] == [b"r", b"q"]
    control.raw.disconnect()

    broker.restart()
    assert "storage: memory only" in broker.stderr()
    assert SUMMARY_RE.search(broker.stderr()) is None
    for client_id in ("mem-sub", "mem-control"):
        conn = connect_session(raws, broker, client_id, proto, expect_present=False)
        conn.expect_nothing(0.3)
    fresh = Receiver(raws(broker, proto))
    assert fresh.raw.connect("mem-fresh").rc == 0
    assert fresh.subscribe([("mem/#", 1)]).codes == [1]
    assert fresh.quiet(0.5) == []  # no retained message
    assert os.listdir(broker.data_dir) == []  # nothing was written


# --------------------------------------------------------------------------------------------
# 3. Damaged, foreign or unusable data directories
# --------------------------------------------------------------------------------------------

START_FAILURE_TIMEOUT = 15.0
STOP_WAIT = 10.0
IGNORED_FILES = re.compile(r"^(LOG.*|LOCK)$")  # RocksDB's info log rotates even on failure


def database_snapshot(directory):
    """name -> sha256 of every file RocksDB keeps data in (not the info LOG or the LOCK)."""
    snapshot = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if IGNORED_FILES.match(name) or not os.path.isfile(path):
            continue
        with open(path, "rb") as handle:
            snapshot[name] = hashlib.sha256(handle.read()).hexdigest()
    return snapshot


def run_until_exit(broker, prefix=(), extra=(), timeout=START_FAILURE_TIMEOUT):
    """Run tern once, expecting it to exit by itself; returns (exit code, output). If it starts
    serving instead, it is stopped and the code is None."""
    log = broker.dir / ("exit-%d.log" % time.monotonic_ns())
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(prefix) + broker.command() + list(extra),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                cwd=str(broker.dir))
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if "tern started" in log.read_text(errors="replace"):
                proc.send_signal(signal.SIGTERM)
                proc.wait(STOP_WAIT)
                return None, "tern STARTED instead of refusing:\n" + log.read_text(
                    errors="replace")
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail("tern still running after %.0f s:\n%s" % (
                    timeout, log.read_text(errors="replace")))
            time.sleep(0.05)
    return proc.returncode, log.read_text(errors="replace")


def assert_refused(code, text, path, reason=None):
    """Start-up failed cleanly: a positive exit code (no signal), no sanitizer report, and a
    message naming the data dir and why."""
    assert code is not None and code > 0, "tern exit code %r:\n%s" % (code, text[-3000:])
    for marker in SANITIZER_MARKERS:
        assert marker not in text, text[-3000:]
    assert str(path) in text, "stderr does not name %s:\n%s" % (path, text[-3000:])
    match = re.search(re.escape(str(path)) + r"\S*: (\S.*)", text)
    assert match, "no reason after the path:\n%s" % text[-3000:]
    if reason is not None:
        assert re.search(reason, text, re.IGNORECASE), "reason %r not in:\n%s" % (
            reason, text[-3000:])


RETAINED_COUNT = 5


def populate(broker, raws, proto=4):
    """Five retained messages, each acknowledged (one WAL record each); a persistent session
    with one queued message."""
    sub = connect_session(raws, broker, "corrupt-sub", proto)
    assert sub.subscribe([("queued/#", 1)]).codes == [1]
    sub.disconnect()
    pub = raws(broker, proto)
    assert pub.connect("corrupt-pub").rc == 0
    pub.publish_acked("queued/t", b"waiting", qos=1)
    for i in range(RETAINED_COUNT):
        pub.publish_acked("corrupt/%d" % i, b"value %d" % i, qos=1, retain=True)
    pub.disconnect()


def retained_topics(broker, raws):
    conn = raws(broker, 4)
    assert conn.connect("reader").rc == 0
    receiver = Receiver(conn)
    assert receiver.subscribe([("corrupt/#", 1)]).codes == [1]
    got = receiver.quiet(0.7)
    conn.disconnect()
    assert all(p.payload == b"value " + p.topic[len("corrupt/"):].encode() for p in got), got
    return sorted(p.topic for p in got)


def xor_range(path, start, length):
    with open(path, "r+b") as handle:
        handle.seek(start)
        data = handle.read(length)
        handle.seek(start)
        handle.write(bytes(b ^ 0xA5 for b in data))


def files_matching(directory, pattern):
    found = sorted(p for p in directory.iterdir() if re.fullmatch(pattern, p.name))
    assert found, "no %s in %s: %r" % (pattern, directory, os.listdir(directory))
    return found


def _current_empty(d):
    (d / "CURRENT").write_bytes(b"")


def _current_garbage(d):
    (d / "CURRENT").write_bytes(b"\x00\x13garbage\n")


def _current_missing(d):
    (d / "CURRENT").unlink()


def _manifest_truncated(d):
    for path in files_matching(d, r"MANIFEST-\d+"):
        os.truncate(path, path.stat().st_size // 2)


def _manifest_garbage(d):
    for path in files_matching(d, r"MANIFEST-\d+"):
        size = path.stat().st_size
        xor_range(path, size // 3, size // 3)


def _sst_truncated(d):
    for path in files_matching(d, r"\d+\.sst"):
        os.truncate(path, path.stat().st_size // 2)


def _sst_garbage(d):
    for path in files_matching(d, r"\d+\.sst"):
        size = path.stat().st_size
        xor_range(path, size // 3, size // 3)


CORRUPTIONS = {
    "CURRENT-empty": (_current_empty, "corrupt|CURRENT"),
    "CURRENT-garbage": (_current_garbage, "corrupt|CURRENT"),
    "CURRENT-missing": (_current_missing, "CURRENT"),
    "MANIFEST-truncated": (_manifest_truncated, "corrupt|MANIFEST"),
    "MANIFEST-garbage": (_manifest_garbage, "corrupt|checksum|MANIFEST"),
    "sst-truncated": (_sst_truncated, "corrupt|sst"),
    "sst-garbage": (_sst_garbage, "corrupt|checksum|sst"),
}


@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_damaged_database_refuses_to_start(make_broker, raws, damage):
    broker = durable_broker(make_broker, "async")
    populate(broker, raws)
    broker.check_exit(broker.stop())  # graceful: the data is in MANIFEST + *.sst
    corrupt, reason = CORRUPTIONS[damage]
    corrupt(broker.data_dir)
    before = database_snapshot(broker.data_dir)
    code, text = run_until_exit(broker)
    assert_refused(code, text, broker.data_dir, reason)
    # Nothing was replaced or recreated: the damaged files are as they were.
    assert database_snapshot(broker.data_dir) == before

    if "--repair" not in subprocess.run([broker.command()[0], "--help"], capture_output=True,
                                        text=True).stdout:
        return
    code, text = run_until_exit(broker, extra=["--repair"])
    assert code == 0, "tern --repair exited %r:\n%s" % (code, text[-3000:])
    broker.start()
    topics = retained_topics(broker, raws)
    if damage.startswith(("CURRENT", "MANIFEST")):
        # The tables are intact: repair recovers every record.
        assert topics == ["corrupt/%d" % i for i in range(RETAINED_COUNT)]
        assert storage_summary(broker)["sessions"] == 1


WAL_BLOCK = 32768
WAL_HEADER = 7  # crc32c (4), length (2), type (1); recyclable records (types 5..8) have 11
WAL_FULL_RECORD = 1


def wal_records(data):
    """(offset, header size, payload length, type) of each record of a RocksDB WAL file."""
    records = []
    pos = 0
    while pos + WAL_HEADER <= len(data):
        left = WAL_BLOCK - pos % WAL_BLOCK
        if left < WAL_HEADER:
            pos += left  # block trailer padding
            continue
        _crc, length, rtype = struct.unpack_from("<IHB", data, pos)
        if rtype == 0 and length == 0:
            break
        header = 11 if 5 <= rtype <= 8 else WAL_HEADER
        records.append((pos, header, length, rtype))
        pos += header + length
    return records


def crashed_wal(broker, raws, proto=4):
    """populate() then kill -9: the records exist only in the WAL. Returns its path and records,
    the last one holding the last retained message."""
    populate(broker, raws, proto)
    broker.proc.kill()
    assert broker.wait_exit() == -signal.SIGKILL
    logs = [p for p in files_matching(broker.data_dir, r"\d+\.log") if p.stat().st_size > 0]
    assert len(logs) == 1, [(p.name, p.stat().st_size) for p in logs]
    data = logs[0].read_bytes()
    records = wal_records(data)
    assert len(records) >= RETAINED_COUNT + 1, records
    offset, header, length, _ = records[-1]
    assert b"corrupt/%d" % (RETAINED_COUNT - 1) in data[offset:offset + header + length]
    assert offset + header + length == len(data), "trailing bytes after the last WAL record"
    return logs[0], data, records


def test_damaged_wal_record_refuses_to_start(make_broker, raws):
    # A record in the middle of the WAL fails its checksum while complete records follow it:
    # that is damage, not a torn write. Starting would silently drop every acknowledged write
    # after it (retained messages, sessions, queues).
    broker = durable_broker(make_broker, "async")
    path, data, records = crashed_wal(broker, raws)
    offset, header, length, rtype = records[-3]
    assert rtype == WAL_FULL_RECORD, records
    xor_range(path, offset + header + length // 2, 4)
    before = database_snapshot(broker.data_dir)
    code, text = run_until_exit(broker)
    assert_refused(code, text, broker.data_dir, "corrupt|checksum|WAL|log")
    assert database_snapshot(broker.data_dir) == before


def test_torn_wal_tail_keeps_complete_records(make_broker, raws):
    # A record cut short at the end of the WAL is what a crash during a write leaves: the
    # complete records before it (every acknowledged write) must come back.
    broker = durable_broker(make_broker, "async")
    path, data, records = crashed_wal(broker, raws)
    offset, header, length, _ = records[-1]
    os.truncate(path, offset + header + length // 2)
    broker.start()
    assert_summary(broker, retained=RETAINED_COUNT - 1, sessions=1, queued=1)
    assert retained_topics(broker, raws) == ["corrupt/%d" % i for i in range(RETAINED_COUNT - 1)]


def test_foreign_directory_contents_are_not_replaced(make_broker):
    # Database-looking files without CURRENT: refuse rather than create a new database there.
    broker = durable_broker(make_broker, "async", start=False)
    (broker.data_dir / "000007.log").write_bytes(b"someone else's data")
    (broker.data_dir / "MANIFEST-000004").write_bytes(b"not ours")
    before = database_snapshot(broker.data_dir)
    code, text = run_until_exit(broker)
    assert_refused(code, text, broker.data_dir, "CURRENT")
    assert database_snapshot(broker.data_dir) == before


def test_data_dir_that_is_a_file_is_refused(make_broker):
    broker = durable_broker(make_broker, "async", start=False)
    path = broker.dir / "datafile"
    path.write_bytes(b"not a database\n")
    configure_storage(broker, "async", data_dir=path)
    code, text = run_until_exit(broker)
    assert_refused(code, text, path, "not a directory")
    assert path.read_bytes() == b"not a database\n"
    # Below a file: cannot be created.
    below = path / "data"
    configure_storage(broker, "async", data_dir=below)
    code, text = run_until_exit(broker)
    assert_refused(code, text, below, "not a directory")


def without_dac_override():
    """Prefix that makes root obey file permissions (setpriv drops CAP_DAC_*); none otherwise."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")


def test_unwritable_data_dir_is_refused(make_broker, raws):
    broker = durable_broker(make_broker, "async", start=False)
    prefix = without_dac_override()
    parent = broker.dir / "readonly"
    parent.mkdir()
    missing = parent / "data"
    configure_storage(broker, "async", data_dir=missing)
    parent.chmod(0o555)
    try:
        code, text = run_until_exit(broker, prefix)
        assert_refused(code, text, missing, "permission denied")
        assert not missing.exists()
    finally:
        parent.chmod(0o755)

    # An existing database in a directory tern may not write to.
    configure_storage(broker, "async")
    broker.start()
    populate(broker, raws)
    broker.check_exit(broker.stop())
    before = database_snapshot(broker.data_dir)
    broker.data_dir.chmod(0o555)
    try:
        code, text = run_until_exit(broker, prefix)
        assert_refused(code, text, broker.data_dir, "permission denied")
    finally:
        broker.data_dir.chmod(0o755)
    assert database_snapshot(broker.data_dir) == before
    broker.start()  # writable again: everything is there
    assert_summary(broker, retained=RETAINED_COUNT, sessions=1, queued=1)


def test_data_dir_in_use_is_refused(make_broker, raws):
    first = durable_broker(make_broker, "async")
    populate(first, raws)
    second = durable_broker(make_broker, "async", start=False)
    configure_storage(second, "async", data_dir=first.data_dir)
    code, text = run_until_exit(second)
    assert_refused(code, text, first.data_dir, "lock")
    assert "process %d" % first.proc.pid in text, text[-2000:]
    assert retained_topics(first, raws) == ["corrupt/%d" % i for i in range(RETAINED_COUNT)]
