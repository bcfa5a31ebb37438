"""The bridge's HTTP side: errors and limits (404/405/408/413/414/431/503), keep-alive and
pipelining, /healthz, /metrics, /api/retained, /api/publish, /api/presence, Basic auth, ACL,
CORS and the WebSocket placeholder."""

import base64
import json
import re
import socket
import time

import pytest

from bridge_support import (basic, call, get_json, make_bridge, metrics, publish, raw_socket,  # noqa: F401
                            read_response, sse, wait_closed)
from helpers import eventually
from mqtt_client import publish_props
from test_auth import password_file

pytestmark = pytest.mark.tern_only


def error_body(response):
    body = response.json()
    assert set(body) == {"error", "message"}, body
    return body


# -- errors and limits -----------------------------------------------------------------------------


def test_unknown_path_is_404_and_wrong_method_405_with_allow(make_bridge):
    broker = make_bridge()
    response = call(broker, "GET", "/nope")
    assert response.status == 404
    assert response.headers["content-type"] == "application/json"
    assert error_body(response) == {"error": "not_found", "message": "no endpoint at '/nope'"}
    response = call(broker, "DELETE", "/healthz")
    assert response.status == 405
    assert response.headers["allow"] == "GET, OPTIONS"
    assert error_body(response)["error"] == "method_not_allowed"
    response = call(broker, "GET", "/api/publish")
    assert response.status == 405
    assert response.headers["allow"] == "POST, OPTIONS"


def test_keep_alive_and_pipelined_requests_share_one_socket(make_bridge):
    broker = make_bridge()
    sock = raw_socket(broker)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body, rest = read_response(sock)
        assert status == 200 and json.loads(body)["status"] == "ok" and rest == b""
        assert "connection" not in headers
        # Two requests in one write: two answers, in order, on the same socket.
        sock.sendall(b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET /api/presence HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body, rest = read_response(sock)
        assert status == 404
        sock.settimeout(5)
        while b"\r\n\r\n" not in rest:
            rest += sock.recv(65536)
        head, _, tail = rest.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        # Connection: close ends it after the answer.
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = tail + wait_closed(sock)
        assert data.count(b"HTTP/1.1 200 OK") == 1 and b"Connection: close\r\n" in data
    finally:
        sock.close()


def test_body_over_the_limit_is_413_and_closes(make_bridge):
    broker = make_bridge(bridge={"max_body_bytes": 1024})
    sock = raw_socket(broker)
    try:
        sock.sendall(b"POST /api/publish HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
        status, headers, body, _ = read_response(sock)
        assert status == 413
        assert headers["connection"] == "close"
        assert json.loads(body) == {"error": "payload_too_large",
                                    "message": "request body larger than 1024 bytes"}
        wait_closed(sock)
    finally:
        sock.close()
    # Chunked bodies are counted as they arrive.
    sock = raw_socket(broker)
    try:
        chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
        sock.sendall(b"POST /api/publish HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + chunk + chunk)
        status, _, _, _ = read_response(sock)
        assert status == 413
    finally:
        sock.close()


def test_long_request_line_is_414_and_long_headers_431(make_bridge):
    broker = make_bridge(bridge={"max_header_bytes": 2048})
    response = call(broker, "GET", "/healthz?" + "a" * 3000)
    assert response.status == 414
    assert error_body(response) == {"error": "uri_too_long", "message": "request line too long"}
    response = call(broker, "GET", "/healthz", headers={"X-Big": "v" * 3000})
    assert response.status == 431
    assert error_body(response) == {"error": "headers_too_large",
                                    "message": "request headers too large"}
    assert call(broker, "GET", "/healthz", headers={"X-Small": "v" * 1000}).status == 200


def test_malformed_request_is_400(make_bridge):
    broker = make_bridge()
    sock = raw_socket(broker)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n")
        status, _, body, _ = read_response(sock)
        assert status == 400
        assert json.loads(body)["error"] == "bad_request"
        wait_closed(sock)
    finally:
        sock.close()


def test_slowloris_headers_get_408_while_others_are_served(make_bridge):
    broker = make_bridge(bridge={"header_timeout_ms": 600})
    sock = raw_socket(broker)
    try:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        for _ in range(3):
            time.sleep(0.15)
            sock.sendall(b"X-Drip: 1\r\n")  # keeps trickling, never finishes the headers
            assert call(broker, "GET", "/healthz").status == 200
        status, headers, body, _ = read_response(sock)
        elapsed = time.monotonic() - started
        assert status == 408
        assert headers["connection"] == "close"
        assert json.loads(body) == {"error": "request_timeout",
                                    "message": "request headers not received in time"}
        assert 0.5 <= elapsed < 2.0, elapsed
        wait_closed(sock)
    finally:
        sock.close()


def test_silent_and_idle_connections_are_closed(make_bridge):
    broker = make_bridge(bridge={"header_timeout_ms": 400, "idle_timeout_ms": 300})
    silent = raw_socket(broker)
    idle = raw_socket(broker)
    try:
        started = time.monotonic()
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(idle)[0] == 200
        assert wait_closed(idle, 3) == b""  # no answer: nothing was asked
        assert wait_closed(silent, 3) == b""
        assert time.monotonic() - started >= 0.3
    finally:
        silent.close()
        idle.close()


def test_connections_over_max_connections_get_503(make_bridge):
    broker = make_bridge(bridge={"max_connections": 2})
    # The start-up probe's connection must be gone before counting.
    eventually(lambda: get_json(broker, "/healthz")["connections"]["bridge"] == 1)
    time.sleep(0.3)
    held = [raw_socket(broker), raw_socket(broker)]
    try:
        time.sleep(0.2)
        extra = raw_socket(broker)
        status, _, body, _ = read_response(extra)
        assert status == 503
        assert json.loads(body)["error"] == "unavailable"
        extra.close()
        held.pop().close()
        held.pop().close()
        eventually(lambda: call(broker, "GET", "/healthz").status == 200)
    finally:
        for sock in held:
            sock.close()


def test_expect_100_continue(make_bridge):
    broker = make_bridge()
    sock = raw_socket(broker)
    try:
        body = json.dumps({"topic": "c/1", "payload": "x"}).encode()
        sock.sendall(b"POST /api/publish HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        sock.settimeout(5)
        assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        status, _, answer, _ = read_response(sock)
        assert status == 200 and json.loads(answer)["ok"] is True
    finally:
        sock.close()


def test_websocket_paths_need_an_upgrade(make_bridge):
    broker = make_bridge()
    response = call(broker, "GET", "/ws")
    assert response.status == 426
    assert response.headers["upgrade"] == "websocket"
    # /mqtt is served (test_mqtt_websocket.py): an upgrade without the "mqtt" subprotocol is
    # refused with a JSON 400 [MQTT-6.0.0-3].
    response = call(broker, "GET", "/mqtt", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert response.status == 400
    assert response.json()["error"] == "bad_request"


# -- endpoints -------------------------------------------------------------------------------------


def test_healthz(make_bridge, clients):
    broker = make_bridge()
    clients(broker, "h-1")
    body = get_json(broker, "/healthz")
    assert body["status"] == "ok"
    assert body["connections"]["mqtt"] == 1
    assert body["connections"]["bridge"] >= 1
    assert isinstance(body["uptime_seconds"], int) and isinstance(body["version"], str)


def test_retained_envelopes(make_bridge, clients):
    broker = make_bridge()
    pub = clients(broker, "r-pub", proto=5)
    props = publish_props(ContentType="application/json", ResponseTopic="reply/1",
                          CorrelationData=b"\x01\x02", UserProperty=[("k", "v"), ("a", "b")])
    pub.publish("r/json", b'{"t": 21.5}', qos=1, retain=True, props=props)
    pub.publish("r/text", b"on", qos=1, retain=True)
    pub.publish("r/bin", b"\x00\xff", qos=0, retain=True)
    pub.publish("other/x", b"no", qos=1, retain=True)
    before = int(time.time() * 1000)
    got = eventually(lambda: (lambda r: r if len(r) == 3 else None)(
        get_json(broker, "/api/retained?filter=r/%23")))
    ids = []
    for item in got:
        assert abs(item.pop("timestamp") - before) < 10000
        # With the bridge on every published message has a stream position "<epoch>-<seq>".
        ids.append(item.pop("id"))
    assert all(re.fullmatch(r"\d+-\d+", i) for i in ids), ids
    assert len({i.split("-")[0] for i in ids}) == 1 and len(set(ids)) == 3, ids
    assert got == [
        {"topic": "r/bin", "payload": "AP8=", "encoding": "base64", "qos": 0, "retain": True},
        {"topic": "r/json", "payload": '{"t": 21.5}', "json": {"t": 21.5}, "qos": 1,
         "retain": True, "properties": {"content_type": "application/json",
                                        "user_properties": [["k", "v"], ["a", "b"]],
                                        "response_topic": "reply/1",
                                        "correlation_data": "AQI="}},
        {"topic": "r/text", "payload": "on", "qos": 1, "retain": True},
    ]
    single = get_json(broker, "/api/retained?filter=r/text")
    assert len(single) == 1 and single[0]["payload"] == "on"
    assert get_json(broker, "/api/retained?filter=none/%23") == []


@pytest.mark.parametrize("query,status,message", [
    ("", 400, "missing query parameter 'filter'"),
    ("?filter=a/%23/b", 400, "'a/#/b' is not a valid topic filter"),
    ("?filter=%24share/g/a", 400, "shared subscriptions ($share/...) are not available over HTTP"),
])
def test_retained_bad_filters(make_bridge, query, status, message):
    broker = make_bridge()
    response = call(broker, "GET", "/api/retained" + query)
    assert response.status == status
    assert error_body(response)["message"] == message


def test_publish_reaches_mqtt_subscribers(make_bridge, clients):
    broker = make_bridge()
    sub = clients(broker, "p-sub", proto=5)
    sub.subscribe("p/#", 2)
    response = publish(broker, "p/text", payload="hello", qos=1, retain=True)
    assert response.status == 200, response
    body = response.json()
    assert re.fullmatch(r"\d+-\d+", body.pop("id")), body  # its position in the stream
    assert body == {"ok": True, "receivers": 1}
    msg = sub.wait_one()
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("p/text", b"hello", 1, False)
    assert get_json(broker, "/api/retained?filter=p/text")[0]["payload"] == "hello"

    assert publish(broker, "p/json", json={"a": [1, 2]}, qos=2).status == 200
    msg = sub.wait_one()
    assert (msg.payload, msg.qos) == (b'{"a":[1,2]}', 2)

    assert publish(broker, "p/bin", payload_base64=base64.b64encode(b"\x00\x01").decode()
                   ).status == 200
    assert sub.wait_one().payload == b"\x00\x01"

    response = publish(broker, "p/props", payload="x", properties={
        "content_type": "text/plain", "response_topic": "re/1",
        "correlation_data": base64.b64encode(b"cid").decode(),
        "user_properties": [["a", "1"], ["b", "2"]], "message_expiry_interval": 60})
    assert response.status == 200, response
    msg = sub.wait_one()
    assert msg.prop("ContentType") == "text/plain"
    assert msg.prop("ResponseTopic") == "re/1"
    assert msg.prop("CorrelationData") == b"cid"
    assert msg.prop("UserProperty") == [("a", "1"), ("b", "2")]
    assert 0 < msg.prop("MessageExpiryInterval") <= 60


@pytest.mark.parametrize("body,status,message", [
    ("not json", 400, "the body is not valid JSON"),
    ('["a"]', 400, "the body must be a JSON object"),
    ('{"payload": "x"}', 400, "missing 'topic'"),
    ('{"topic": 5}', 400, "'topic' must be a string"),
    ('{"topic": "a/+", "payload": "x"}', 400, "'a/+' is not a valid topic name"),
    ('{"topic": "a", "qos": 3}', 400, "'qos' must be 0, 1 or 2"),
    ('{"topic": "a", "retain": "yes"}', 400, "'retain' must be true or false"),
    ('{"topic": "a", "payload": "x", "json": 1}', 400,
     "give only one of 'payload', 'json' and 'payload_base64'"),
    ('{"topic": "a", "payload_base64": "!!"}', 400, "'payload_base64' is not valid base64"),
    ('{"topic": "a", "colour": 1}', 400, "unknown key 'colour'"),
    ('{"topic": "a", "properties": {"x": 1}}', 400, "unknown property 'x'"),
    ('{"topic": "$SYS/x", "payload": "x"}', 403, "$SYS topics belong to the broker"),
])
def test_publish_refusals(make_bridge, body, status, message):
    broker = make_bridge()
    response = call(broker, "POST", "/api/publish", body)
    assert response.status == status
    assert error_body(response)["message"] == message


def test_presence_follows_connect_takeover_disconnect(make_bridge, clients):
    broker = make_bridge()

    def record(client_id):
        for item in get_json(broker, "/api/presence"):
            if item["client_id"] == client_id:
                return item
        return None

    assert record("dev-1") is None
    first = clients(broker, "dev-1", proto=5)
    item = record("dev-1")
    assert item["online"] is True and item["protocol"] == "5.0"
    assert item["peer"].startswith("127.0.0.1:")
    second = clients(broker, "dev-1", proto=4)  # takes the session over
    first.wait_disconnected()
    item = eventually(lambda: (lambda r: r if r["protocol"] == "3.1.1" else None)(
        record("dev-1")))
    assert item["online"] is True
    second.disconnect()
    item = eventually(lambda: (lambda r: r if not r["online"] else None)(record("dev-1")))
    assert item["last_seen"] >= item["connected_at"]
    assert set(item) == {"client_id", "online", "connected_at", "last_seen", "peer",
                         "protocol"}


def test_metrics_are_prometheus_text_and_move(make_bridge, clients, sse):
    broker = make_bridge(storage={"durability": "async"})
    samples, types = metrics(broker)
    assert types["tern_messages_received_total"] == "counter"
    assert types["tern_connections"] == "gauge"
    assert types["tern_storage_commit_latency_seconds"] == "histogram"
    assert types["tern_bridge_clients"] == "gauge"
    received = samples[("tern_messages_received_total", ("qos=1",))]
    commits = samples[("tern_storage_commit_latency_seconds_count", ())]

    pub = clients(broker, "m-pub")
    pub.publish("m/a", b"12345", qos=1, retain=True)
    pub.publish("m/b", b"xy", qos=1)
    stream = sse(broker, "/events?topic=m/%23")
    assert stream.wait_head() == 200
    stream.messages(1)  # the retained m/a

    samples, _ = metrics(broker)
    assert samples[("tern_messages_received_total", ("qos=1",))] == received + 2
    assert samples[("tern_payload_bytes_received_total", ("qos=1",))] >= 7
    assert samples[("tern_connections", ())] == 1
    assert samples[("tern_retained_messages", ())] >= 1
    assert samples[("tern_bridge_clients", ("kind=sse",))] == 1
    assert samples[("tern_bridge_clients", ("kind=http",))] >= 1  # this request
    assert samples[("tern_storage_commit_latency_seconds_count", ())] > commits
    buckets = [(labels, value) for (name, labels), value in samples.items()
               if name == "tern_storage_commit_latency_seconds_bucket"]
    assert buckets[-1][0] == ("le=+Inf",)
    counts = [value for _, value in buckets]
    assert counts == sorted(counts)  # cumulative
    assert counts[-1] == samples[("tern_storage_commit_latency_seconds_count", ())]
    stream.stop()
    eventually(lambda: metrics(broker)[0][("tern_bridge_clients", ("kind=sse",))] == 0)


# -- auth, ACL, CORS -------------------------------------------------------------------------------

ACL = """\
user alice
topic read r/#
topic readwrite w/#

user pub
topic write #
"""


@pytest.fixture
def auth_bridge(make_bridge, tmp_path):
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    passwd = password_file(tmp_path, {"alice": "alice-pw", "pub": "pub-pw"})
    return make_bridge(auth={"password_file": str(passwd), "acl_file": str(acl)})


def test_basic_auth_is_required_with_a_password_file(auth_bridge):
    broker = auth_bridge
    assert call(broker, "GET", "/healthz").status == 200  # for load balancers
    response = call(broker, "GET", "/api/presence")
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Basic realm="tern", charset="UTF-8"'
    assert error_body(response) == {
        "error": "unauthorized", "message": "authentication required (HTTP Basic with an MQTT user)"}
    started = time.monotonic()
    response = call(broker, "GET", "/api/presence", headers=basic("alice", "wrong"))
    assert response.status == 401
    assert error_body(response)["message"] == "bad user name or password"
    assert time.monotonic() - started >= 0.9  # held back like a refused CONNACK
    assert call(broker, "GET", "/api/presence", headers=basic("alice", "alice-pw")).status == 200
    assert call(broker, "GET", "/metrics").status == 401
    samples, _ = metrics(broker, headers=basic("alice", "alice-pw"))
    assert samples[("tern_bridge_auth_failures_total", ())] == 1


def test_acl_applies_to_reads_and_publishes(auth_bridge, sse):
    broker = auth_bridge
    alice = basic("alice", "alice-pw")
    assert call(broker, "GET", "/api/retained?filter=r/%23", headers=alice).status == 200
    response = call(broker, "GET", "/api/retained?filter=secret/%23", headers=alice)
    assert response.status == 403
    assert error_body(response) == {"error": "forbidden",
                                    "message": "not allowed to read 'secret/#'"}
    assert publish(broker, "w/1", headers=alice, payload="ok").status == 200
    response = publish(broker, "r/1", headers=alice, payload="no")
    assert response.status == 403
    assert error_body(response)["message"] == "not allowed to publish to 'r/1'"
    denied = sse(broker, "/events?topic=secret/x", headers=alice)
    assert denied.wait_head() == 403
    # A wide filter is allowed, and each message is checked: only readable topics arrive.
    stream = sse(broker, "/events?topic=%23", headers=alice)
    assert stream.wait_head() == 200
    assert publish(broker, "secret/1", headers=basic("pub", "pub-pw"), payload="x").status == 200
    assert publish(broker, "w/2", headers=alice, payload="readable").status == 200
    got = stream.messages(1)
    assert got[0][1]["topic"] == "w/2"
    stream.expect_nothing(0.3)


def test_cors_allow_list(make_bridge):
    broker = make_bridge(bridge={"allowed_origins": ["http://dash.example:3000"]})
    listed = {"Origin": "http://dash.example:3000"}
    response = call(broker, "GET", "/api/presence", headers=listed)
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == "http://dash.example:3000"
    assert response.headers["access-control-allow-credentials"] == "true"
    response = call(broker, "OPTIONS", "/api/publish", headers=dict(
        listed, **{"Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "content-type"}))
    assert response.status == 204
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "content-type"
    response = call(broker, "POST", "/api/publish", {"topic": "x", "payload": "y"},
                    headers={"Origin": "http://evil.example"})
    assert response.status == 403
    assert error_body(response)["error"] == "origin_not_allowed"
    # Same origin (the page served by the bridge itself) needs no listing.
    same = {"Origin": "http://127.0.0.1:%d" % broker.bridge_port}
    response = call(broker, "GET", "/api/presence", headers=same)
    assert response.status == 200 and "access-control-allow-origin" not in response.headers
