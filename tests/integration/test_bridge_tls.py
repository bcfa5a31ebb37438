"""https on the bridge port (bridge.tls): curl and Python clients with the test CA, SSE over
https, an openssl s_client handshake, plain HTTP on the TLS port refused cleanly, responses larger
than a TLS record, and a certificate reload on SIGHUP that keeps a live SSE stream.

Certificates come from test_tls.Pki (made with the openssl CLI at test time)."""

import http.client
import json
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from bridge_support import SseClient, bridge_config, parse_prometheus
from broker_process import HOST, free_port
from test_tls import OPENSSL, Pki

pytestmark = pytest.mark.tern_only

TIMEOUT = 15.0


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("bridge-pki"))


def https_context(pki):
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.check_hostname = False  # the certificate names localhost and 127.0.0.1
    return context


def https_request(broker, pki, method, path, body=None, headers=None):
    conn = http.client.HTTPSConnection(HOST, broker.bridge_port, timeout=TIMEOUT,
                                       context=https_context(pki))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_https(broker, pki):
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            if https_request(broker, pki, "GET", "/healthz")[0] == 200:
                return
        except (OSError, ssl.SSLError):
            pass
        assert broker.proc.poll() is None, broker.stderr()
        assert time.monotonic() < deadline, "bridge not answering https:\n" + broker.stderr()
        time.sleep(0.05)


@pytest.fixture
def tls_bridge(make_broker, pki):
    """tls_bridge(cert=(pem, key), start=True): a broker whose bridge speaks https."""

    def factory(cert=None, start=True, **bridge):
        cert_file, key_file = cert or pki.server
        broker = make_broker(start=False)
        broker.bridge_port = free_port()
        settings = {"tls": True, "cert_file": str(cert_file), "key_file": str(key_file)}
        settings.update(bridge)
        broker.config_path.write_text(bridge_config(broker, settings))
        if start:
            broker.start()
            wait_https(broker, pki)
        return broker

    return factory


def curl(broker, pki, path, *args):
    result = subprocess.run(
        ["curl", "-sS", "--cacert", str(pki.ca), "-w", "\n%{http_code}",
         "https://localhost:%d%s" % (broker.bridge_port, path)] + list(args),
        capture_output=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr.decode()
    body, _, code = result.stdout.decode().rpartition("\n")
    return int(code), body


class HttpsSse(SseClient):
    """SseClient over https: curl --cacert on an https:// URL, the same stream parser."""

    def __init__(self, broker, pki, path):  # pylint: disable=super-init-not-called
        args = ["curl", "-sS", "-N", "--no-buffer", "-D", "-", "--cacert", str(pki.ca),
                "https://localhost:%d%s" % (broker.bridge_port, path)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.events = queue.Queue()
        self.status = None
        self.headers = {}
        self.head_done = threading.Event()
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()


@pytest.fixture
def https_sse(pki):
    made = []

    def factory(broker, path):
        client = HttpsSse(broker, pki, path)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.stop()


def s_client(broker, pki, stdin=b""):
    command = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % broker.bridge_port, "-CAfile",
               str(pki.ca), "-verify_return_error", "-verify_ip", "127.0.0.1", "-ign_eof"]
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=TIMEOUT,
                            check=False)
    return result.returncode, (result.stdout + result.stderr).decode(errors="replace")


def served_serial(broker, pki):
    code, output = s_client(broker, pki)
    assert code == 0, output
    start = output.index("-----BEGIN CERTIFICATE-----")
    end = output.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    result = subprocess.run([OPENSSL, "x509", "-noout", "-serial"],
                            input=output[start:end].encode(), capture_output=True, check=True,
                            timeout=TIMEOUT)
    return result.stdout.decode().strip()


def wait_for_log(broker, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while text not in broker.stderr():
        assert time.monotonic() < deadline, "no %r in the log:\n%s" % (text, broker.stderr())
        time.sleep(0.05)


def test_curl_healthz_retained_and_publish_over_https(tls_bridge, pki, clients):
    broker = tls_bridge()
    assert "listening for HTTPS (bridge) on 127.0.0.1:%d" % broker.bridge_port in broker.stderr()
    code, body = curl(broker, pki, "/healthz")
    assert code == 200
    assert json.loads(body)["status"] == "ok"
    pub = clients(broker, "tls-pub")
    pub.publish("t/a", b"42", qos=1, retain=True)
    code, body = curl(broker, pki, "/api/retained?filter=t/%23")
    assert code == 200
    assert [(m["topic"], m["payload"]) for m in json.loads(body)] == [("t/a", "42")]
    code, body = curl(broker, pki, "/api/publish", "-H", "Content-Type: application/json",
                      "--data", json.dumps({"topic": "t/b", "payload": "x", "retain": True}))
    assert code == 200, body
    code, body = curl(broker, pki, "/api/retained?filter=t/b")
    assert [m["payload"] for m in json.loads(body)] == ["x"]


def test_large_bodies_and_keep_alive_cross_tls_records(tls_bridge, pki, clients):
    broker = tls_bridge()
    big = "y" * 300_000  # many 16 KiB records, more than one socket write
    pub = clients(broker, "tls-big")
    pub.publish("big/1", big.encode(), qos=1, retain=True)
    conn = http.client.HTTPSConnection(HOST, broker.bridge_port, timeout=TIMEOUT,
                                       context=https_context(pki))
    try:
        for _ in range(3):  # one TLS session, several requests
            conn.request("GET", "/api/retained?filter=big/1")
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())[0]["payload"] == big
        conn.request("POST", "/api/publish", body=json.dumps({"topic": "big/2", "payload": big}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
    finally:
        conn.close()


def test_sse_over_https(tls_bridge, pki, clients, https_sse):
    broker = tls_bridge()
    stream = https_sse(broker, "/events?topic=s/%23")
    assert stream.wait_head() == 200
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
    time.sleep(0.2)
    pub = clients(broker, "tls-sse-pub")
    for i in range(3):
        pub.publish("s/%d" % i, str(i).encode(), qos=1)
    got = stream.messages(3)
    assert [(e["topic"], e["payload"]) for _, e in got] == [("s/0", "0"), ("s/1", "1"),
                                                            ("s/2", "2")]


def test_openssl_s_client_handshake_and_request(tls_bridge, pki):
    broker = tls_bridge()
    code, output = s_client(broker, pki,
                            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert code == 0, output
    assert "Verify return code: 0 (ok)" in output
    assert "HTTP/1.1 200 OK" in output
    assert '"status":"ok"' in output


def test_tls_min_version_13(tls_bridge, pki):
    broker = tls_bridge(tls_min_version="1.3")
    context = https_context(pki)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        with socket.create_connection((HOST, broker.bridge_port), timeout=TIMEOUT) as sock:
            context.wrap_socket(sock).close()
    assert curl(broker, pki, "/healthz")[0] == 200


def test_plain_http_on_the_tls_port_is_closed_cleanly(tls_bridge, pki):
    broker = tls_bridge()
    with socket.create_connection((HOST, broker.bridge_port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    # Nothing in plain HTTP: at most a TLS alert record (content type 21).
    assert not data.startswith(b"HTTP/"), data
    assert data == b"" or data[0] == 21, data
    wait_for_log(broker, "TLS handshake failed")
    # The port keeps serving https.
    assert curl(broker, pki, "/healthz")[0] == 200


def test_bad_key_stops_start_up_with_exit_2(tls_bridge, pki, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    broker = tls_bridge(cert=(pki.server[0], bad), start=False)
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().startswith(
        "%s: cannot load key_file of TLS listener 127.0.0.1:%d: " % (bad, broker.bridge_port)), \
        broker.stderr()


def test_sighup_reloads_the_certificate_keeping_a_live_sse_stream(tls_bridge, pki, clients,
                                                                 https_sse, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki.server[0], cert)
    shutil.copy(pki.server[1], key)
    broker = tls_bridge(cert=(cert, key))
    assert served_serial(broker, pki) == "serial=1001"
    stream = https_sse(broker, "/events?topic=live/%23")
    assert stream.wait_head() == 200
    time.sleep(0.2)
    pub = clients(broker, "reload-pub")
    pub.publish("live/1", b"before", qos=1)
    assert stream.messages(1)[0][1]["payload"] == "before"

    shutil.copy(pki.server2[0], cert)
    shutil.copy(pki.server2[1], key)
    broker.proc.send_signal(signal.SIGHUP)
    wait_for_log(broker, "reloaded %s" % cert)
    assert served_serial(broker, pki) == "serial=1002"
    # The stream opened with the old certificate carries on.
    pub.publish("live/2", b"after", qos=1)
    assert stream.messages(1)[0][1]["payload"] == "after"
    code, body = curl(broker, pki, "/metrics")
    assert code == 200
    samples, _ = parse_prometheus(body + "\n" if not body.endswith("\n") else body)
    assert samples[("tern_bridge_clients", ("kind=sse",))] == 1


@pytest.mark.parametrize("proto", [4, 5])
def test_mqtt_over_wss(tls_bridge, pki, clients, proto):
    # The /mqtt hand-off (test_mqtt_websocket.py) keeps the TLS session under WebSocket.
    from test_mqtt_websocket import WsMqtt  # pylint: disable=import-outside-toplevel
    broker = tls_bridge()
    secure = WsMqtt(broker, "wss-%d" % proto, proto)
    try:
        secure.paho.tls_set(ca_certs=str(pki.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        secure.connect()
        assert secure.subscribe("wss/#", 1) == [1]
        tcp = clients(broker, "wss-peer-%d" % proto, proto)
        assert tcp.subscribe("back/#", 1) == [1]
        big = b"z" * 100_000  # crosses TLS records and WebSocket frames
        for payload in (b"small", big):
            tcp.publish("wss/1", payload, qos=1)
            msg = secure.wait_one()
            assert (msg.topic, msg.payload) == ("wss/1", payload)
            secure.publish("back/1", payload, qos=1)
            msg = tcp.wait_one()
            assert (msg.topic, msg.payload) == ("back/1", payload)
    finally:
        secure.stop()
    assert "MQTT over WebSocket" in broker.stderr()
