"""Abuse limits: per-address connection count and rate, per-connection publish rate, the global
memory cap with load shedding, and a CONNECT trickled byte by byte (slowloris).

Per-address tests connect from other loopback addresses (127.0.0.2, ...) so that the fixtures'
own connections from 127.0.0.1 do not count. Mosquitto has none of these limits: tern only.
"""

import socket
import time

import pytest

import mqtt_raw as raw
from helpers import SysReader, eventually

pytestmark = pytest.mark.tern_only

QUOTA_EXCEEDED = 0x97
SERVER_BUSY = {4: 0x03, 5: 0x89}  # MQTT 3.1.1 Server unavailable / MQTT 5 Server busy


@pytest.fixture
def dial():
    """dial(broker, source="127.0.0.1", proto=5): a raw client from a chosen local address."""
    made = []

    def factory(broker, source="127.0.0.1", proto=5, timeout=5.0):
        client = raw.RawClient(broker.host, broker.port, proto, timeout, source=source)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def connected(dial, broker, client_id, source="127.0.0.1", proto=5, **kwargs):
    client = dial(broker, source, proto)
    ack = client.connect(client_id, **kwargs)
    assert ack.rc == 0, ack
    return client


def refused_at_accept(dial, broker, source):
    """The broker resets the socket without reading it: no CONNACK, closed at once (the reset
    may even beat the end of connect()). Returns how long the refusal took."""
    started = time.monotonic()
    try:
        client = dial(broker, source)
        client.send(raw.connect("refused", proto=client.proto))
        got = client.wait_closed(timeout=2.0)
    except (ConnectionResetError, BrokenPipeError):
        got = []
    assert got == [], got
    return time.monotonic() - started


# -- connections per address ------------------------------------------------------------------


def test_connections_per_ip_are_capped_and_released_on_any_loop(make_broker, dial):
    broker = make_broker(max_connections_per_ip=2)
    sys = SysReader(dial(broker, "127.0.0.9"), ["$SYS/broker/clients/refused/per_ip"])
    sys.wait("$SYS/broker/clients/refused/per_ip", "0")
    refusals = 0

    def admitted(client_id, source="127.0.0.2"):
        """Connects once the previous connections' close callbacks have given their places
        back (a client sees the broker's FIN a moment before that): a leaked count never
        comes back, and fails the wait."""
        nonlocal refusals
        made = []

        def attempt():
            nonlocal refusals
            try:
                client = dial(broker, source)
                ack = client.connect(client_id, timeout=2.0)
            except (raw.Closed, ConnectionResetError, BrokenPipeError):
                refusals += 1
                return False
            assert ack.rc == 0, ack
            made.append(client)
            return True

        eventually(attempt, timeout=5.0, interval=0.1, message="%s admitted" % source)
        return made[0]

    # Several client ids: with 4 workers the sessions live on different loops, so connections
    # move after CONNECT and give their place back on loops other than the accepting one.
    for round_index in range(3):
        kept = [admitted("ip-%d-%d" % (round_index, i)) for i in range(2)]
        assert refused_at_accept(dial, broker, "127.0.0.2") < 1.0
        refusals += 1
        other = admitted("other-%d" % round_index, "127.0.0.3")  # another address is not limited
        assert all(client.is_open() for client in kept + [other])
        for client in kept + [other]:
            client.disconnect()
        sys.wait("$SYS/broker/clients/refused/per_ip", str(refusals))


def test_connection_rate_per_ip(make_broker, dial):
    broker = make_broker(connection_rate_per_ip=2)  # a burst of 2, then one per 500 ms
    sys = SysReader(dial(broker, "127.0.0.9"), ["$SYS/broker/clients/refused/rate"])
    first = [connected(dial, broker, "fast-%d" % i, "127.0.0.4") for i in range(2)]
    assert refused_at_accept(dial, broker, "127.0.0.4") < 1.0
    assert connected(dial, broker, "elsewhere", "127.0.0.5").is_open()
    assert all(client.is_open() for client in first)  # the rate refuses opening, not holding
    time.sleep(0.6)
    assert connected(dial, broker, "fast-later", "127.0.0.4").is_open()
    sys.wait("$SYS/broker/clients/refused/rate", "1")


# -- publish rate -------------------------------------------------------------------------------


def test_publish_rate_mqtt5_refuses_with_quota_exceeded(make_broker, dial):
    broker = make_broker(max_publish_rate=5)
    sys = SysReader(dial(broker), ["$SYS/broker/messages/rate_limited"])
    sub = connected(dial, broker, "rate-sub")
    assert sub.subscribe([("rate/#", 2)]).codes == [2]
    pub = connected(dial, broker, "rate-pub")
    burst = b"".join(raw.publish("rate/a", b"m%d" % i, qos=1, packet_id=i + 1, proto=5)
                     for i in range(5))
    over = (raw.publish("rate/a", b"over-1", qos=1, packet_id=6, proto=5)
            + raw.publish("rate/a", b"over-2", qos=2, packet_id=7, proto=5)
            + raw.publish("rate/a", b"over-0", qos=0, proto=5))
    pub.send(burst + over)  # one segment: well within the second that refills the bucket
    acks = [pub.recv() for _ in range(7)]
    assert [(p.type, p.packet_id, p.rc) for p in acks] == (
        [(raw.PUBACK, i, 0) for i in range(1, 6)]
        + [(raw.PUBACK, 6, QUOTA_EXCEEDED), (raw.PUBREC, 7, QUOTA_EXCEEDED)])
    assert [sub.recv_publish().payload for _ in range(5)] == [b"m%d" % i for i in range(5)]
    sub.expect_nothing(0.3)
    pub.expect_nothing(0.2)  # the refused QoS 2 exchange is over: nothing waits for PUBREL
    time.sleep(1.0)  # the bucket refills
    assert pub.publish_acked("rate/a", b"again", qos=2).rc == 0
    assert sub.recv_publish().payload == b"again"
    sys.wait("$SYS/broker/messages/rate_limited", "3")


def test_publish_bytes_rate_mqtt5(make_broker, dial):
    broker = make_broker(max_publish_bytes_rate=1000)  # topic + payload bytes per second
    pub = connected(dial, broker, "bytes-pub")
    topic = "b/t"
    pub.send(raw.publish(topic, b"a" * 597, qos=1, packet_id=1, proto=5)    # 600: 400 left
             + raw.publish(topic, b"b" * 597, qos=1, packet_id=2, proto=5)  # refused
             + raw.publish(topic, b"c" * 397, qos=1, packet_id=3, proto=5))  # 400: fits
    acks = [pub.recv_type(raw.PUBACK) for _ in range(3)]
    assert [(p.packet_id, p.rc) for p in acks] == [(1, 0x10), (2, QUOTA_EXCEEDED), (3, 0x10)]
    time.sleep(0.7)  # 700 bytes refilled
    assert pub.publish_acked(topic, b"d" * 597, qos=1).rc == 0x10  # no subscribers


def test_publish_rate_mqtt311_acknowledges_and_drops(make_broker, dial):
    broker = make_broker(max_publish_rate=3)
    sys = SysReader(dial(broker, proto=4), ["$SYS/broker/messages/rate_limited",
                                            "$SYS/broker/messages/dropped"])
    sub = connected(dial, broker, "v3-sub", proto=4)
    assert sub.subscribe([("v3/#", 2)]).codes == [2]
    pub = connected(dial, broker, "v3-pub", proto=4)
    pub.send(b"".join(raw.publish("v3/t", b"m%d" % i, qos=1, packet_id=i + 1)
                      for i in range(5))
             + raw.publish("v3/t", b"q2", qos=2, packet_id=6)
             + raw.publish("v3/t", b"q0", qos=0))
    acks = [pub.recv() for _ in range(6)]
    # 3.1.1 acknowledgements cannot refuse: every QoS 1/2 PUBLISH is acknowledged as usual.
    assert [(p.type, p.packet_id) for p in acks] == (
        [(raw.PUBACK, i) for i in range(1, 6)] + [(raw.PUBREC, 6)])
    pub.send(raw.pubrel(6))
    assert pub.recv_type(raw.PUBCOMP).packet_id == 6
    assert [sub.recv_publish().payload for _ in range(3)] == [b"m0", b"m1", b"m2"]
    sub.expect_nothing(0.3)
    sys.wait("$SYS/broker/messages/rate_limited", "4")
    sys.wait("$SYS/broker/messages/dropped", "4")


# -- memory cap -----------------------------------------------------------------------------------

MEMORY_CAP = 64 * 1024
MESSAGE_BYTES = 2048  # topic "mem/t" (5) + payload: what a session queue counts per message


def test_memory_cap_sheds_load_and_protects_connected_clients(make_broker, dial, workers, proto):
    broker = make_broker(max_memory=MEMORY_CAP)
    sys = SysReader(dial(broker), ["$SYS/broker/clients/refused/memory",
                                   "$SYS/broker/messages/shed", "$SYS/broker/memory/tracked"])
    # A persistent subscriber goes offline: its queue is what fills the broker.
    slow = connected(dial, broker, "slow", proto=4, clean=False)
    assert slow.subscribe([("mem/#", 1)]).codes == [1]
    slow.disconnect()
    live_sub = connected(dial, broker, "live-sub")
    assert live_sub.subscribe([("live/#", 0)]).codes == [0]
    live_pub = connected(dial, broker, "live-pub")
    old_v3 = connected(dial, broker, "old-v3", proto=4)

    payload = b"x" * (MESSAGE_BYTES - len("mem/t"))
    accepted = 0
    while accepted < 300:
        ack = live_pub.publish_acked("mem/t", payload, qos=1)
        if ack.rc == QUOTA_EXCEEDED:
            break
        assert ack.rc == 0, ack
        accepted += 1
    # 32 messages fill the cap exactly; the 33rd goes over it, and the next one is refused.
    expected = MEMORY_CAP // MESSAGE_BYTES + 1
    if workers == 1:
        assert accepted == expected
    else:
        # The queue is on another loop, which counts a message when the delivery reaches it,
        # while the publisher's acknowledgement waits only for its own write: a few more may be
        # accepted before that loop reports the cap reached (a soft cap).
        assert expected <= accepted < 300, accepted
    sys.wait("$SYS/broker/memory/tracked", str(accepted * MESSAGE_BYTES))

    # New clients are refused with Server busy ...
    fresh = dial(broker, proto=proto)
    ack = fresh.connect("newcomer")
    assert ack.rc == SERVER_BUSY[proto], ack
    fresh.wait_closed()
    # ... new QoS 1/2 publishes too (MQTT 5 says so; 3.1.1 is acknowledged, and dropped) ...
    assert live_pub.publish_acked("live/q1", b"refused", qos=1).rc == QUOTA_EXCEEDED
    assert live_pub.publish_acked("live/q2", b"refused", qos=2).rc == QUOTA_EXCEEDED
    old_v3.publish_acked("live/v3", b"dropped", qos=1)
    # ... while connected clients keep working at QoS 0.
    live_pub.publish("live/q0", b"still here")
    msg = live_sub.recv_publish()
    assert (msg.topic, msg.payload) == ("live/q0", b"still here")
    live_sub.expect_nothing(0.2)
    assert old_v3.is_open() and live_sub.is_open()
    sys.wait("$SYS/broker/clients/refused/memory", "1")
    sys.wait("$SYS/broker/messages/shed", "4")  # with the publish that found the cap

    # The owner of the queue may come back (that is what frees memory) and drains it.
    back = dial(broker, proto=4)
    ack = back.connect("slow", clean=False)
    assert (ack.rc, ack.session_present) == (0, True)
    drained = [back.recv_publish().payload for _ in range(accepted)]
    assert drained == [payload] * accepted
    # Below 90% of the cap the broker takes new clients and QoS 1 again.
    sys.wait("$SYS/broker/memory/tracked", "0")

    def newcomer_accepted():
        with raw.RawClient(broker.host, broker.port, proto) as probe:
            return probe.connect("newcomer-later").rc == 0

    eventually(newcomer_accepted, timeout=3.0, interval=0.1, message="new client accepted")
    assert live_pub.publish_acked("live/q1", b"welcome back", qos=1).rc == 0
    assert live_sub.recv_publish().payload == b"welcome back"


# -- slowloris ------------------------------------------------------------------------------------


def test_connect_trickled_byte_by_byte_is_closed_at_the_connect_timeout(make_broker, dial,
                                                                         watcher_for):
    broker = make_broker(connect_timeout_ms=2000)
    watcher = watcher_for(broker)
    slow = dial(broker, proto=4)
    packet = raw.connect("slowloris-client", proto=4)  # 30 bytes: 15 s at one per 500 ms
    started = time.monotonic()
    sent = 0
    closed_at = None
    for byte in packet:
        try:
            slow.sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.monotonic()
            break
        sent += 1
        slow.sock.settimeout(0.5)
        try:
            if slow.sock.recv(1) == b"":  # nothing is ever sent before CONNECT completes
                closed_at = time.monotonic()
                break
        except socket.timeout:
            continue
        except ConnectionResetError:
            closed_at = time.monotonic()
            break
    assert closed_at is not None, "the broker kept a trickling CONNECT open"
    elapsed = closed_at - started
    # Every byte resets nothing: the timeout counts from the accept (checked every 250 ms).
    assert 1.9 <= elapsed <= 3.0, elapsed
    assert sent < len(packet)
    watcher.check()
