"""Crash safety: kill -9 in the middle of a QoS 1 and a QoS 2 stream, restart, and check that
every acknowledged message reaches the persistent-session subscriber (QoS 1 at least once, QoS 2
exactly once, in order per publisher); wills of clients connected at the crash. tern-only.

TERN_CRASH_SEED fixes the random kill points (timing still varies), TERN_CRASH_ITERATIONS
(default 20) the number of crashes per test. Run pytest with -s to see one line per iteration.
"""

import os
import random
import threading
import time

import pytest

import mqtt_raw as raw
from test_durability import (DURABILITIES, Receiver, connect_session, durable_broker,
                             kill_and_start, storage_summary)

pytestmark = pytest.mark.tern_only

ITERATIONS = int(os.environ.get("TERN_CRASH_ITERATIONS", "20"))
MESSAGES = 300  # per publisher and iteration
WINDOW = 50  # unacknowledged PUBLISHes per publisher, below the broker's Receive Maximum (100)
WITHHOLD_EVERY = 10  # the QoS 2 publisher keeps PUBREL back for 1 in 10 until after the restart
KILL_JITTER = 0.003  # the kill comes when a random number of messages went out, plus up to this
IO_TIMEOUT = 10.0


def compact(numbers, limit=30):
    """[1, 2, 3, 7] -> "1-3,7" (truncated)."""
    ranges = []
    for n in sorted(numbers):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    text = ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in ranges[:limit])
    return text + (",..." if len(ranges) > limit else "")


class StreamPublisher:
    """Publishes MESSAGES numbered messages at one QoS on one topic with a persistent session,
    pipelined, and records which were acknowledged: QoS 1 by PUBACK; QoS 2 by PUBREC (the broker
    owns the message from then on) and PUBCOMP. Packet id = sequence number + 1.

    For one QoS 2 message in WITHHOLD_EVERY, PUBREL is sent only after the restart: the broker
    must still hold its packet id then (PUBCOMP 0x00, not 0x92 Packet Identifier not found)."""

    def __init__(self, broker, client_id, proto, qos, topic, tag):
        self.broker = broker
        self.client_id = client_id
        self.proto = proto
        self.qos = qos
        self.topic = topic
        self.tag = tag
        self.raw = None
        self.sent = 0
        self.acked = set()  # PUBACK / PUBREC (success)
        self.completed = set()  # PUBCOMP
        self.withheld = set()  # PUBREC received, PUBREL deliberately not sent yet
        self.acked_before_crash = set()
        self.completed_before_crash = set()
        self.finished_at = None
        self.stopped_by = None
        self.problems = []

    def payload(self, seq):
        return b"%s-%d" % (self.tag, seq)

    def connect(self, raws):
        self.raw = connect_session(raws, self.broker, self.client_id, self.proto)

    def run(self):
        """Thread body: stream until done or until the broker dies."""
        inflight = set()
        try:
            while True:
                while self.sent < MESSAGES and len(inflight) < WINDOW:
                    seq = self.sent
                    self.raw.publish(self.topic, self.payload(seq), self.qos, packet_id=seq + 1)
                    inflight.add(seq)
                    self.sent += 1
                if not inflight:
                    self.finished_at = time.monotonic()
                    return
                pkt = self.raw.recv(IO_TIMEOUT)
                if not self._on_ack(pkt, inflight):
                    return
        except TimeoutError:
            self.problems.append("%s: no acknowledgement within %.0f s" % (self.tag, IO_TIMEOUT))
        except (raw.Closed, OSError) as exc:  # the broker was killed
            self.stopped_by = type(exc).__name__
        except Exception as exc:  # a decoding problem: report it, do not hide it
            self.problems.append("%s: %r" % (self.tag, exc))

    def _on_ack(self, pkt, inflight):
        seq = (pkt.packet_id or 0) - 1
        if pkt.type == raw.PUBACK and self.qos == 1 and seq in inflight:
            self._check_rc(pkt, seq)
            self.acked.add(seq)
            inflight.discard(seq)
        elif pkt.type == raw.PUBREC and self.qos == 2 and seq in inflight:
            self._check_rc(pkt, seq)
            self.acked.add(seq)
            if seq % WITHHOLD_EVERY == 3:
                # Still counts against the broker's Receive Maximum: WINDOW + 30 < 100.
                self.withheld.add(seq)
                inflight.discard(seq)
            else:
                self.raw.send(raw.pubrel(seq + 1, proto=self.proto))
        elif pkt.type == raw.PUBCOMP and self.qos == 2 and seq in self.acked:
            self.completed.add(seq)
            inflight.discard(seq)
        else:
            self.problems.append("%s: unexpected %r" % (self.tag, pkt))
            return False
        return True

    def _check_rc(self, pkt, seq):
        if pkt.rc != 0:  # a subscriber exists: anything but Success is wrong
            self.problems.append("%s: %s for seq %d has reason 0x%02x" % (
                self.tag, raw.PACKET_NAMES[pkt.type], seq, pkt.rc))

    def mark_crash(self):
        self.acked_before_crash = set(self.acked)
        self.completed_before_crash = set(self.completed)

    def resume(self, raws):
        """After the restart: reconnect and finish every exchange, as a client must
        [MQTT-4.4.0-1]: unacknowledged PUBLISHes again with DUP 1, PUBREL for what has PUBREC."""
        self.raw = connect_session(raws, self.broker, self.client_id, self.proto)
        self.session_present = self.raw.connack.session_present
        if self.acked_before_crash and not self.session_present:
            self.problems.append("%s: session lost although messages were acknowledged" %
                                 self.tag)
        for seq in range(self.sent):
            pid = seq + 1
            if self.qos == 1 and seq not in self.acked:
                self.raw.publish(self.topic, self.payload(seq), 1, dup=True, packet_id=pid)
                self._expect(raw.PUBACK, pid)
                self.acked.add(seq)
            elif self.qos == 2 and seq in self.acked and seq not in self.completed:
                self.raw.send(raw.pubrel(pid, proto=self.proto))
                comp = self._expect(raw.PUBCOMP, pid)
                # 0x92 is fine when our PUBREL reached the broker before the crash (it released
                # the id durably, then died before sending PUBCOMP); not for a withheld one.
                if comp.rc != 0 and seq in self.withheld:
                    self.problems.append(
                        "%s: PUBREL for seq %d (PUBREC received before the crash, PUBREL "
                        "withheld until now) answered 0x%02x: the broker lost the incoming "
                        "QoS 2 packet id" % (self.tag, seq, comp.rc))
                self.completed.add(seq)
            elif self.qos == 2 and seq not in self.acked:
                self.raw.publish(self.topic, self.payload(seq), 2, dup=True, packet_id=pid)
                self._expect(raw.PUBREC, pid)
                self.acked.add(seq)
                self.raw.send(raw.pubrel(pid, proto=self.proto))
                self._expect(raw.PUBCOMP, pid)
                self.completed.add(seq)
        self.raw.disconnect()

    def _expect(self, ptype, pid):
        pkt = self.raw.recv_type(ptype, IO_TIMEOUT)
        assert pkt.packet_id == pid, pkt
        if ptype != raw.PUBCOMP:
            self._check_rc(pkt, pid - 1)
        return pkt


def pump(receiver):
    """Thread body for an online subscriber: receive and acknowledge until the broker dies."""
    try:
        while True:
            receiver.handle(receiver.raw.recv(IO_TIMEOUT))
    except (raw.Closed, OSError):
        pass
    except Exception as exc:
        receiver.problems.append("subscriber: %r" % (exc,))


def drain(receiver, publishers, timeout=20.0, gap=3.0, settle=0.5):
    """Receive until every sent message has arrived (or nothing came for gap seconds), then
    settle seconds more for late copies."""
    wanted = {(p.topic, p.payload(seq)) for p in publishers for seq in range(p.sent)}
    seen = {(d.topic, d.payload) for d in receiver.deliveries}
    deadline = time.monotonic() + timeout
    while not wanted <= seen and time.monotonic() < deadline:
        try:
            pkt = receiver.raw.recv(min(gap, max(deadline - time.monotonic(), 0.001)))
        except TimeoutError:
            break
        if receiver.handle(pkt) is not None:
            seen.add((pkt.topic, pkt.payload))
    receiver.quiet(settle)


def describe(pkt):
    return "conn %d id %s dup %d%s" % (pkt.connection, pkt.packet_id, pkt.dup,
                                       " PUBCOMP-sent" if pkt.completed else "")


def check(publishers, receiver, crash_connection):
    """Violations of the guarantees, and per-publisher counts."""
    problems = list(receiver.problems)
    counts = {}
    for pub in publishers:
        problems += pub.problems
        arrived = [d for d in receiver.deliveries if d.topic == pub.topic]
        first = {}
        order = []
        extra = []
        for d in arrived:
            seq = int(d.payload.rsplit(b"-", 1)[1])
            if d.qos != pub.qos or d.payload != pub.payload(seq):
                problems.append("%s: unexpected delivery %r" % (pub.tag, d))
            if seq in first:
                extra.append((seq, d))
            else:
                first[seq] = d
                order.append(seq)
        lost = pub.acked_before_crash - set(first)
        if lost:
            problems.append("%s: %d message(s) acknowledged before the crash never arrived: "
                            "seq %s" % (pub.tag, len(lost), compact(lost)))
        lost_later = set(range(pub.sent)) - pub.acked_before_crash - set(first)
        if lost_later:
            problems.append("%s: %d message(s) resent with DUP after the restart (no %s before "
                            "the crash) and acknowledged then, never arrived: seq %s" % (
                                pub.tag, len(lost_later), "PUBACK" if pub.qos == 1 else "PUBREC",
                                compact(lost_later)))
        if order != sorted(order):
            problems.append("%s: out of order: %s" % (pub.tag, order[:50]))
        if pub.qos == 2:
            for seq, again in extra[:10]:
                before = first[seq]
                cause = "?"
                if again.dup and again.connection > crash_connection and before.completed:
                    cause = ("broker resent a PUBLISH the subscriber had completed with PUBCOMP "
                             "before the crash")
                elif not again.dup and seq not in pub.acked_before_crash:
                    cause = ("the publisher's resend of a message without PUBREC was routed "
                             "again although it had been delivered before the crash")
                problems.append("%s: QoS 2 seq %d delivered twice: first %s, again %s "
                                "(publisher %s it before the crash): %s" % (
                                    pub.tag, seq, describe(before), describe(again),
                                    "had PUBREC for" if seq in pub.acked_before_crash
                                    else "had no PUBREC for", cause))
            if len(extra) > 10:
                problems.append("%s: ... %d QoS 2 duplicates in all" % (pub.tag, len(extra)))
        counts[pub.tag] = (len(first), len(extra))
    return problems, counts


@pytest.mark.parametrize("durability", DURABILITIES)
def test_kill9_during_qos1_and_qos2_streams(make_broker, raws, durability):
    seed = int(os.environ.get("TERN_CRASH_SEED", random.randrange(1 << 31)))
    rng = random.Random(seed)
    broker = durable_broker(make_broker, durability, max_queued_messages=100000)
    failures = []
    lines = ["seed %d (TERN_CRASH_SEED), %s, %d worker(s)" % (seed, durability, broker.workers)]
    for it in range(ITERATIONS):
        proto = 4 if it % 2 == 0 else 5
        online = (it // 2) % 2 == 0
        # A point in the streams (messages sent by both publishers) rather than a delay, so that
        # the kill lands mid-stream in fast and in sanitizer builds alike.
        kill_point = rng.randint(20, 2 * MESSAGES - 20)
        jitter = rng.uniform(0, KILL_JITTER)
        prefix = "crash/%d" % it
        receiver = Receiver()
        receiver.attach(connect_session(raws, broker, "c%d-sub" % it, proto))
        assert receiver.subscribe([(prefix + "/#", 2)]).codes == [2]
        if not online:
            receiver.raw.disconnect()
        pubs = [StreamPublisher(broker, "c%d-q%d" % (it, qos), proto, qos,
                                "%s/q%d" % (prefix, qos), b"q%d" % qos) for qos in (1, 2)]
        for pub in pubs:
            pub.connect(raws)
        threads = [threading.Thread(target=pub.run, daemon=True) for pub in pubs]
        if online:
            threads.append(threading.Thread(target=pump, args=(receiver,), daemon=True))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        deadline = started + IO_TIMEOUT
        while sum(p.sent for p in pubs) < kill_point and time.monotonic() < deadline and any(
                t.is_alive() for t in threads[:2]):
            time.sleep(0.0005)
        time.sleep(jitter)
        killed_at = time.monotonic() - started
        kill_and_start(broker)
        for thread in threads:
            thread.join(IO_TIMEOUT + 5)
            assert not thread.is_alive(), "a client thread is stuck"
        for pub in pubs:
            pub.mark_crash()
        summary = storage_summary(broker)
        crash_connection = receiver.connection
        for pub in pubs:
            pub.resume(raws)
        sub = connect_session(raws, broker, "c%d-sub" % it, proto)
        if not sub.connack.session_present:
            receiver.problems.append("subscriber session lost (its SUBACK was received)")
        receiver.attach(sub)
        drain(receiver, pubs)
        receiver.raw.disconnect()
        problems, counts = check(pubs, receiver, crash_connection)
        q1, q2 = pubs
        line = ("iter %2d v%s %-7s kill@%.3fs%s | q1 sent %3d puback %3d | q2 sent %3d pubrec %3d "
                "pubcomp %3d | loaded %d session(s) %d queued | delivered q1 %d (+%d dup) "
                "q2 %d (+%d dup), broker resends %d" % (
                    it, "5" if proto == 5 else "3.1.1", "online" if online else "offline",
                    killed_at, " (streams done)" if all(p.finished_at for p in pubs) else "",
                    q1.sent, len(q1.acked_before_crash), q2.sent, len(q2.acked_before_crash),
                    len(q2.completed_before_crash), summary["sessions"], summary["queued"],
                    counts[b"q1"][0], counts[b"q1"][1], counts[b"q2"][0], counts[b"q2"][1],
                    len(receiver.resends)))
        lines.append(line)
        print(line)
        if problems:
            failures.append("iteration %d (v%d, %s subscriber, kill at %d sent + %.4f s):\n  %s" % (
                it, proto, "online" if online else "offline", kill_point, jitter,
                "\n  ".join(problems)))
    assert not failures, "seed %d, %s, %d worker(s): %d of %d iterations failed\n%s\n\n%s" % (
        seed, durability, broker.workers, len(failures), ITERATIONS, "\n".join(failures[:8]),
        "\n".join(lines))


@pytest.mark.parametrize("durability", DURABILITIES)
def test_wills_of_clients_connected_at_crash(make_broker, raws, durability):
    broker = durable_broker(make_broker, durability)
    receiver = Receiver(connect_session(raws, broker, "cw-watch", 5))
    assert receiver.subscribe([("will/#", 1)]).codes == [1]
    wills = {
        "cw-now": (5, 0),  # client id: (protocol, will delay)
        "cw-v311": (4, 0),
        "cw-later": (5, 2),
    }
    for client_id, (proto, delay) in wills.items():
        will = {"topic": "will/" + client_id, "payload": b"gone " + client_id.encode(), "qos": 1}
        if proto == 5:
            will["props"] = [(raw.WILL_DELAY_INTERVAL, delay)]
        conn = connect_session(raws, broker, client_id, proto, expiry=60, will=will)
        # The SUBACK of a persistent session waits for its record (with the will) to be durable.
        assert conn.subscribe([("unused/" + client_id, 0)]).codes == [0]
    killed = time.monotonic()
    kill_and_start(broker)
    assert storage_summary(broker)["sessions"] == 4
    started = time.monotonic()
    receiver.attach(connect_session(raws, broker, "cw-watch", 5, expect_present=True))
    got = {}
    for _ in range(3):
        msg = receiver.next(timeout=10)
        got[msg.topic] = (msg.payload, msg.arrived)
    assert sorted(got) == ["will/cw-later", "will/cw-now", "will/cw-v311"]
    for client_id in wills:
        assert got["will/" + client_id][0] == b"gone " + client_id.encode()
    # Their connections ended with the crash: the wills without delay go out at start-up, the
    # delayed one after its delay [MQTT-3.1.3-9].
    assert got["will/cw-now"][1] - started < 1.5
    assert got["will/cw-v311"][1] - started < 1.5
    later = got["will/cw-later"][1]
    assert later - killed >= 1.8 and later - started < 4.5, (later - killed, later - started)
    assert receiver.quiet(1.0) == []  # each exactly once
