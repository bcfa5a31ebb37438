"""The bridge's /ws JSON protocol over WebSocket: handshake and Origin, every command and its
errors, retained snapshot then live, resume with and without a gap, request/reply with a real
MQTT 5 responder and a timeout, presence, ACL, several commands per frame, bad frames, pings,
and a slow consumer cut off while another client carries on."""

import base64
import json
import queue
import socket
import struct
import threading
import time

import pytest
import websockets

from bridge_support import (HOST, basic, bridge_config, call, make_bridge, metrics,  # noqa: F401
                            publish, wait_http)
from broker_process import free_port
from helpers import eventually
from mqtt_client import publish_props
from test_auth import password_file
from ws_support import RawWs, WsClient, client_frame, handshake_request

pytestmark = pytest.mark.tern_only

HISTORY = [{"filter": "h/#", "max_messages": 100}]


@pytest.fixture
def ws():
    """ws(broker, path="/ws", headers=None, origin=None): a WsClient, closed at teardown."""
    made = []

    def factory(broker, path="/ws", headers=None, origin=None):
        client = WsClient(broker, path, headers, origin)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def raw_ws():
    made = []

    def factory(broker, **kwargs):
        client = RawWs(broker, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def position(text):
    epoch, _, seq = text.partition("-")
    assert epoch.isdigit() and seq.isdigit(), text
    return int(epoch), int(seq)


def error(command_id, code, message):
    return {"type": "error", "id": command_id, "code": code, "message": message}


def messages(client, count, timeout=5.0):
    got = client.recv_many(count, timeout)
    assert all(m["type"] == "message" for m in got), got
    return got


# -- handshake -------------------------------------------------------------------------------------


def test_handshake_metrics_and_close(make_bridge, ws):
    broker = make_bridge()
    client = ws(broker)
    assert client.command(1, "ping") == {"type": "ok", "id": 1}
    eventually(lambda: metrics(broker)[0][("tern_bridge_clients", ("kind=ws",))] == 1)
    client.close()
    eventually(lambda: metrics(broker)[0][("tern_bridge_clients", ("kind=ws",))] == 0)


def test_handshake_refusals(make_bridge):
    broker = make_bridge(bridge={"allowed_origins": ["http://dash.example"]})
    response = call(broker, "GET", "/ws")
    assert response.status == 426 and response.headers["upgrade"] == "websocket"
    sock = socket.create_connection((HOST, broker.bridge_port), timeout=5)
    sock.sendall(handshake_request().replace(b"Version: 13", b"Version: 8"))
    data = sock.recv(65536)
    sock.close()
    assert data.startswith(b"HTTP/1.1 426 ")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in data
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        WsClient(broker, origin="http://evil.example")
    assert refused.value.status_code == 403
    listed = WsClient(broker, origin="http://dash.example")
    assert listed.command("a", "ping")["type"] == "ok"
    listed.close()
    same = WsClient(broker, origin="http://127.0.0.1:%d" % broker.bridge_port)
    assert same.command("b", "ping")["type"] == "ok"
    same.close()


# -- subscribe -------------------------------------------------------------------------------------


def test_subscribe_sends_the_snapshot_then_live(make_bridge, clients, ws):
    broker = make_bridge(history=HISTORY)
    pub = clients(broker, "s-pub")
    pub.publish("other", b"x", qos=1, retain=True)
    pub.publish("h/b", b"2", qos=1, retain=True)
    pub.publish("h/a", b"1", qos=1, retain=True)
    client = ws(broker)
    client.send({"id": "s1", "op": "subscribe", "filter": "h/#"})
    snapshot = messages(client, 2)
    assert [(m["sub"], m["data"]["topic"], m["data"]["payload"], m["data"]["json"],
             m["data"]["retain"]) for m in snapshot] == [
        ("s1", "h/a", "1", 1, True), ("s1", "h/b", "2", 2, True)]
    answer = client.recv()
    assert answer["type"] == "ok" and answer["id"] == "s1" and set(answer) == {
        "type", "id", "position"}
    head = position(answer["position"])
    assert head[1] == max(position(m["data"]["id"])[1] for m in snapshot)
    pub.publish("h/c", b"live", qos=0)
    pub.publish("elsewhere", b"no", qos=0)
    live = client.recv()
    assert live["type"] == "message" and live["sub"] == "s1"
    assert (live["data"]["topic"], live["data"]["payload"], live["data"]["retain"]) == (
        "h/c", "live", False)
    assert position(live["data"]["id"]) > head
    client.expect_nothing()
    # Unsubscribed: nothing more, and the filter can be used again.
    assert client.command("u1", "unsubscribe", filter="h/#") == {"type": "ok", "id": "u1"}
    pub.publish("h/c", b"after", qos=1)
    client.expect_nothing()
    assert client.command("u2", "unsubscribe", filter="h/#") == error(
        "u2", "not_subscribed", "not subscribed to 'h/#'")


def test_overlapping_subscriptions_each_get_the_message(make_bridge, clients, ws):
    broker = make_bridge()
    client = ws(broker)
    assert client.command(1, "subscribe", filter="o/#")["type"] == "ok"
    assert client.command(2, "subscribe", filter="o/+")["type"] == "ok"
    assert client.command(3, "subscribe", filter="o/#") == error(
        3, "already_subscribed", "already subscribed to 'o/#'")
    clients(broker, "o-pub").publish("o/x", b"v", qos=1)
    got = sorted((m["sub"], m["data"]["payload"]) for m in messages(client, 2))
    assert got == [(1, "v"), (2, "v")]
    client.expect_nothing()


def test_resume_replays_what_was_missed(make_bridge, clients, ws):
    broker = make_bridge(history=HISTORY)
    pub = clients(broker, "r-pub")
    first = ws(broker)
    assert first.command("s", "subscribe", filter="h/#")["type"] == "ok"
    pub.publish("h/x", b"seen-1", qos=1)
    pub.publish("h/x", b"seen-2", qos=1)
    last = messages(first, 2)[-1]["data"]["id"]
    first.close()
    for text in (b"missed-1", b"missed-2", b"missed-3"):
        pub.publish("h/y", text, qos=1)
    pub.publish("unrelated", b"u", qos=1)
    resumed = ws(broker)
    resumed.send({"id": "r", "op": "subscribe", "filter": "h/#", "from": last})
    replay = messages(resumed, 3)
    assert [(m["sub"], m["data"]["payload"], m["data"]["retain"]) for m in replay] == [
        ("r", "missed-1", False), ("r", "missed-2", False), ("r", "missed-3", False)]
    answer = resumed.recv()
    assert (answer["type"], answer["id"]) == ("ok", "r")
    assert answer["position"] == replay[-1]["data"]["id"] or \
        position(answer["position"]) > position(replay[-1]["data"]["id"])
    pub.publish("h/y", b"live", qos=1)
    assert messages(resumed, 1)[0]["data"]["payload"] == "live"
    resumed.expect_nothing()


def test_resume_beyond_the_history_says_gap(make_bridge, clients, ws):
    broker = make_bridge(history=[{"filter": "h/#", "max_messages": 2}])
    pub = clients(broker, "g-pub")
    pub.publish("h/t", b"retained-old", qos=1, retain=True)
    first = ws(broker)
    from_position = first.command("s", "subscribe", filter="h/#")["position"]
    first.close()
    for i in range(5):
        pub.publish("h/t", b"m%d" % i, qos=1, retain=(i == 4))
    client = ws(broker)
    client.send({"id": 7, "op": "subscribe", "filter": "h/#", "from": from_position})
    assert client.recv() == {"type": "gap", "sub": 7, "from": from_position, "message":
                             "the history no longer covers everything since this position"}
    # Then the current values (retained snapshot), then what the history still has.
    got = [(m["data"]["payload"], m["data"]["retain"]) for m in messages(client, 3)]
    assert got == [("m4", True), ("m3", False), ("m4", False)]
    assert client.recv()["type"] == "ok"
    client.expect_nothing()


def test_resume_without_history_is_a_gap(make_bridge, clients, ws):
    broker = make_bridge()
    clients(broker, "n-pub").publish("n/t", b"v", qos=1, retain=True)
    client = ws(broker)
    client.send({"id": 1, "op": "subscribe", "filter": "n/#", "from": "1-5"})
    assert client.recv() == {"type": "gap", "sub": 1, "from": "1-5",
                             "message": "no history is kept on this server"}
    assert messages(client, 1)[0]["data"]["payload"] == "v"
    assert client.recv()["type"] == "ok"


def test_too_many_subscriptions(make_broker, ws):
    broker = make_broker(start=False)
    broker.bridge_port = free_port()
    text = bridge_config(broker) + "\n[limits]\nmax_subscriptions_per_client = 2\n"
    broker.config_path.write_text(text)
    broker.start()
    wait_http(broker)
    client = ws(broker)
    assert client.command(1, "subscribe", filter="a")["type"] == "ok"
    assert client.command(2, "subscribe", filter="b")["type"] == "ok"
    assert client.command(3, "subscribe", filter="c") == error(
        3, "too_many_subscriptions", "at most 2 subscriptions per connection")
    assert client.command(4, "unsubscribe", filter="a")["type"] == "ok"
    assert client.command(5, "subscribe", filter="c")["type"] == "ok"


def test_conflation_keeps_the_latest_per_topic(make_bridge, clients, ws):
    broker = make_bridge()
    assert call(broker, "GET", "/ws?conflate=soon", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}).status == 400
    client = ws(broker, "/ws?conflate=1s")
    assert client.command("c", "subscribe", filter="c/#")["type"] == "ok"
    pub = clients(broker, "c-pub")
    started = time.monotonic()
    for i in range(30):
        pub.publish("c/%d" % (i % 2), b"%d" % i, qos=1)
    first = messages(client, 1)[0]["data"]
    assert (first["topic"], first["payload"]) == ("c/0", "0")  # the first goes at once
    assert time.monotonic() - started < 0.9
    # The rest of the interval collapses to the latest per topic, in first-arrival order.
    got = [(m["data"]["topic"], m["data"]["payload"]) for m in messages(client, 2, timeout=3)]
    assert got == [("c/1", "29"), ("c/0", "28")]
    assert time.monotonic() - started >= 0.9
    client.expect_nothing(1.2)


# -- publish ---------------------------------------------------------------------------------------


def test_publish_reaches_mqtt_subscribers(make_bridge, clients, ws):
    broker = make_bridge(history=HISTORY)
    sub = clients(broker, "p-sub", proto=5)
    sub.subscribe("h/#", qos=2)
    client = ws(broker)
    answer = client.command("p0", "publish", topic="h/0", payload="zero")
    assert answer["type"] == "ok" and answer["receivers"] == 1
    position(answer["position"])
    answer = client.command("p1", "publish", topic="h/1", json={"v": 1}, qos=1, retain=True,
                            properties={"content_type": "application/json",
                                        "user_properties": [["k", "v"]]})
    assert (answer["type"], answer["receivers"]) == ("ok", 1)
    assert client.command("p2", "publish", topic="h/2", payload_base64="AAE=",
                          qos=2)["type"] == "ok"
    got = sub.wait_for(3)
    assert [(m.topic, m.payload, m.qos) for m in got] == [
        ("h/0", b"zero", 0), ("h/1", b'{"v":1}', 1), ("h/2", b"\x00\x01", 2)]
    assert got[1].prop("ContentType") == "application/json"
    assert got[1].prop("UserProperty") == [("k", "v")]
    retained = call(broker, "GET", "/api/retained?filter=h/1").json()
    assert [e["payload"] for e in retained] == ['{"v":1}']


@pytest.mark.parametrize("fields,expected", [
    ({}, ("missing_field", "missing 'topic'")),
    ({"topic": 5}, ("invalid_field", "'topic' must be a string")),
    ({"topic": "a/+/b"}, ("invalid_topic", "'a/+/b' is not a valid topic name")),
    ({"topic": "$SYS/x"}, ("forbidden", "$SYS topics belong to the broker")),
    ({"topic": "t", "qos": 3}, ("invalid_field", "'qos' must be 0, 1 or 2")),
    ({"topic": "t", "retain": 1}, ("invalid_field", "'retain' must be true or false")),
    ({"topic": "t", "colour": "red"}, ("invalid_field", "unknown key 'colour'")),
    ({"topic": "t", "payload": "a", "json": 1},
     ("invalid_field", "give only one of 'payload', 'json' and 'payload_base64'")),
    ({"topic": "t", "payload_base64": "@@"}, ("invalid_field", "'payload_base64' is not valid base64")),
])
def test_publish_refusals(make_bridge, ws, fields, expected):
    broker = make_bridge()
    client = ws(broker)
    assert client.command("x", "publish", **fields) == error("x", *expected)


# -- request / reply -------------------------------------------------------------------------------


def start_responder(clients, broker, topic, answer, username=None, password=None):
    """An MQTT 5 device that answers each request on `topic` on its response topic with the same
    correlation data; `answer(payload)` gives the reply payload (None: no reply)."""
    device = clients(broker, "device-" + topic.replace("/", "-"), proto=5, username=username,
                     password=password)
    device.subscribe(topic, qos=1)
    stop = threading.Event()
    seen = []

    def serve():
        while not stop.is_set():
            try:
                message = device.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(message)
            reply = answer(message.payload)
            if reply is not None:
                props = publish_props(CorrelationData=message.prop("CorrelationData"))
                device.publish(message.prop("ResponseTopic"), reply, qos=1, props=props,
                               wait=False)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return stop, seen


def test_request_gets_the_devices_reply(make_bridge, clients, ws):
    broker = make_bridge()
    stop, seen = start_responder(clients, broker, "dev/1/cmd", lambda p: b"done:" + p)
    try:
        first, second = ws(broker), ws(broker)
        # Both ask at once; each gets its own reply, under its own id.
        first.send({"id": "q1", "op": "request", "topic": "dev/1/cmd", "payload": "on"})
        second.send({"id": "q1", "op": "request", "topic": "dev/1/cmd", "payload": "off",
                     "qos": 1, "properties": {"user_properties": {"from": "second"}}})
        answer = first.answer("q1")
        assert answer["type"] == "ok" and answer["data"]["payload"] == "done:on"
        reply_topic = answer["data"]["topic"]
        assert reply_topic.startswith("$bridge/reply/") and len(reply_topic) == 14 + 32
        assert base64.b64decode(answer["data"]["properties"]["correlation_data"])
        other = second.answer("q1")
        assert other["data"]["payload"] == "done:off"
        assert other["data"]["topic"] != reply_topic
        first.expect_nothing()
        second.expect_nothing()
        # What the device got: the response topic and 16 bytes of correlation data.
        assert sorted(m.payload for m in seen) == [b"off", b"on"]
        for message in seen:
            assert message.prop("ResponseTopic").startswith("$bridge/reply/")
            assert len(message.prop("CorrelationData")) == 16
        # The same connection reuses its reply topic for the next request.
        again = first.command(2, "request", topic="dev/1/cmd", payload="x", timeout_ms=2000)
        assert again["data"]["topic"] == reply_topic and again["data"]["payload"] == "done:x"
    finally:
        stop.set()


def test_request_times_out_and_late_or_forged_replies_are_dropped(make_bridge, clients, ws):
    broker = make_bridge()
    stop, seen = start_responder(clients, broker, "slow/cmd", lambda p: None)
    try:
        client = ws(broker)
        started = time.monotonic()
        answer = client.command("t", "request", topic="slow/cmd", payload="?", timeout_ms=300)
        elapsed = time.monotonic() - started
        assert answer == error("t", "timeout", "no reply within 300 ms")
        assert 0.25 <= elapsed < 2.0
        # A reply after the timeout, or with other correlation data, is not delivered.
        message = seen[0]
        forger = clients(broker, "forger", proto=5)
        forger.publish(message.prop("ResponseTopic"), b"late", qos=1,
                       props=publish_props(CorrelationData=message.prop("CorrelationData")))
        forger.publish(message.prop("ResponseTopic"), b"forged", qos=1,
                       props=publish_props(CorrelationData=b"0123456789abcdef"))
        client.expect_nothing(0.5)
    finally:
        stop.set()


@pytest.mark.parametrize("fields,expected", [
    ({"topic": "nobody/home"}, ("no_subscribers", "no client is subscribed to the request's topic")),
    ({}, ("missing_field", "missing 'topic'")),
    ({"topic": "t", "timeout_ms": 0}, ("invalid_field", "'timeout_ms' must be 1..60000")),
    ({"topic": "t", "timeout_ms": 60001}, ("invalid_field", "'timeout_ms' must be 1..60000")),
    ({"topic": "t", "properties": {"response_topic": "mine"}},
     ("invalid_field", "a request's response_topic and correlation_data are set by the server")),
    ({"topic": "t/#"}, ("invalid_topic", "'t/#' is not a valid topic name")),
])
def test_request_refusals(make_bridge, ws, fields, expected):
    broker = make_bridge()
    client = ws(broker)
    assert client.command("r", "request", **fields) == error("r", *expected)


def test_too_many_pending_requests(make_bridge, clients, ws):
    broker = make_bridge()
    stop, seen = start_responder(clients, broker, "mute/cmd", lambda p: None)
    try:
        client = ws(broker)
        client.send([{"id": i, "op": "request", "topic": "mute/cmd", "timeout_ms": 60000}
                     for i in range(100)])
        eventually(lambda: len(seen) == 100)
        assert client.command(100, "request", topic="mute/cmd") == error(
            100, "too_many_requests", "at most 100 requests may wait for a reply per connection")
        client.expect_nothing()
    finally:
        stop.set()


# -- presence --------------------------------------------------------------------------------------


def test_presence_snapshot_then_events(make_bridge, clients, ws):
    broker = make_bridge()
    clients(broker, "pres-old", proto=4)
    client = ws(broker)
    answer = client.command("p", "presence_subscribe")
    assert answer["type"] == "ok"
    assert [(c["client_id"], c["online"]) for c in answer["clients"]] == [("pres-old", True)]
    newcomer = clients(broker, "pres-new", proto=5)
    event = client.recv()
    assert (event["type"], event["sub"]) == ("presence", "p")
    assert (event["data"]["client_id"], event["data"]["online"], event["data"]["reason"],
            event["data"]["protocol"]) == ("pres-new", True, "connected", "5.0")
    newcomer.disconnect()
    event = client.recv()
    assert (event["data"]["client_id"], event["data"]["online"]) == ("pres-new", False)
    assert client.command("p2", "presence_subscribe") == error(
        "p2", "already_subscribed", "already subscribed to presence")
    assert client.command("p3", "presence_unsubscribe") == {"type": "ok", "id": "p3"}
    clients(broker, "pres-later")
    client.expect_nothing()
    assert client.command("p4", "presence_unsubscribe") == error(
        "p4", "not_subscribed", "not subscribed to presence")


# -- errors and framing ----------------------------------------------------------------------------


@pytest.mark.parametrize("frame,expected", [
    ("{nope", error(None, "bad_json", "the frame is not valid JSON")),
    ("42", error(None, "bad_command", "a command must be a JSON object")),
    ('{"op":"ping"}', error(None, "bad_command", "missing 'id'")),
    ('{"id":true,"op":"ping"}', error(None, "bad_command", "'id' must be a string or an integer")),
    ('{"id":"a"}', error("a", "bad_command", "missing 'op'")),
    ('{"id":"a","op":7}', error("a", "bad_command", "'op' must be a string")),
    ('{"id":"a","op":"dance"}', error("a", "unknown_command", "unknown op 'dance'")),
    ('{"id":"a","op":"ping","x":1}', error("a", "invalid_field", "unknown field 'x'")),
    ('{"id":"a","op":"subscribe"}', error("a", "missing_field", "missing 'filter'")),
    ('{"id":"a","op":"subscribe","filter":1}', error("a", "invalid_field",
                                                     "'filter' must be a string")),
    ('{"id":"a","op":"subscribe","filter":"a/#/b"}',
     error("a", "invalid_filter", "'a/#/b' is not a valid topic filter")),
    ('{"id":"a","op":"subscribe","filter":"$share/g/t"}',
     error("a", "invalid_filter", "shared subscriptions ($share/...) are not available over HTTP")),
    ('{"id":"a","op":"subscribe","filter":"t","from":"soon"}',
     error("a", "invalid_field", "'from' must be a position \"<epoch>-<seq>\"")),
    ('{"id":"a","op":"unsubscribe"}', error("a", "missing_field", "missing 'filter'")),
    ("[]", error(None, "bad_command", "a frame's array must hold 1..100 commands")),
    ("[" + ",".join(['{"id":1,"op":"ping"}'] * 101) + "]",
     error(None, "bad_command", "a frame's array must hold 1..100 commands")),
])
def test_command_errors(make_bridge, ws, frame, expected):
    broker = make_bridge()
    client = ws(broker)
    client.send(frame)
    assert client.recv() == expected
    # The connection stays usable after a refused command.
    assert client.command(99, "ping") == {"type": "ok", "id": 99}


def test_several_commands_in_one_frame_are_answered_in_order(make_bridge, clients, ws):
    broker = make_bridge()
    clients(broker, "m-pub").publish("m/r", b"kept", qos=1, retain=True)
    client = ws(broker)
    client.send(json.dumps([
        {"id": 1, "op": "ping"},
        {"id": 2, "op": "subscribe", "filter": "m/#"},
        {"id": 3, "op": "nonsense"},
        {"op": "ping"},
        {"id": 4, "op": "publish", "topic": "m/live", "payload": "p"},
    ]))
    got = client.recv_many(7)
    summary = [(m["type"], m.get("id"), m.get("sub")) for m in got]
    assert summary[:5] == [("ok", 1, None), ("message", None, 2), ("ok", 2, None),
                           ("error", 3, None), ("error", None, None)]
    # The publish answer and the live copy of the message may come in either order.
    assert sorted(summary[5:], key=str) == sorted([("ok", 4, None), ("message", None, 2)], key=str)
    assert got[1]["data"]["payload"] == "kept"


def test_ping_pong_and_close_handshake(make_bridge, raw_ws):
    broker = make_bridge()
    client = raw_ws(broker)
    client.send(client_frame(0x9, b"hello"))
    assert client.frame() == (True, 0xA, b"hello")
    client.send_text('{"id":1,"op":"ping"}')
    assert client.json() == {"type": "ok", "id": 1}
    # A command split over fragments, with a ping between them (RFC 6455 §5.4).
    client.send(client_frame(0x1, b'{"id":2,', fin=False))
    client.send(client_frame(0x9, b"mid"))
    client.send(client_frame(0x0, b'"op":"ping"}'))
    assert client.frame() == (True, 0xA, b"mid")
    assert client.json() == {"type": "ok", "id": 2}
    client.send(client_frame(0x8, struct.pack("!H", 1000) + b"bye"))
    assert client.close_frame() == (1000, "")
    client.wait_eof()


def test_server_pings_an_idle_connection(make_bridge, raw_ws):
    broker = make_bridge(bridge={"heartbeat_interval_ms": 200})
    client = raw_ws(broker)
    started = time.monotonic()
    assert client.frame(timeout=2) == (True, 0x9, b"")
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("frame,code", [
    (client_frame(0x2, b"\x00\x01"), 1003),             # binary: the protocol is JSON text
    (client_frame(0x1, b"{}", mask=False), 1002),       # clients must mask (§5.1)
    (client_frame(0x1, b"\xff\xfe"), 1007),             # text must be UTF-8 (§8.1)
    (client_frame(0x1, b"{}", rsv=1), 1002),            # no extension was negotiated (§5.2)
    (client_frame(0x1, b"x" * 2000), 1009),             # over bridge.max_body_bytes
])
def test_bad_frames_close_the_connection(make_bridge, raw_ws, frame, code):
    broker = make_bridge(bridge={"max_body_bytes": 1024})
    client = raw_ws(broker)
    client.send(frame)
    assert client.close_frame()[0] == code
    client.wait_eof()
    # Others are not affected.
    other = raw_ws(broker)
    other.send_text('{"id":1,"op":"ping"}')
    assert other.json() == {"type": "ok", "id": 1}


# -- auth and ACL ----------------------------------------------------------------------------------

ACL = """\
user alice
topic read r/#
topic readwrite w/#

user pub
topic write #

user device
topic read w/dev/#
topic write $bridge/reply/+
"""


@pytest.fixture
def auth_bridge(make_bridge, tmp_path):
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    passwd = password_file(tmp_path, {"alice": "alice-pw", "pub": "pub-pw",
                                      "device": "device-pw"})
    return make_bridge(auth={"password_file": str(passwd), "acl_file": str(acl)})


def test_credentials_are_required(auth_bridge):
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        WsClient(auth_bridge)
    assert refused.value.status_code == 401
    client = WsClient(auth_bridge, headers=basic("alice", "alice-pw"))
    assert client.command(1, "ping")["type"] == "ok"
    client.close()


def test_acl_applies_to_subscriptions_messages_and_publishes(auth_bridge, ws):
    broker = auth_bridge
    alice = ws(broker, headers=basic("alice", "alice-pw"))
    assert alice.command(1, "subscribe", filter="secret/#") == error(
        1, "forbidden", "not allowed to read 'secret/#'")
    assert alice.command(2, "publish", topic="r/1", payload="no") == error(
        2, "forbidden", "not allowed to publish to 'r/1'")
    assert alice.command(3, "request", topic="r/1", payload="no") == error(
        3, "forbidden", "not allowed to publish to 'r/1'")
    # A wide filter is allowed, and each message is checked: only readable topics arrive.
    assert alice.command(4, "subscribe", filter="#")["type"] == "ok"
    assert publish(broker, "secret/1", headers=basic("pub", "pub-pw"), payload="x").status == 200
    assert alice.command(5, "publish", topic="w/2", payload="readable")["type"] == "ok"
    got = messages(alice, 1)
    assert got[0]["data"]["topic"] == "w/2"
    alice.expect_nothing()


def test_request_reply_under_the_acl(auth_bridge, clients, ws):
    broker = auth_bridge
    stop, _ = start_responder(clients, broker, "w/dev/cmd", lambda p: b"ack",
                              username="device", password="device-pw")
    try:
        alice = ws(broker, headers=basic("alice", "alice-pw"))
        answer = alice.command("q", "request", topic="w/dev/cmd", payload="go")
        assert answer["type"] == "ok" and answer["data"]["payload"] == "ack"
    finally:
        stop.set()


# -- slow consumers --------------------------------------------------------------------------------


def test_slow_consumer_is_cut_off_while_another_carries_on(make_bridge, clients, ws):
    cap = 256 * 1024
    broker = make_bridge(bridge={"max_client_buffer": cap})
    slow = RawWs(broker, rcvbuf=4096)
    slow.send_text('{"id":"s","op":"subscribe","filter":"big/#"}')
    assert slow.json() == {"type": "ok", "id": "s"}
    fast = ws(broker)
    assert fast.command("f", "subscribe", filter="big/#")["type"] == "ok"
    pub = clients(broker, "big-pub")
    payload = b"x" * 16000
    cut = False
    sent = 0
    # Batches: the fast reader keeps up, the slow one falls behind until it is cut off; then
    # its socket is read at once (a cut client gets a few seconds to take its last bytes).
    while sent < 1200 and not cut:
        for _ in range(40):
            pub.publish("big/%d" % (sent % 4), payload, qos=1)
            sent += 1
        got = messages(fast, 40, timeout=10)
        assert all(m["data"]["payload"] == payload.decode() for m in got)
        cut = metrics(broker)[0][("tern_bridge_slow_consumers_total", ())] == 1
    assert cut, "the slow consumer was not cut off after %d messages" % sent
    received = 0
    while True:
        fin, opcode, body = slow.frame(timeout=10)
        if opcode == 0x8:
            break
        received += 1
    assert struct.unpack("!H", body[:2])[0] == 1008
    assert body[2:].decode() == "slow consumer: more than %d bytes queued" % cap
    slow.wait_eof()
    slow.close()
    assert received < sent  # not everything: it was dropped, not buffered
    # The fast client is still served.
    pub.publish("big/after", b"still here", qos=1)
    assert messages(fast, 1)[0]["data"]["payload"] == "still here"
    eventually(lambda: metrics(broker)[0][("tern_bridge_clients", ("kind=ws",))] == 1)
