"""MQTT over WebSocket on the bridge's /mqtt (MQTT 3.1.1 and 5 chapter 6): Python paho-mqtt with
transport="websockets" against TCP clients (QoS 0/1/2 both ways, retained, wills, auth, ACLs),
and a raw socket for what paho never sends: packets split across frames and sharing frames, text
frames, pings, the close handshake, refused handshakes; the /metrics gauge."""

import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import time

import paho.mqtt.client as paho
import pytest

import mqtt_raw as raw
from bridge_support import HOST, bridge_config, call, make_bridge, metrics  # noqa: F401
from broker_process import free_port
from helpers import eventually
from mqtt_client import PROTOCOLS, Client
from ws_support import FrameReader

pytestmark = pytest.mark.tern_only

TIMEOUT = 5.0
BAD_CREDENTIALS = {4: 0x04, 5: 0x86}
SUBACK_REFUSED = {4: 0x80, 5: 0x87}


class WsMqtt(Client):
    """mqtt_client.Client with paho speaking WebSocket to ws://HOST:bridge_port/mqtt."""

    def __init__(self, broker, client_id="", proto=4, will=None, username=None, password=None,
                 headers=None, **kwargs):
        super().__init__(HOST, broker.bridge_port, client_id, proto, will=will,
                         username=username, password=password, **kwargs)
        tcp = self.paho
        options = dict(client_id=client_id, protocol=PROTOCOLS[proto], reconnect_on_failure=False,
                       transport="websockets")
        if proto != 5:
            options["clean_session"] = self.clean
        self.paho = paho.Client(**options)
        self.paho.ws_set_options(path="/mqtt", headers=headers)
        if will is not None:
            self.paho.will_set(will["topic"], will.get("payload", b""), will.get("qos", 0),
                               will.get("retain", False), will.get("props"))
        if username is not None:
            self.paho.username_pw_set(username, password)
        for name in ("on_connect", "on_message", "on_subscribe", "on_unsubscribe",
                     "on_disconnect"):
            setattr(self.paho, name, getattr(tcp, name))


@pytest.fixture
def ws_clients():
    made = []

    def factory(broker, client_id="", proto=4, connect=True, **kwargs):
        client = WsMqtt(broker, client_id, proto, **kwargs)
        made.append(client)
        if connect:
            client.connect()
        return client

    yield factory
    for client in made:
        client.stop()


# -- a raw WebSocket client ----------------------------------------------------------------------


def frame(opcode, payload=b"", fin=True, mask=True):
    """A client frame (masked unless told otherwise, RFC 6455 §5.3)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    if len(payload) < 126:
        head += bytes([bit | len(payload)])
    elif len(payload) < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", len(payload))
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def binary(payload, fin=True):
    return frame(0x2, payload, fin)


def upgrade_request(headers):
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /mqtt HTTP/1.1", "Host: %s" % HOST, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + key]
    lines += ["%s: %s" % item for item in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_head(sock):
    """Reads a response head: (status, {lower-case name: value}, bytes after the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "closed during the handshake: %r" % data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ")[1]), headers, rest


def refused_handshake(broker, headers):
    """(status, headers, JSON body) of a handshake the server refuses."""
    with socket.create_connection((HOST, broker.bridge_port), timeout=TIMEOUT) as sock:
        sock.sendall(upgrade_request(headers))
        status, response_headers, rest = http_head(sock)
        length = int(response_headers["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk
            rest += chunk
        assert response_headers["content-type"] == "application/json"
        return status, response_headers, json.loads(rest[:length])


class RawWsMqtt(FrameReader):
    """A socket that did the /mqtt handshake: sends frames, reads server frames, and parses the
    MQTT packets they carry as one byte stream (frames and packets need not line up)."""

    def __init__(self, broker, proto=4, headers=None):
        self.proto = proto
        self.sock = socket.create_connection((HOST, broker.bridge_port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(upgrade_request(headers or {"Sec-WebSocket-Protocol": "mqtt"}))
        self.status, self.headers, self.buffer = http_head(self.sock)
        assert self.status == 101, (self.status, self.headers, self.buffer)
        self.stream = b""   # MQTT bytes from binary frames, not yet parsed
        self.controls = []  # (opcode, payload) of the control frames received, in order

    def send(self, data):
        self.sock.sendall(data)

    def packet(self, timeout=TIMEOUT):
        """The next MQTT packet from the server's binary frames."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            _, opcode, payload = self.frame(max(deadline - time.monotonic(), 0.01))
            if opcode == 0x2:
                self.stream += payload
            else:
                assert opcode >= 0x8, "server sent opcode %d" % opcode
                self.controls.append((opcode, payload))
                if opcode == 0x8:
                    raise EOFError("close frame %r" % payload)

    def _parse(self):
        if len(self.stream) < 2:
            return None
        length, shift, index = 0, 0, 1
        while True:
            if index >= len(self.stream):
                return None
            byte = self.stream[index]
            length |= (byte & 0x7F) << shift
            index += 1
            if not byte & 0x80:
                break
            shift += 7
        if len(self.stream) < index + length:
            return None
        first = self.stream[0]
        body = self.stream[index:index + length]
        self.stream = self.stream[index + length:]
        return raw.Packet(first >> 4, first & 0x0F, body, self.proto)

    def close_frame(self, timeout=TIMEOUT):
        """Skips data frames up to the server's close frame: its status code (None: no body)."""
        deadline = time.monotonic() + timeout
        while True:
            _, opcode, payload = self.frame(max(deadline - time.monotonic(), 0.01))
            if opcode == 0x2:
                self.stream += payload
            elif opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None



@pytest.fixture
def raw_ws():
    made = []

    def factory(broker, proto=4, headers=None):
        client = RawWsMqtt(broker, proto, headers)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def ws_connect(client, client_id, **kwargs):
    client.send(binary(raw.connect(client_id, client.proto, **kwargs)))
    connack = client.packet()
    assert (connack.type, connack.rc) == (raw.CONNACK, 0), connack
    return connack


# -- paho-mqtt over WebSocket ----------------------------------------------------------------------


def test_publish_all_qos_both_ways_between_websocket_and_tcp(make_bridge, clients, ws_clients,
                                                             proto):
    broker = make_bridge()
    web = ws_clients(broker, "ws-%d" % proto, proto)
    tcp = clients(broker, "tcp-%d" % proto, proto)
    assert web.subscribe("to-ws/#", qos=2) == [2]
    assert tcp.subscribe("to-tcp/#", qos=2) == [2]
    for qos in (0, 1, 2):
        tcp.publish("to-ws/%d" % qos, b"from tcp %d" % qos, qos=qos)
        web.publish("to-tcp/%d" % qos, b"from ws %d" % qos, qos=qos)
    got_ws = sorted((m.topic, m.payload, m.qos) for m in web.wait_for(3))
    got_tcp = sorted((m.topic, m.payload, m.qos) for m in tcp.wait_for(3))
    assert got_ws == [("to-ws/%d" % q, b"from tcp %d" % q, q) for q in (0, 1, 2)]
    assert got_tcp == [("to-tcp/%d" % q, b"from ws %d" % q, q) for q in (0, 1, 2)]
    # A large payload spans many TCP segments and comes back in one piece.
    big = os.urandom(300 * 1024)
    assert web.subscribe("echo", qos=1) == [1]
    web.publish("echo", big, qos=1)
    assert web.wait_one().payload == big
    web.expect_none(0.2)
    tcp.expect_none(0.2)


def test_retained_message_reaches_a_websocket_subscriber(make_bridge, clients, ws_clients,
                                                         proto):
    broker = make_bridge()
    tcp = clients(broker, "ret-pub", proto)
    tcp.publish("state/lamp", b"on", qos=1, retain=True)
    web = ws_clients(broker, "ret-sub", proto)
    assert web.subscribe("state/#", qos=1) == [1]
    message = web.wait_one()
    assert (message.topic, message.payload, message.qos, message.retain) == (
        "state/lamp", b"on", 1, True)
    # And retained from WebSocket to a TCP subscriber.
    web.publish("state/door", b"open", qos=1, retain=True)
    late = clients(broker, "ret-late", proto)
    assert late.subscribe("state/door", qos=0) == [0]
    message = late.wait_one()
    assert (message.payload, message.retain) == (b"open", True)


def test_will_is_published_when_a_websocket_client_vanishes(make_bridge, clients, ws_clients,
                                                            proto):
    broker = make_bridge()
    watcher = clients(broker, "will-watch", proto)
    assert watcher.subscribe("wills/#", qos=1) == [1]
    web = ws_clients(broker, "will-ws", proto,
                     will={"topic": "wills/ws", "payload": b"gone", "qos": 1})
    web.stop()  # the socket closes without DISCONNECT or a close frame
    message = watcher.wait_one()
    assert (message.topic, message.payload) == ("wills/ws", b"gone")


def test_clean_disconnect_over_websocket_publishes_no_will(make_bridge, clients, ws_clients,
                                                           proto):
    broker = make_bridge()
    watcher = clients(broker, "nowill-watch", proto)
    assert watcher.subscribe("wills/#", qos=1) == [1]
    web = ws_clients(broker, "nowill-ws", proto, will={"topic": "wills/ws", "payload": b"x"})
    web.disconnect()
    watcher.expect_none(0.5)


def test_bad_password_over_websocket_gets_a_connack_refusal(make_bridge, tmp_path, ws_clients,
                                                            proto):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "alice", "alice-pw"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    acl = tmp_path / "acl"
    acl.write_text("user alice\ntopic readwrite alice/#\n")
    broker = make_bridge(auth={"password_file": str(passwd), "acl_file": str(acl)})
    wrong = ws_clients(broker, "wrong", proto, connect=False, username="alice", password="nope")
    wrong.connect(expect_rc=BAD_CREDENTIALS[proto])
    anonymous = ws_clients(broker, "anon", proto, connect=False)
    anonymous.connect(expect_rc={4: 0x05, 5: 0x87}[proto])
    # The right password gets in, and the ACL applies as on TCP.
    alice = ws_clients(broker, "alice-ws", proto, username="alice", password="alice-pw")
    assert alice.subscribe("elsewhere/#", qos=1) == [SUBACK_REFUSED[proto]]
    assert alice.subscribe("alice/#", qos=1) == [1]
    alice.publish("alice/x", b"mine", qos=1)
    assert alice.wait_one().payload == b"mine"


def test_session_resumes_over_websocket(make_bridge, clients, ws_clients):
    broker = make_bridge()
    first = ws_clients(broker, "persist-ws", 4, clean=False)
    assert first.subscribe("queue/#", qos=1) == [1]
    first.disconnect()
    tcp = clients(broker, "persist-pub", 4)
    tcp.publish("queue/1", b"while away", qos=1)
    again = ws_clients(broker, "persist-ws", 4, clean=False, connect=False)
    session_present, rc, _ = again.connect()
    assert (session_present, rc) == (True, 0)
    assert again.wait_one().payload == b"while away"


def test_metrics_count_mqtt_websocket_clients(make_bridge, ws_clients):
    broker = make_bridge()
    key = ("tern_bridge_clients", ("kind=mqtt",))
    assert metrics(broker)[0][key] == 0
    web = ws_clients(broker, "metered", 4)
    assert metrics(broker)[0][key] == 1
    # The hand-off is logged with the peer and the transport.
    assert "MQTT over WebSocket (ws subprotocol mqtt)" in broker.stderr()
    assert metrics(broker)[0][("tern_connections", ())] == 1
    web.disconnect()
    eventually(lambda: metrics(broker)[0][key] == 0)


def test_wss_carries_mqtt_inside_tls(make_broker, clients, ws_clients, proto, tmp_path_factory):
    from test_tls import Pki  # the openssl CLI makes the certificates

    pki = Pki(tmp_path_factory.mktemp("wss-pki"))
    broker = make_broker(start=False)
    broker.bridge_port = free_port()
    cert_file, key_file = pki.server
    broker.config_path.write_text(bridge_config(
        broker, {"tls": True, "cert_file": str(cert_file), "key_file": str(key_file)}))
    broker.start()
    tcp = clients(broker, "wss-tcp-%d" % proto, proto)
    assert tcp.subscribe("from-wss", qos=1) == [1]
    web = ws_clients(broker, "wss-%d" % proto, proto, connect=False)
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.check_hostname = False  # the certificate names localhost, not 127.0.0.1
    web.paho.tls_set_context(context)
    eventually(lambda: socket.create_connection((HOST, broker.bridge_port), timeout=1).close()
               is None)
    web.connect()
    assert web.subscribe("to-wss", qos=2) == [2]
    tcp.publish("to-wss", b"secret", qos=2)
    message = web.wait_one()
    assert (message.payload, message.qos) == (b"secret", 2)
    web.publish("from-wss", b"reply", qos=1)
    assert tcp.wait_one().payload == b"reply"
    assert "MQTT over WebSocket (wss subprotocol mqtt, TLSv1.3" in broker.stderr()


# -- raw frames ---------------------------------------------------------------------------------


def test_handshake_answers_with_the_offered_subprotocol(make_bridge, raw_ws):
    broker = make_bridge()
    client = raw_ws(broker, headers={"Sec-WebSocket-Protocol": "mqtt"})
    assert client.headers["sec-websocket-protocol"] == "mqtt"
    old = raw_ws(broker, 3, headers={"Sec-WebSocket-Protocol": "mqttv3.1"})
    assert old.headers["sec-websocket-protocol"] == "mqttv3.1"
    ws_connect(old, "v31-client")
    # The client's order decides among the supported ones.
    both = raw_ws(broker, headers={"Sec-WebSocket-Protocol": "chat, mqttv3.1, mqtt"})
    assert both.headers["sec-websocket-protocol"] == "mqttv3.1"


@pytest.mark.parametrize("offered", [None, "chat", "MQTT"])
def test_handshake_without_an_mqtt_subprotocol_is_refused_with_400(make_bridge, offered):
    broker = make_bridge()
    headers = {} if offered is None else {"Sec-WebSocket-Protocol": offered}
    status, _, body = refused_handshake(broker, headers)
    assert status == 400
    assert body == {"error": "bad_request",
                    "message": "no supported WebSocket subprotocol offered; this endpoint "
                               "speaks: mqtt, mqttv3.1"}


def test_origin_allow_list_applies_to_mqtt(make_bridge, raw_ws):
    broker = make_bridge(bridge={"allowed_origins": ["https://good.example"]})
    status, _, body = refused_handshake(
        broker, {"Sec-WebSocket-Protocol": "mqtt", "Origin": "https://evil.example"})
    assert status == 403
    assert body["error"] == "origin_not_allowed"
    assert "https://evil.example" in body["message"]
    listed = raw_ws(broker, headers={"Sec-WebSocket-Protocol": "mqtt",
                                     "Origin": "https://good.example"})
    ws_connect(listed, "listed-origin")
    no_origin = raw_ws(broker)  # not a browser: allowed
    ws_connect(no_origin, "no-origin")


def test_plain_get_on_mqtt_asks_for_an_upgrade(make_bridge):
    broker = make_bridge()
    response = call(broker, "GET", "/mqtt")
    assert response.status == 426
    assert response.headers["upgrade"] == "websocket"
    assert response.json()["error"] == "upgrade_required"


def test_packets_split_across_frames_and_sharing_frames(make_bridge, raw_ws, proto):
    broker = make_bridge()
    client = raw_ws(broker, proto)
    connect = raw.connect("split-%d" % proto, proto)
    # CONNECT in three messages, the middle one fragmented with a ping between the fragments.
    client.send(binary(connect[:1]) + binary(connect[1:4], fin=False) + frame(0x9, b"mid") +
                frame(0x0, connect[4:9]) + binary(connect[9:]))
    connack = client.packet()
    assert (connack.type, connack.rc) == (raw.CONNACK, 0)
    assert client.controls == [(0xA, b"mid")]
    # SUBSCRIBE, PUBLISH QoS 1 (to itself) and PINGREQ in a single frame; the frame itself sent
    # one byte per TCP segment.
    data = binary(raw.subscribe(1, [("loop/#", 1)], proto) +
                  raw.publish("loop/a", b"payload", qos=1, packet_id=2, proto=proto) +
                  raw.pingreq())
    for i in range(len(data)):
        client.send(data[i:i + 1])
        time.sleep(0.001)
    got = {}
    while len(got) < 4:
        pkt = client.packet()
        got[pkt.type] = pkt
    assert got[raw.SUBACK].codes == [1]
    assert got[raw.PUBACK].packet_id == 2
    assert (got[raw.PUBLISH].topic, got[raw.PUBLISH].payload) == ("loop/a", b"payload")
    assert raw.PINGRESP in got


def test_ping_gets_a_pong_with_the_same_payload(make_bridge, raw_ws):
    broker = make_bridge()
    client = raw_ws(broker)
    client.send(frame(0x9, b"are you there"))
    assert client.frame() == (True, 0xA, b"are you there")
    ws_connect(client, "pinger")
    client.send(frame(0x9))
    assert client.frame() == (True, 0xA, b"")


def test_text_frame_closes_the_connection_and_publishes_the_will(make_bridge, clients, raw_ws):
    broker = make_bridge()
    watcher = clients(broker, "text-watch")
    assert watcher.subscribe("wills/#", qos=0) == [0]
    client = raw_ws(broker)
    ws_connect(client, "texter", will={"topic": "wills/text", "payload": b"bye"})
    client.send(frame(0x1, b"\x10"))  # [MQTT-6.0.0-1]
    assert client.close_frame() == 1003
    client.wait_eof()
    assert watcher.wait_one().payload == b"bye"


def test_unmasked_frame_fails_the_connection_with_1002(make_bridge, raw_ws):
    broker = make_bridge()
    client = raw_ws(broker)
    client.send(frame(0x2, raw.connect("unmasked"), mask=False))
    assert client.close_frame() == 1002
    client.wait_eof()


def test_close_handshake_after_disconnect_publishes_no_will(make_bridge, clients, raw_ws, proto):
    broker = make_bridge()
    watcher = clients(broker, "close-watch", proto)
    assert watcher.subscribe("wills/#", qos=0) == [0]
    client = raw_ws(broker, proto)
    ws_connect(client, "closer", will={"topic": "wills/close", "payload": b"should not"})
    # DISCONNECT and the close frame in one segment: the DISCONNECT is still handled first.
    client.send(binary(raw.disconnect(proto=proto)) + frame(0x8, struct.pack("!H", 1000)))
    assert client.close_frame() == 1000
    client.wait_eof()
    watcher.expect_none(0.5)


def test_close_frame_without_disconnect_publishes_the_will(make_bridge, clients, raw_ws):
    broker = make_bridge()
    watcher = clients(broker, "close-will-watch")
    assert watcher.subscribe("wills/#", qos=0) == [0]
    client = raw_ws(broker)
    ws_connect(client, "close-no-disconnect", will={"topic": "wills/cf", "payload": b"closed"})
    client.send(frame(0x8, struct.pack("!H", 1001) + b"tab closed"))
    assert client.close_frame() == 1001
    client.wait_eof()
    assert watcher.wait_one().payload == b"closed"


def test_server_side_close_sends_disconnect_then_a_close_frame(make_bridge, raw_ws, clients):
    broker = make_bridge()
    client = raw_ws(broker, 5)
    ws_connect(client, "taken-over")
    clients(broker, "taken-over", 5)  # the same client id over TCP takes the session over
    disconnect = client.packet()
    assert (disconnect.type, disconnect.rc) == (raw.DISCONNECT, 0x8E)
    assert client.close_frame() == 1000
    client.wait_eof()


def test_frames_sent_right_behind_the_upgrade_request_are_not_lost(make_bridge):
    broker = make_bridge()
    with socket.create_connection((HOST, broker.bridge_port), timeout=TIMEOUT) as sock:
        sock.sendall(upgrade_request({"Sec-WebSocket-Protocol": "mqtt"}) +
                     binary(raw.connect("eager")) + frame(0x9, b"early"))
        status, _, rest = http_head(sock)
        assert status == 101
        data = rest
        # CONNACK in a binary frame and the pong, in either order.
        expected = {bytes([0x82, 4, 0x20, 2, 0, 0]), bytes([0x8A, 5]) + b"early"}
        while len(data) < 13:
            chunk = sock.recv(65536)
            assert chunk
            data += chunk
        assert {data[:6], data[6:]} == expected or {data[:7], data[7:]} == expected


# -- other clients: Paho MQTT C++ (tern-pub, tern-sub) and mqtt.js ------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MQTTJS_DIR = os.path.join(REPO, "tests", "mqttjs")


def tern_tool(name):
    path = os.path.join(os.path.dirname(os.environ.get("TERN_BIN", "")), name)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built next to TERN_BIN (ninja %s)" % (name, name))
    return path


@pytest.mark.parametrize("version", ["311", "5"])
def test_paho_cpp_tools_over_websocket(make_bridge, clients, version):
    broker = make_bridge()
    pub, sub = tern_tool("tern-pub"), tern_tool("tern-sub")
    topic = "paho/ws/" + version
    url = "ws://%s:%d/%s" % (HOST, broker.bridge_port, topic)  # Paho: ws://HOST:PORT/mqtt
    watcher = clients(broker, "paho-watch-" + version)
    assert watcher.subscribe(topic, qos=2) == [2]
    result = subprocess.run([pub, "-L", url, "-V", version, "-i", "cpp-pub", "-q", "2", "-r",
                             "-m", "retained over ws"], capture_output=True, timeout=20)
    assert (result.returncode, result.stderr) == (0, b"")
    message = watcher.wait_one()
    assert (message.topic, message.payload, message.qos) == (topic, b"retained over ws", 2)
    result = subprocess.run([sub, "-L", url, "-V", version, "-i", "cpp-sub", "-q", "1", "-C",
                             "1", "-W", "10", "-F", "%q|%r|%t|%p"], capture_output=True,
                            timeout=20)
    assert (result.returncode, result.stdout) == (0, b"1|1|%s|retained over ws\n" %
                                                  topic.encode()), result.stderr


def test_mqttjs_over_websocket(make_bridge):
    if not os.path.isdir(os.path.join(MQTTJS_DIR, "node_modules", "mqtt")):
        pytest.skip("mqtt.js is not installed: run `npm ci` in tests/mqttjs")
    broker = make_bridge()
    env = dict(os.environ, TERN_WS_URL="ws://%s:%d/mqtt" % (HOST, broker.bridge_port),
               TERN_MQTT_URL="mqtt://%s:%d" % (HOST, broker.port))
    result = subprocess.run(["node", "--test", "--test-reporter=tap", "mqtt_websocket.test.mjs"],
                            cwd=MQTTJS_DIR, env=env, capture_output=True, timeout=120)
    output = result.stdout.decode(errors="replace")
    assert result.returncode == 0, output + result.stderr.decode(errors="replace")
    # Every test ran and passed (node prints a summary in TAP comments).
    assert "# pass 7\n" in output and "# fail 0\n" in output, output
