"""$SYS topics: the broker's statistics, published (retained) every sys_interval seconds.

Topic names follow mosquitto's $SYS tree; payloads are ASCII: "tern version X.Y.Z",
"N seconds" for the uptime and plain decimal integers for the counters.
"""

import re
import time

import pytest

from broker_process import IS_MOSQUITTO
from helpers import eventually

# tern-only as a whole (validated against mosquitto with TERN_TEST_ALL=1, except the retained
# count test, where mosquitto's own $SYS topics change the count).
pytestmark = pytest.mark.tern_only

VERSION = "$SYS/broker/version"
UPTIME = "$SYS/broker/uptime"
CLIENTS_CONNECTED = "$SYS/broker/clients/connected"
MESSAGES_RECEIVED = "$SYS/broker/messages/received"
MESSAGES_SENT = "$SYS/broker/messages/sent"
BYTES_RECEIVED = "$SYS/broker/bytes/received"
BYTES_SENT = "$SYS/broker/bytes/sent"
SUBSCRIPTIONS = "$SYS/broker/subscriptions/count"
RETAINED = "$SYS/broker/retained messages/count"

COUNTERS = [CLIENTS_CONNECTED, MESSAGES_RECEIVED, MESSAGES_SENT, BYTES_RECEIVED, BYTES_SENT,
            SUBSCRIPTIONS, RETAINED]
ALL_TOPICS = [VERSION, UPTIME] + COUNTERS
VERSION_RE = r"^%s version \d+\.\d+\.\d+" % ("mosquitto" if IS_MOSQUITTO else "tern")


class SysWatcher:
    """Subscribes to $SYS/# and keeps the latest value of every topic."""

    def __init__(self, broker, clients, client_id="sys-watch"):
        self.client = clients(broker, client_id, 4)
        assert self.client.subscribe("$SYS/#", 0) == [0]
        self.latest = {}
        self.history = {}

    def poll(self, settle=0.05):
        for msg in self.client.drain(settle):
            value = msg.payload.decode()
            self.latest[msg.topic] = value
            self.history.setdefault(msg.topic, []).append((msg.received_at, value, msg.retain))
        return self.latest

    def value(self, topic):
        self.poll()
        return self.latest.get(topic)

    def number(self, topic):
        value = self.value(topic)
        return None if value is None else int(value)

    def wait_number(self, topic, predicate, timeout=4.0):
        """Wait until the topic's latest value satisfies predicate; returns it."""
        return eventually(lambda: (lambda n: n is not None and predicate(n) and (n,))(
            self.number(topic)), timeout, 0.1, "%s never satisfied the condition (last %r)" % (
                topic, self.latest.get(topic)))[0]


@pytest.fixture
def sys_broker(make_broker):
    return make_broker(sys_interval=1)


def test_sys_topics_published_every_interval(sys_broker, clients):
    watch = SysWatcher(sys_broker, clients)
    time.sleep(2.6)
    watch.poll()
    missing = [t for t in ALL_TOPICS if t not in watch.latest]
    assert not missing, "missing $SYS topics: %s (got %s)" % (missing, sorted(watch.latest))
    assert re.match(VERSION_RE, watch.latest[VERSION]), watch.latest[VERSION]
    for topic in COUNTERS:
        assert re.fullmatch(r"\d+", watch.latest[topic]), (topic, watch.latest[topic])
    # First delivery on subscribe comes from the retained store.
    assert all(watch.history[t][0][2] for t in ALL_TOPICS), watch.history
    # The uptime is republished every interval and grows.
    uptimes = [int(re.fullmatch(r"(\d+) seconds", v).group(1)) for _, v, _ in
               watch.history[UPTIME]]
    assert len(uptimes) >= 2 and uptimes[-1] > uptimes[0], watch.history[UPTIME]


def test_sys_interval_zero_publishes_nothing(make_broker, clients):
    broker = make_broker(sys_interval=0)
    watch = SysWatcher(broker, clients)
    time.sleep(1.5)
    assert watch.poll() == {}


def test_sys_clients_connected(sys_broker, clients):
    watch = SysWatcher(sys_broker, clients)
    others = [clients(sys_broker, "c%d" % i, 4) for i in range(3)]
    assert watch.wait_number(CLIENTS_CONNECTED, lambda n: n == 4) == 4
    for client in others[:2]:
        client.disconnect()
    assert watch.wait_number(CLIENTS_CONNECTED, lambda n: n == 2) == 2


def test_sys_subscription_count(sys_broker, clients):
    watch = SysWatcher(sys_broker, clients)
    base = watch.wait_number(SUBSCRIPTIONS, lambda n: n >= 1)  # the watcher's own $SYS/#
    assert base == 1
    sub = clients(sys_broker, "subs", 4)
    assert sub.subscribe([("s/a", 0), ("s/b", 1), ("s/+", 2)]) == [0, 1, 2]
    assert watch.wait_number(SUBSCRIPTIONS, lambda n: n == base + 3) == base + 3
    sub.unsubscribe("s/a")
    assert watch.wait_number(SUBSCRIPTIONS, lambda n: n == base + 2) == base + 2
    sub.disconnect()  # clean session: its subscriptions go with it
    assert watch.wait_number(SUBSCRIPTIONS, lambda n: n == base) == base


def test_sys_message_and_byte_counters(sys_broker, clients):
    watch = SysWatcher(sys_broker, clients)
    time.sleep(1.2)
    before = {t: watch.number(t) for t in (MESSAGES_RECEIVED, MESSAGES_SENT, BYTES_RECEIVED,
                                          BYTES_SENT)}
    assert None not in before.values(), before
    sub = clients(sys_broker, "sub", 4)
    assert sub.subscribe("count/t", 1) == [1]
    pub = clients(sys_broker, "pub", 4)
    payload = b"p" * 1000
    for _ in range(20):
        pub.publish("count/t", payload, qos=1, wait=False)
    assert len(sub.wait_for(20)) == 20
    # 20 PUBLISHes in and 20 out, each carrying 1000 payload bytes.
    watch.wait_number(MESSAGES_RECEIVED, lambda n: n >= before[MESSAGES_RECEIVED] + 20)
    watch.wait_number(MESSAGES_SENT, lambda n: n >= before[MESSAGES_SENT] + 20)
    watch.wait_number(BYTES_RECEIVED, lambda n: n >= before[BYTES_RECEIVED] + 20000)
    watch.wait_number(BYTES_SENT, lambda n: n >= before[BYTES_SENT] + 20000)


@pytest.mark.tern_only  # mosquitto counts its own, growing set of retained $SYS topics too
def test_sys_retained_message_count(sys_broker, clients):
    watch = SysWatcher(sys_broker, clients)
    # Past the first periodic publish: the one at start-up predates the $SYS topics themselves.
    time.sleep(2.2)
    base = watch.number(RETAINED)
    assert base is not None
    pub = clients(sys_broker, "pub", 4)
    for topic in ("rc/a", "rc/b", "rc/c"):
        pub.publish(topic, b"v", qos=1, retain=True)
    assert watch.wait_number(RETAINED, lambda n: n == base + 3) == base + 3
    pub.publish("rc/a", b"replaced", qos=1, retain=True)
    pub.publish("rc/b", b"", qos=1, retain=True)  # cleared
    assert watch.wait_number(RETAINED, lambda n: n == base + 2) == base + 2
