"""Server-Sent Events on /events (driven with curl): retained values first then live, event ids,
resume from the history with and without a gap, conflation, heartbeats, presence events, and a
slow consumer cut off while another stream carries on."""

import json
import socket
import time

import pytest

from bridge_support import (HOST, call, make_bridge, metrics, publish, raw_socket,  # noqa: F401
                            sse, wait_closed)
from helpers import eventually

pytestmark = pytest.mark.tern_only

HISTORY = [{"filter": "h/#", "max_messages": 100}]


def seq_of(event_id):
    epoch, _, seq = event_id.partition("-")
    assert epoch.isdigit() and seq.isdigit(), event_id
    return int(epoch), int(seq)


def test_stream_headers_retained_first_then_live(make_bridge, clients, sse):
    broker = make_bridge(history=HISTORY)
    pub = clients(broker, "s-pub")
    pub.publish("other", b"x", qos=1, retain=True)
    pub.publish("h/b", b"2", qos=1, retain=True)
    pub.publish("h/a", b"1", qos=1, retain=True)
    stream = sse(broker, "/events?topic=h/%23")
    assert stream.wait_head() == 200
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    snapshot = stream.messages(2)
    assert [(e["topic"], e["payload"], e["json"], e["retain"]) for _, e in snapshot] == [
        ("h/a", "1", 1, True), ("h/b", "2", 2, True)]
    # The snapshot's event ids are the stream position when it was taken.
    head_id = snapshot[0][0]
    assert snapshot[1][0] == head_id
    assert seq_of(head_id)[1] == max(seq_of(e["id"])[1] for _, e in snapshot)
    pub.publish("h/c", b"live", qos=0)
    pub.publish("elsewhere", b"no", qos=0)
    event_id, envelope = stream.messages(1)[0]
    assert (envelope["topic"], envelope["payload"], envelope["retain"]) == ("h/c", "live", False)
    assert event_id == envelope["id"]
    assert seq_of(event_id)[0] == seq_of(head_id)[0] and seq_of(event_id) > seq_of(head_id)
    stream.expect_nothing(0.3)


def test_event_ids_increase(make_bridge, clients, sse):
    broker = make_bridge(history=HISTORY)
    stream = sse(broker, "/events?topic=h/%23&topic=h/1")  # overlapping: one event each
    assert stream.wait_head() == 200
    time.sleep(0.2)
    pub = clients(broker, "ids-pub")
    for i in range(20):
        pub.publish("h/%d" % (i % 3), str(i).encode(), qos=1)
    got = stream.messages(20)
    assert [e["payload"] for _, e in got] == [str(i) for i in range(20)]
    seqs = [seq_of(event_id)[1] for event_id, _ in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    stream.expect_nothing(0.3)


def test_resume_replays_what_was_missed(make_bridge, clients, sse):
    broker = make_bridge(history=HISTORY)
    pub = clients(broker, "r-pub")
    first = sse(broker, "/events?topic=h/%23")
    assert first.wait_head() == 200
    time.sleep(0.2)
    pub.publish("h/x", b"seen-1", qos=1)
    pub.publish("h/x", b"seen-2", qos=1)
    last_id = first.messages(2)[-1][0]
    first.stop()
    for text in (b"missed-1", b"missed-2", b"missed-3"):
        pub.publish("h/y", text, qos=1)
    pub.publish("unrelated", b"u", qos=1)
    resumed = sse(broker, "/events?topic=h/%23", headers={"Last-Event-ID": last_id})
    assert resumed.wait_head() == 200
    replay = resumed.messages(3)
    assert [e["payload"] for _, e in replay] == ["missed-1", "missed-2", "missed-3"]
    assert all(not e["retain"] for _, e in replay)
    pub.publish("h/y", b"live", qos=1)
    assert resumed.messages(1)[0][1]["payload"] == "live"
    # The query parameter does the same for a first connection (EventSource cannot set headers).
    again = sse(broker, "/events?topic=h/y&last_event_id=" + replay[1][0])
    assert [e["payload"] for _, e in again.messages(2)] == ["missed-3", "live"]
    again.expect_nothing(0.3)


def test_resume_beyond_the_history_says_gap(make_bridge, clients, sse):
    broker = make_bridge(history=[{"filter": "h/#", "max_messages": 2}])
    pub = clients(broker, "g-pub")
    pub.publish("h/t", b"retained-old", qos=1, retain=True)
    first = sse(broker, "/events?topic=h/%23")
    last_id = first.messages(1)[0][0]
    first.stop()
    for i in range(5):
        pub.publish("h/t", b"m%d" % i, qos=1, retain=(i == 4))
    resumed = sse(broker, "/events?topic=h/%23", headers={"Last-Event-ID": last_id})
    gap = resumed.next()
    assert gap["event"] == "gap"
    assert json.loads(gap["data"])["last_event_id"] == last_id
    # Then the current values (retained snapshot), then what the history still has.
    events = [(event_id, e["payload"], e["retain"]) for event_id, e in resumed.messages(3)]
    assert [(payload, retain) for _, payload, retain in events] == [
        ("m4", True), ("m3", False), ("m4", False)]
    assert events[0][0] is None  # snapshot events do not move the position
    resumed.expect_nothing(0.3)


def test_resume_without_history_is_a_gap(make_bridge, clients, sse):
    broker = make_bridge()
    clients(broker, "n-pub").publish("n/t", b"v", qos=1, retain=True)
    stream = sse(broker, "/events?topic=n/%23", headers={"Last-Event-ID": "1-5"})
    gap = stream.next()
    assert gap["event"] == "gap"
    assert json.loads(gap["data"])["message"] == "no history is kept on this server"
    assert stream.messages(1)[0][1]["payload"] == "v"


@pytest.mark.parametrize("query,message", [
    ("", "give at least one topic=FILTER (or presence=1)"),
    ("?topic=a/%23/b", "'a/#/b' is not a valid topic filter"),
    ("?topic=a&conflate=soon", "conflate must be a duration like 250, 250ms or 2s (at most one hour)"),
    ("?topic=a&last_event_id=nope", "last event id 'nope' is not <epoch>-<seq>"),
])
def test_bad_requests(make_bridge, query, message):
    broker = make_bridge()
    response = call(broker, "GET", "/events" + query)
    assert response.status == 400
    assert response.json() == {"error": "bad_request", "message": message}


def test_conflation_keeps_the_latest_per_topic(make_bridge, clients, sse):
    broker = make_bridge()
    stream = sse(broker, "/events?topic=c/%23&conflate=1s")
    assert stream.wait_head() == 200
    time.sleep(0.2)
    pub = clients(broker, "c-pub")
    started = time.monotonic()
    for i in range(30):
        pub.publish("c/%d" % (i % 2), b"%d" % i, qos=1)
    first = stream.messages(1)[0][1]
    assert (first["topic"], first["payload"]) == ("c/0", "0")  # the first goes at once
    assert time.monotonic() - started < 0.9
    # The rest of the interval collapses to the latest per topic, in first-arrival order.
    got = [(e["topic"], e["payload"]) for _, e in stream.messages(2, timeout=3)]
    assert got == [("c/1", "29"), ("c/0", "28")]
    assert time.monotonic() - started >= 0.9
    stream.expect_nothing(1.2)


def test_heartbeat_comments_keep_an_idle_stream_alive(make_bridge, sse):
    broker = make_bridge(bridge={"heartbeat_interval_ms": 200})
    stream = sse(broker, "/events?topic=idle")
    assert stream.wait_head() == 200
    started = time.monotonic()
    event = stream.next(timeout=2, comments=True)
    assert event == {"comment": "heartbeat"}
    assert time.monotonic() - started < 1.0


def test_presence_events(make_bridge, clients, raws, sse):
    broker = make_bridge()
    stream = sse(broker, "/events?presence=1")
    assert stream.wait_head() == 200
    time.sleep(0.2)

    def presence():
        event = stream.next()
        assert event["event"] == "presence", event
        return json.loads(event["data"])

    first = clients(broker, "pres-1", proto=5)
    event = presence()
    assert (event["client_id"], event["online"], event["reason"]) == ("pres-1", True, "connected")
    assert event["protocol"] == "5.0"
    clients(broker, "pres-1", proto=4)
    event = presence()
    assert (event["online"], event["reason"], event["protocol"]) == (True, "takeover", "3.1.1")
    first.wait_disconnected()
    # Keep alive expiry: a raw client that goes silent.
    silent = raws(broker, 4)
    assert silent.connect("pres-2", keepalive=1).rc == 0
    event = presence()
    assert (event["client_id"], event["online"]) == ("pres-2", True)
    event = presence()
    assert (event["client_id"], event["online"], event["reason"]) == (
        "pres-2", False, "keep alive timeout")
    stream.expect_nothing(0.3)


def test_slow_consumer_is_cut_off_while_another_carries_on(make_bridge, clients, sse):
    cap = 256 * 1024
    broker = make_bridge(bridge={"max_client_buffer": cap})
    # A client that never reads, with a small receive window.
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((HOST, broker.bridge_port))
    slow.sendall(b"GET /events?topic=big/%23 HTTP/1.1\r\nHost: t\r\n\r\n")
    fast = sse(broker, "/events?topic=big/%23")
    assert fast.wait_head() == 200
    time.sleep(0.3)
    pub = clients(broker, "big-pub")
    payload = b"x" * 16000
    data = None
    sent = 0
    # Batches: the fast reader keeps up, the slow one falls behind until it is cut off; then
    # its socket is read at once (a cut client gets a few seconds to take its last bytes).
    while sent < 1200 and data is None:
        for _ in range(40):
            pub.publish("big/%d" % (sent % 4), payload, qos=1)
            sent += 1
        got = fast.messages(40, timeout=10)
        assert all(e["payload"] == payload.decode() for _, e in got)
        if metrics(broker)[0][("tern_bridge_slow_consumers_total", ())] == 1:
            data = wait_closed(slow, timeout=10)
    slow.close()
    assert data is not None, "the slow consumer was not cut off after %d messages" % sent
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    tail = data[-400:].decode("utf-8", "replace")
    assert tail.endswith("\n\n")
    last = tail.rstrip("\n").split("\n\n")[-1]
    assert last.startswith("event: error\ndata: ")
    error = json.loads(last.split("data: ", 1)[1])
    assert error == {"error": "slow_consumer", "message": "more than %d bytes waiting for this "
                     "client: it reads too slowly" % cap}
    assert len(data) < sent * len(payload)  # not everything: it was dropped, not buffered
    # The fast stream is still open and served.
    pub.publish("big/after", b"still here", qos=1)
    assert fast.messages(1)[0][1]["payload"] == "still here"


def test_closing_a_stream_removes_its_subscriptions(make_bridge, sse):
    broker = make_bridge()
    before = metrics(broker)[0][("tern_subscriptions", ())]
    stream = sse(broker, "/events?topic=a/%23&topic=b")
    assert stream.wait_head() == 200
    eventually(lambda: metrics(broker)[0][("tern_subscriptions", ())] == before + 2)
    stream.stop()
    eventually(lambda: metrics(broker)[0][("tern_subscriptions", ())] == before)
