"""Backpressure (limits.pause_publishers): an online subscriber that falls behind pauses the
clients publishing to it instead of the broker queueing, and at the queue limits dropping, for
them; nothing it acknowledged is lost, other clients keep flowing, and clients that publish to
themselves or to each other never wait for each other forever.

Mosquitto queues up to its limits and drops the rest: tern only.
"""

import threading
import time

import pytest

import mqtt_raw as raw
from helpers import SysReader

pytestmark = pytest.mark.tern_only

COUNT = 200
# With max_queued_messages 20 a subscriber is behind at 10 queued messages; max_inflight 5 keeps
# its window small, so that a subscriber that does not acknowledge is behind at once.
SMALL_QUEUE = {"max_queued_messages": 20, "max_inflight": 5}


@pytest.fixture
def dial():
    """dial(broker, proto=4): a raw client; closed at teardown."""
    made = []

    def factory(broker, proto=4, timeout=5.0):
        client = raw.RawClient(broker.host, broker.port, proto, timeout)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def connected(dial, broker, client_id, proto=4):
    client = dial(broker, proto)
    assert client.connect(client_id).rc == 0
    return client


def burst(topic, count=COUNT, qos=1, first_id=1, payload_size=0):
    """count PUBLISHes in one write; payloads are 'm<i>' (padded to payload_size)."""
    return b"".join(
        raw.publish(topic, (b"m%d" % i).ljust(payload_size, b"."), qos=qos,
                    packet_id=first_id + i if qos else None)
        for i in range(count))


def read_all(client, publishes, acks, timeout=10.0):
    """Reads until `publishes` PUBLISHes (acknowledged as they come) and `acks` PUBACKs arrived.
    Returns (payloads in arrival order, PUBACK packet ids)."""
    payloads, acked = [], []
    deadline = time.monotonic() + timeout
    while len(payloads) < publishes or len(acked) < acks:
        try:
            pkt = client.recv(max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            raise AssertionError("after %d PUBLISHes and %d PUBACKs, nothing more came"
                                 % (len(payloads), len(acked))) from None
        if pkt.type == raw.PUBLISH:
            client.ack(pkt)
            payloads.append(pkt.payload.rstrip(b"."))
        elif pkt.type == raw.PUBACK:
            acked.append(pkt.packet_id)
        else:
            raise AssertionError("unexpected %r" % (pkt,))
    return payloads, acked


def acks_within(client, duration):
    """PUBACK packet ids that arrive within duration seconds."""
    acked = []
    deadline = time.monotonic() + duration
    while True:
        try:
            pkt = client.recv(max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            return acked
        assert pkt.type == raw.PUBACK, pkt
        acked.append(pkt.packet_id)


def expected_payloads(count=COUNT):
    return [b"m%d" % i for i in range(count)]


def test_publisher_waits_for_a_subscriber_that_is_behind(make_broker, dial):
    broker = make_broker(**SMALL_QUEUE)
    sys = SysReader(dial(broker), ["$SYS/broker/messages/dropped",
                                   "$SYS/broker/clients/publisher-pauses",
                                   "$SYS/broker/clients/slow-subscribers"])
    sub = connected(dial, broker, "bp-sub")
    assert sub.subscribe([("bp/#", 1)]).codes == [1]
    pub = connected(dial, broker, "bp-pub")
    pub.send(burst("bp/t"))
    # The subscriber acknowledges nothing: its window (5) fills, then its queue; the publisher
    # stops being read, so most of its PUBLISHes stay unacknowledged in its socket.
    early = acks_within(pub, 1.0)
    assert 10 <= len(early) < 100, early
    # Once the subscriber reads, everything flows: every message, in order, none dropped, and
    # every PUBLISH acknowledged.
    payloads, _ = read_all(sub, COUNT, 0)
    assert payloads == expected_payloads()
    later = acks_within(pub, 1.0)
    assert early + later == list(range(1, COUNT + 1))
    sys.wait("$SYS/broker/messages/dropped", "0")
    sys.wait("$SYS/broker/clients/publisher-pauses", lambda v: int(v) >= 1)
    sys.wait("$SYS/broker/clients/slow-subscribers", lambda v: int(v) >= 1)


def test_without_pause_the_queue_limit_drops(make_broker, dial):
    broker = make_broker(pause_publishers=False, **SMALL_QUEUE)
    sys = SysReader(dial(broker), ["$SYS/broker/messages/dropped",
                                   "$SYS/broker/clients/publisher-pauses"])
    sub = connected(dial, broker, "nbp-sub")
    assert sub.subscribe([("nbp/#", 1)]).codes == [1]
    pub = connected(dial, broker, "nbp-pub")
    pub.send(burst("nbp/t"))
    # Read at full speed: everything is acknowledged at once...
    assert acks_within(pub, 1.0) == list(range(1, COUNT + 1))
    # ... and the subscriber gets its window and its queue, the rest is dropped (and counted).
    payloads, _ = read_all(sub, 25, 0)
    sub.expect_nothing(0.3)
    assert payloads == expected_payloads(25)
    sys.wait("$SYS/broker/messages/dropped", str(COUNT - 25))
    sys.wait("$SYS/broker/clients/publisher-pauses", "0")


def test_a_paused_publisher_is_not_timed_out_for_keep_alive(make_broker, dial):
    # Keep alive 1 s: the broker would close a silent client after 1.5 s. A paused publisher's
    # PINGREQs wait unread in its socket, so its silence is the broker's doing, not the client's.
    broker = make_broker(**SMALL_QUEUE)
    sub = connected(dial, broker, "ka-sub")
    assert sub.subscribe([("ka/#", 1)]).codes == [1]
    pub = dial(broker)
    assert pub.connect("ka-pub", keepalive=1).rc == 0
    pub.send(burst("ka/t"))
    early = acks_within(pub, 0.5)
    assert len(early) < COUNT
    for _ in range(6):  # 3 s of pings the broker does not read while the publisher is paused
        pub.send(raw.pingreq())
        time.sleep(0.5)
    payloads, _ = read_all(sub, COUNT, 0)
    assert payloads == expected_payloads()
    rest = []
    while True:
        try:
            pkt = pub.recv(1.0)
        except TimeoutError:
            break
        rest.append((pkt.type, pkt.packet_id))
    acked = early + [pid for kind, pid in rest if kind == raw.PUBACK]
    assert acked == list(range(1, COUNT + 1))
    assert sum(1 for kind, _ in rest if kind == raw.PINGRESP) == 6


def test_other_clients_keep_flowing_while_one_publisher_waits(make_broker, dial):
    broker = make_broker(**SMALL_QUEUE)
    slow_sub = connected(dial, broker, "slow-sub")
    assert slow_sub.subscribe([("slow/#", 1)]).codes == [1]
    fast_sub = connected(dial, broker, "fast-sub")
    assert fast_sub.subscribe([("fast/#", 1)]).codes == [1]
    paused = connected(dial, broker, "paused-pub")
    paused.send(burst("slow/t"))
    assert len(acks_within(paused, 0.5)) < 100
    # A publisher to another subscriber is not held back by the slow one.
    fast = connected(dial, broker, "fast-pub")
    started = time.monotonic()
    for i in range(50):
        assert fast.publish_acked("fast/t", b"f%d" % i).rc == 0
        assert fast_sub.recv_publish().payload == b"f%d" % i
    assert time.monotonic() - started < 5.0
    payloads, _ = read_all(slow_sub, COUNT, 0)
    assert payloads == expected_payloads()


@pytest.mark.parametrize("pause", [True, False], ids=["pause", "no-pause"])
def test_qos0_to_a_subscriber_that_does_not_read(make_broker, dial, pause):
    # 16 MiB of QoS 0 towards a subscriber that reads nothing for a second: past what the sockets
    # buffer, its unsent bytes pass slow_subscriber_bytes and the publisher waits. Without the
    # pause they pass max_outgoing_buffer and QoS 0 is dropped, as that limit says.
    broker = make_broker(pause_publishers=pause, slow_subscriber_bytes=16384,
                         max_outgoing_buffer=1024 * 1024, max_packet_size=70000)
    sys = SysReader(dial(broker), ["$SYS/broker/messages/dropped"])
    sub = connected(dial, broker, "q0-sub")
    assert sub.subscribe([("q0/#", 0)]).codes == [0]
    pub = connected(dial, broker, "q0-pub")
    count, size = 256, 64 * 1024
    data = burst("q0/t", count=count, qos=0, payload_size=size)
    sender = threading.Thread(target=pub.send, args=(data,), daemon=True)
    sender.start()  # blocks while the broker does not read it
    time.sleep(1.0)
    payloads = []
    while True:
        try:
            payloads.append(sub.recv_publish(timeout=1.0).payload.rstrip(b"."))
        except TimeoutError:
            break
    sender.join(5.0)
    assert not sender.is_alive()
    if pause:
        assert payloads == expected_payloads(count)
        sys.wait("$SYS/broker/messages/dropped", "0")
    else:
        numbers = [int(p[1:]) for p in payloads]
        assert numbers == sorted(numbers) and len(numbers) < count
        sys.wait("$SYS/broker/messages/dropped", str(count - len(numbers)))


def assert_in_order_and_counted(payloads, dropped):
    """What arrived is in publishing order, and every message that did not arrive was dropped
    by the queue limit (and counted)."""
    numbers = [int(p[1:]) for p in payloads]
    assert numbers == sorted(set(numbers)), numbers
    assert len(numbers) + dropped == COUNT


def test_a_client_publishing_to_itself_is_never_paused_by_itself(make_broker, dial):
    # Its own session falls behind, but only reading its acknowledgements can drain it: it goes
    # on reading, and what its queue (with headroom) cannot hold is dropped as the queue policy
    # says, never waited for forever.
    broker = make_broker(**SMALL_QUEUE)
    sys = SysReader(dial(broker), ["$SYS/broker/messages/dropped"])
    client = connected(dial, broker, "self")
    assert client.subscribe([("self/t", 1)]).codes == [1]
    client.send(burst("self/t"))
    acked, payloads = acks_and_publishes(client)
    assert acked == list(range(1, COUNT + 1))
    sys.wait("$SYS/broker/messages/dropped", str(COUNT - len(payloads)))
    assert_in_order_and_counted(payloads, COUNT - len(payloads))


def acks_and_publishes(client, quiet=1.0):
    """Reads (acknowledging PUBLISHes) until nothing came for `quiet` seconds."""
    acked, payloads = [], []
    while True:
        try:
            pkt = client.recv(quiet)
        except TimeoutError:
            return acked, payloads
        if pkt.type == raw.PUBLISH:
            client.ack(pkt)
            payloads.append(pkt.payload)
        else:
            assert pkt.type == raw.PUBACK, pkt
            acked.append(pkt.packet_id)


def test_two_clients_publishing_to_each_other_do_not_deadlock(make_broker, dial):
    broker = make_broker(**SMALL_QUEUE)
    sys = SysReader(dial(broker), ["$SYS/broker/messages/dropped"])
    a = connected(dial, broker, "cycle-a")
    b = connected(dial, broker, "cycle-b")
    assert a.subscribe([("to-a/#", 1)]).codes == [1]
    assert b.subscribe([("to-b/#", 1)]).codes == [1]
    a.send(burst("to-b/x"))
    b.send(burst("to-a/x"))
    results = {}

    def drain(name, client):
        results[name] = acks_and_publishes(client)

    threads = [threading.Thread(target=drain, args=pair) for pair in (("a", a), ("b", b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30.0)
    received = 0
    for name in ("a", "b"):
        acked, payloads = results[name]
        assert acked == list(range(1, COUNT + 1)), name
        assert_in_order_and_counted(payloads, COUNT - len(payloads))
        received += len(payloads)
    sys.wait("$SYS/broker/messages/dropped", str(2 * COUNT - received))


def publishes_until_quiet(client, quiet):
    """Payloads of the PUBLISHes (acknowledged) that arrive until none came for `quiet` s."""
    payloads = []
    while True:
        try:
            payloads.append(client.recv_publish(timeout=quiet).payload)
        except TimeoutError:
            return payloads


def test_shared_subscription_prefers_the_member_that_keeps_up(make_broker, dial):
    broker = make_broker(**SMALL_QUEUE)
    stuck = connected(dial, broker, "member-stuck")
    live = connected(dial, broker, "member-live")
    for member in (stuck, live):
        assert member.subscribe([("$share/g/work/#", 1)]).codes == [1]
    live_payloads = []
    reader = threading.Thread(
        target=lambda: live_payloads.extend(publishes_until_quiet(live, 3.0)), daemon=True)
    reader.start()
    pub = connected(dial, broker, "work-pub")
    # Published one at a time: every PUBLISH is acknowledged promptly, as the group routes past
    # the stuck member once it is behind (the publisher is not paused for it).
    started = time.monotonic()
    for i in range(COUNT):
        assert pub.publish_acked("work/t", b"m%d" % i).rc == 0
    assert time.monotonic() - started < 10.0
    reader.join(20.0)
    stuck_payloads = publishes_until_quiet(stuck, 1.0)
    # The stuck member got its window, its high-water mark and what was on its way to it from
    # other worker threads when it fell behind; every message went to exactly one member.
    assert len(stuck_payloads) <= 40, stuck_payloads
    assert sorted(live_payloads + stuck_payloads) == sorted(expected_payloads())
