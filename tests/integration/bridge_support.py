"""Helpers for the bridge tests: a broker with [bridge] on, HTTP requests (http.client and raw
sockets), and a curl-driven Server-Sent Events reader.

The bridge is Tern's alone: every bridge test is tern_only.
"""

import base64
import http.client
import json
import queue
import socket
import subprocess
import threading
import time

import pytest

from broker_process import HOST, free_port, toml_value

DEFAULT_TIMEOUT = 5.0


def bridge_config(broker, bridge=None, history=None, auth=None, storage=None):
    """tern TOML: the broker's MQTT listener and data dir, plus [bridge] (enabled, on a free
    port), [[storage.history]] tables and [auth]."""
    bridge = dict(bridge or {})
    bridge.setdefault("enabled", True)
    bridge.setdefault("port", broker.bridge_port)
    lines = ["[broker]", "workers = %d" % broker.workers, 'log_level = "info"', "sys_interval = 0",
             "", "[[listeners]]", 'type = "mqtt"', 'address = "%s"' % HOST,
             "port = %d" % broker.port, "", "[storage]",
             "data_dir = %s" % toml_value(str(broker.data_dir))]
    lines += ["%s = %s" % (k, toml_value(v)) for k, v in (storage or {}).items()]
    for policy in history or []:
        lines += ["", "[[storage.history]]"]
        lines += ["%s = %s" % (k, toml_value(v)) for k, v in policy.items()]
    if auth:
        lines += ["", "[auth]"] + ["%s = %s" % (k, toml_value(v)) for k, v in auth.items()]
    lines += ["", "[bridge]"]
    for key, value in bridge.items():
        if isinstance(value, list):
            lines.append("%s = [%s]" % (key, ", ".join(json.dumps(v) for v in value)))
        else:
            lines.append("%s = %s" % (key, toml_value(value)))
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_bridge(make_broker):
    """make_bridge(bridge={...}, history=[...], auth={...}, storage={...}): a started tern with
    the bridge on; .bridge_port is its HTTP port."""

    def factory(bridge=None, history=None, auth=None, storage=None):
        broker = make_broker(start=False)
        broker.bridge_port = free_port()
        text = bridge_config(broker, bridge, history, auth, storage)
        broker.config_path.write_text(text)
        broker.start()
        wait_http(broker)
        return broker

    return factory


def wait_http(broker, timeout=DEFAULT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, _, _ = request(broker, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("bridge not answering on %d:\n%s" % (broker.bridge_port, broker.stderr()))
        time.sleep(0.05)


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + token}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:300])


def request(broker, method, path, body=None, headers=None, timeout=DEFAULT_TIMEOUT):
    """One request on a fresh connection: (status, headers dict lower-cased, body bytes)."""
    conn = http.client.HTTPConnection(HOST, broker.bridge_port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def call(broker, method, path, body=None, headers=None):
    return Response(*request(broker, method, path, body, headers))


def get_json(broker, path, headers=None):
    response = call(broker, "GET", path, headers=headers)
    assert response.status == 200, response
    return response.json()


def publish(broker, topic, headers=None, **fields):
    """POST /api/publish; returns the Response."""
    body = dict(fields)
    body["topic"] = topic
    return call(broker, "POST", "/api/publish", body, headers)


def raw_socket(broker, timeout=DEFAULT_TIMEOUT):
    sock = socket.create_connection((HOST, broker.bridge_port), timeout=timeout)
    return sock


def read_response(sock, timeout=DEFAULT_TIMEOUT):
    """Reads one HTTP response (with Content-Length) from a raw socket: (status, headers, body,
    rest) where rest holds bytes read past it."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response: %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def wait_closed(sock, timeout=DEFAULT_TIMEOUT):
    """Reads until EOF; returns what came. Fails when the socket stays open."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError("connection still open after %.1f s" % timeout)


def metrics(broker, headers=None):
    """GET /metrics parsed strictly as Prometheus text 0.0.4: {(name, labels): value} and the
    families' declared types."""
    response = call(broker, "GET", "/metrics", headers=headers)
    assert response.status == 200, response
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse_prometheus(response.body.decode())


def parse_prometheus(text):
    samples = {}
    types = {}
    helps = set()
    assert text.endswith("\n")
    for line in text.splitlines():
        assert line, "blank line in metrics"
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert name not in helps, "two HELP lines for " + name
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "two TYPE lines for " + name
            types[name] = kind
            continue
        assert not line.startswith("#"), line
        series, _, value = line.rpartition(" ")
        if "{" in series:
            name, _, labels = series.partition("{")
            assert labels.endswith("}"), line
            labels = tuple(sorted(part.split("=", 1)[0] + "=" + part.split("=", 1)[1].strip('"')
                                  for part in labels[:-1].split(",")))
        else:
            name, labels = series, ()
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in types:
                family = name[:-len(suffix)]
        assert family in types, "sample before its TYPE: " + line
        assert family in helps, "sample without HELP: " + line
        assert (name, labels) not in samples, "duplicate sample " + line
        samples[(name, labels)] = float(value)
    return samples, types


class SseClient:
    """curl -N on an /events URL; a thread parses the stream into events:
    {"event": name or "message", "id": str or None, "data": str} and {"comment": text}."""

    def __init__(self, broker, path, headers=None, extra_args=()):
        args = ["curl", "-sS", "-N", "--no-buffer", "-D", "-",
                "http://%s:%d%s" % (HOST, broker.bridge_port, path)]
        for name, value in (headers or {}).items():
            args += ["-H", "%s: %s" % (name, value)]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.events = queue.Queue()
        self.status = None
        self.headers = {}
        self.head_done = threading.Event()
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        stream = self.proc.stdout
        first = stream.readline().decode("latin-1")
        if first.startswith("HTTP/"):
            self.status = int(first.split()[1])
            while True:
                line = stream.readline().decode("latin-1").rstrip("\r\n")
                if not line:
                    break
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
        self.head_done.set()
        event = {}
        data = []
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
            if line == "":
                if data or event:
                    event.setdefault("event", "message")
                    event.setdefault("id", None)
                    event["data"] = "\n".join(data)
                    self.events.put(event)
                event, data = {}, []
                continue
            if line.startswith(":"):
                self.events.put({"comment": line[1:].strip()})
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field in ("event", "id", "retry"):
                event[field] = value
        self.closed.set()

    def wait_head(self, timeout=DEFAULT_TIMEOUT):
        assert self.head_done.wait(timeout), "no response head within %.1f s" % timeout
        return self.status

    def next(self, timeout=DEFAULT_TIMEOUT, comments=False):
        """The next event (comments skipped unless asked for)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no SSE event within %.1f s" % timeout)
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if "comment" in event and not comments:
                continue
            return event

    def take(self, count, timeout=DEFAULT_TIMEOUT):
        return [self.next(timeout) for _ in range(count)]

    def messages(self, count, timeout=DEFAULT_TIMEOUT):
        """The next `count` message events as (id, envelope) pairs, other events skipped."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            event = self.next(max(deadline - time.monotonic(), 0.001))
            if event["event"] == "message" and event["data"]:
                got.append((event["id"], json.loads(event["data"])))
        return got

    def expect_nothing(self, duration=0.5, comments=False):
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                return
            if "comment" in event and not comments:
                continue
            raise AssertionError("unexpected SSE event %r" % (event,))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def sse():
    """sse(broker, path, headers=None): an SseClient, stopped at teardown."""
    made = []

    def factory(broker, path, headers=None, extra_args=()):
        client = SseClient(broker, path, headers, extra_args)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.stop()
