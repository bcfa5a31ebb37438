"""MQTT over TLS ("mqtt+tls" listeners): handshakes with openssl s_client, Python paho,
mosquitto_pub/sub and Paho C++ (tern-pub/tern-sub), mTLS with the certificate as user name,
certificate reload on SIGHUP, start-up errors and misbehaving clients.

Certificates are made at test time with the openssl CLI. Every broker has a plain TCP listener on
broker.port (the harness waits for it) and a TLS listener on broker.tls_port; clients connecting
with explicit client ids move between loops after CONNECT when the broker runs 4 workers.
MQTT 5.0 §5.4.9 and 3.1.1 §5.4.9 (informative): TLS protects MQTT in transit; port 8883.
"""

import os
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

import mqtt_raw as raw
from broker_process import free_port
from helpers import Watcher
from mqtt_client import Client

pytestmark = pytest.mark.tern_only  # the harness's mosquitto config has no TLS listener

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
STDBUF = shutil.which("stdbuf") or "/usr/bin/stdbuf"
TOOL_TIMEOUT = 15.0


# --- certificates -------------------------------------------------------------------------------


def openssl(directory, *args):
    subprocess.run([OPENSSL] + list(args), cwd=str(directory), check=True,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=30)


class Pki:
    """A CA with server and client certificates, and a second CA nobody trusts (EC P-256)."""

    def __init__(self, directory):
        self.dir = directory
        self.ca = self._ca("ca", "Tern Test CA")
        self._ca("rogue-ca", "Rogue CA")
        # Two server certificates for the same names, told apart by serial and organization.
        self.server = self._leaf("server", "ca", "/O=Tern A/CN=localhost", "0x1001", server=True)
        self.server2 = self._leaf("server2", "ca", "/O=Tern B/CN=localhost", "0x1002",
                                  server=True)
        self.device7 = self._leaf("device-7", "ca", "/O=Devices/CN=device-7", "0x2001")
        self.device8 = self._leaf("device-8", "ca", "/O=Devices/CN=device-8", "0x2002")
        self.rogue = self._leaf("rogue", "rogue-ca", "/O=Devices/CN=device-7", "0x3001")
        self.nameless = self._leaf("nameless", "ca", "/O=Devices", "0x2003")

    def _ca(self, name, common_name):
        openssl(self.dir, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key", "-out",
                name + ".pem", "-days", "2", "-subj", "/CN=" + common_name)
        return self.dir / (name + ".pem")

    def _leaf(self, name, ca, subject, serial, server=False):
        openssl(self.dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject)
        args = ["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-set_serial", serial, "-days", "2", "-out", name + ".pem"]
        if server:
            (self.dir / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
            args += ["-extfile", "san.cnf"]
        openssl(self.dir, *args)
        return (self.dir / (name + ".pem"), self.dir / (name + ".key"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


# --- brokers and clients --------------------------------------------------------------------------


def toml_string(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


def tls_listener_text(port, cert, key, address="127.0.0.1", **options):
    lines = ["", "[[listeners]]", 'type = "mqtt+tls"', "address = %s" % toml_string(address),
             "port = %d" % port, "cert_file = %s" % toml_string(cert),
             "key_file = %s" % toml_string(key)]
    for name, value in options.items():
        if isinstance(value, bool):
            lines.append("%s = %s" % (name, "true" if value else "false"))
        else:
            lines.append("%s = %s" % (name, toml_string(value)))
    return "\n".join(lines) + "\n"


@pytest.fixture
def tls_broker(make_broker, pki):
    """tls_broker(tls={listener keys}, auth=..., start=True, **overrides): a broker with a plain
    listener on .port and a TLS listener on .tls_port (pki.server unless tls gives cert_file)."""

    def factory(tls=None, start=True, **overrides):
        broker = make_broker(start=False, **overrides)
        options = dict(tls or {})
        cert = options.pop("cert_file", pki.server[0])
        key = options.pop("key_file", pki.server[1])
        address = options.pop("address", "127.0.0.1")
        broker.tls_port = free_port()
        with open(broker.config_path, "a") as config:
            config.write(tls_listener_text(broker.tls_port, cert, key, address, **options))
        if start:
            broker.start()
        return broker

    return factory


def client_context(pki, cert=None, version=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(pki.ca))
    if cert is not None:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    if version is not None:
        context.minimum_version = version
        context.maximum_version = version
    return context


def raw_tls(broker, pki, proto=4, cert=None, version=None):
    """A RawClient whose socket speaks TLS to the broker's TLS port (handshake done here)."""
    conn = raw.RawClient(broker.host, broker.tls_port, proto)
    conn.sock = client_context(pki, cert, version).wrap_socket(conn.sock,
                                                               server_hostname="localhost")
    return conn


@pytest.fixture
def tls_clients(pki):
    """tls_clients(broker, client_id, proto, cert=None, connect=True): paho clients over TLS."""
    made = []

    def factory(broker, client_id, proto=4, cert=None, connect=True, **kwargs):
        client = Client(broker.host, broker.tls_port, client_id, proto, **kwargs)
        certfile, keyfile = cert if cert is not None else (None, None)
        client.paho.tls_set(ca_certs=str(pki.ca), certfile=certfile and str(certfile),
                            keyfile=keyfile and str(keyfile),
                            tls_version=ssl.PROTOCOL_TLS_CLIENT)
        made.append(client)
        if connect:
            client.connect()
        return client

    yield factory
    for client in made:
        client.stop()


@pytest.fixture
def raw_conns():
    made = []

    def track(conn):
        made.append(conn)
        return conn

    yield track
    for conn in made:
        conn.close()


def s_client(broker, pki, *args, cert=None):
    """openssl s_client to the TLS port, verifying the chain and the IP; returns (code, output)."""
    command = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % broker.tls_port, "-CAfile",
               str(pki.ca), "-verify_return_error", "-verify_ip", "127.0.0.1"] + list(args)
    if cert is not None:
        command += ["-cert", str(cert[0]), "-key", str(cert[1])]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                            timeout=TOOL_TIMEOUT, check=False)
    return result.returncode, (result.stdout + result.stderr).decode(errors="replace")


def served_certificate(broker, pki):
    """Serial and subject of the certificate the TLS listener serves now."""
    code, output = s_client(broker, pki)
    assert code == 0, output
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", output, re.S)
    assert pem, output
    result = subprocess.run([OPENSSL, "x509", "-noout", "-serial", "-subject"],
                            input=pem.group(0).encode(), capture_output=True, check=True,
                            timeout=TOOL_TIMEOUT)
    return result.stdout.decode().strip()


def wait_for_log(broker, text, count=1, timeout=5.0):
    deadline = time.monotonic() + timeout
    while broker.stderr().count(text) < count:
        assert time.monotonic() < deadline, "no %r in the log:\n%s" % (text, broker.stderr())
        time.sleep(0.05)


def sys_value(client, topic, expected, timeout=5.0):
    """Waits until the $SYS topic (already subscribed by `client`) carries `expected`."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            msg = client.wait_one(max(deadline - time.monotonic(), 0.01))
        except AssertionError:
            break
        if msg.topic == topic:
            seen.append(msg.payload)
            if msg.payload == expected:
                return
    raise AssertionError("%s never was %r (saw %r)" % (topic, expected, seen))


def pub_sub_roundtrip(subscriber, publisher, topic, count=1):
    for index in range(count):
        payload = b"%s-%d" % (topic.encode(), index)
        publisher.publish(topic, payload, qos=1)
        msg = subscriber.wait_one()
        assert (msg.topic, msg.payload) == (topic, payload)


# --- handshakes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_s_client_handshake(tls_broker, pki, version):
    broker = tls_broker()
    code, output = s_client(broker, pki, version, "-brief")
    assert code == 0, output
    assert "Verification: OK" in output, output
    expected = {"-tls1_2": "TLSv1.2", "-tls1_3": "TLSv1.3"}[version]
    assert "Protocol version: %s" % expected in output, output


def test_minimum_version_13_refuses_tls12(tls_broker, pki, tls_clients):
    broker = tls_broker(tls={"tls_min_version": "1.3"})
    code, output = s_client(broker, pki, "-tls1_2", "-brief")
    assert code != 0, output
    assert "alert protocol version" in output, output
    code, output = s_client(broker, pki, "-tls1_3", "-brief")
    assert code == 0 and "Protocol version: TLSv1.3" in output, output
    wait_for_log(broker, "tls handshake failed: unsupported protocol (SSL routines)")
    # Counted: one failure (the 1.2 attempt), and at least the one 1.3 handshake.
    watcher = tls_clients(broker, "sys-watch", 4)
    assert watcher.subscribe("$SYS/broker/tls/handshake_failures", 0) == [0]
    sys_value(watcher, "$SYS/broker/tls/handshake_failures", b"1")


def test_ciphers_restrict_tls12_suites(tls_broker, pki):
    broker = tls_broker(tls={"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256",
                             "ciphersuites": "TLS_CHACHA20_POLY1305_SHA256"})
    code, output = s_client(broker, pki, "-tls1_2", "-brief")
    assert code == 0 and "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256" in output, output
    code, output = s_client(broker, pki, "-tls1_3", "-brief")
    assert code == 0 and "Ciphersuite: TLS_CHACHA20_POLY1305_SHA256" in output, output
    code, output = s_client(broker, pki, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384",
                            "-brief")
    assert code != 0 and "alert handshake failure" in output, output


# --- clients ------------------------------------------------------------------------------------


@pytest.mark.parametrize("proto", [4, 5], ids=["v311", "v5"])
def test_paho_publish_subscribe_all_qos(tls_broker, tls_clients, clients, proto):
    broker = tls_broker()
    # Explicit ids: with 4 workers these sessions live on other loops than the accepting one.
    subscriber = tls_clients(broker, "tls-sub-%d" % proto, proto)
    assert subscriber.subscribe("tls/#", 2) == [2]
    plain = clients(broker, "plain-sub-%d" % proto, proto)  # the TCP listener next to TLS
    assert plain.subscribe("tls/#", 2) == [2]
    publisher = tls_clients(broker, "tls-pub-%d" % proto, proto)
    for qos in (0, 1, 2):
        payload = ("qos %d over TLS" % qos).encode() * 50
        publisher.publish("tls/q%d" % qos, payload, qos=qos)
        for receiver in (subscriber, plain):
            msg = receiver.wait_one()
            assert (msg.topic, msg.payload, msg.qos) == ("tls/q%d" % qos, payload, qos)
    # And from the plain listener to the TLS one.
    plain.publish("tls/from-tcp", b"hello", qos=1)
    for receiver in (subscriber, plain):
        msg = receiver.wait_one()
        assert (msg.topic, msg.payload) == ("tls/from-tcp", b"hello")


def test_many_tls_clients_move_between_loops(tls_broker, tls_clients):
    broker = tls_broker()
    subscribers = [tls_clients(broker, "mover-%d" % index) for index in range(12)]
    for index, client in enumerate(subscribers):
        assert client.subscribe("movers/%d" % index, 1) == [1]
    publisher = tls_clients(broker, "mover-pub")
    for index, client in enumerate(subscribers):
        publisher.publish("movers/%d" % index, b"to %d" % index, qos=1)
    for index, client in enumerate(subscribers):
        msg = client.wait_one()
        assert (msg.topic, msg.payload) == ("movers/%d" % index, b"to %d" % index)
        client.expect_none(0.05)


def test_large_messages_cross_tls_records(tls_broker, tls_clients):
    broker = tls_broker()
    subscriber = tls_clients(broker, "big-sub")
    assert subscriber.subscribe("big", 1) == [1]
    publisher = tls_clients(broker, "big-pub")
    payloads = [os.urandom(size) for size in (16 * 1024 - 5, 100 * 1024, 700 * 1024)]
    for payload in payloads:
        publisher.publish("big", payload, qos=1)
    for payload in payloads:
        assert subscriber.wait_one(10.0).payload == payload


class LineReader:
    """A background process whose stdout is read line by line, each wait bounded."""

    def __init__(self, command):
        # mosquitto_sub writes through stdio, fully buffered into a pipe: line-buffer it with
        # stdbuf. tern-sub flushes each message itself, and stdbuf's LD_PRELOAD would break an
        # AddressSanitizer build of it ("ASan runtime does not come first").
        own_tool = os.path.basename(command[0]).startswith("tern-")
        prefix = [] if own_tool else [STDBUF, "-oL"]
        self.proc = subprocess.Popen(prefix + command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.lines.put(line.rstrip(b"\n"))
        self.lines.put(None)

    def next_line(self, timeout=TOOL_TIMEOUT):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output in %.0f s from %r" % (timeout, self.proc.args))
        assert line is not None, "%r exited with %r: %r" % (
            self.proc.args, self.proc.wait(), self.proc.stderr.read())
        return line

    def finish(self):
        code = self.proc.wait(TOOL_TIMEOUT)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def readers():
    made = []

    def factory(command):
        reader = LineReader(command)
        made.append(reader)
        return reader

    yield factory
    for reader in made:
        reader.kill()


def run_tool(command):
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                            timeout=TOOL_TIMEOUT, check=False)
    assert result.returncode == 0, "%r exited %d: %r" % (command, result.returncode,
                                                         result.stderr)
    return result


def pub_sub_with_tools(broker, readers, pub, sub, sub_format_args, topic):
    """Retained message first (tells us the subscriber is subscribed), then a live one."""
    run_tool(pub + ["-t", topic, "-m", "retained value", "-r", "-q", "1"])
    reader = readers(sub + ["-t", topic, "-C", "2", "-W", "10", "-q", "1"] + sub_format_args)
    assert reader.next_line() == b"1|1|%s|retained value" % topic.encode()
    run_tool(pub + ["-t", topic, "-m", "live value", "-q", "2"])
    assert reader.next_line() == b"1|0|%s|live value" % topic.encode()
    assert reader.finish() == 0


@pytest.mark.parametrize("version", ["311", "5"])
def test_mosquitto_clients_with_cafile(tls_broker, pki, readers, version):
    broker = tls_broker()
    common = ["-h", "127.0.0.1", "-p", str(broker.tls_port), "--cafile", str(pki.ca), "-V",
              version]
    pub_sub_with_tools(broker, readers, [MOSQUITTO_PUB] + common + ["-i", "mosq-pub"],
                       [MOSQUITTO_SUB] + common + ["-i", "mosq-sub"], ["-F", "%q|%r|%t|%p"],
                       "mosq/tls/" + version)


def tern_tool(name):
    path = os.path.join(os.path.dirname(os.environ.get("TERN_BIN", "")), name)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built next to TERN_BIN (ninja %s)" % (name, name))
    return path


@pytest.mark.parametrize("version", ["311", "5"])
def test_paho_cpp_tools_over_ssl(tls_broker, pki, readers, version):
    broker = tls_broker()
    pub, sub = tern_tool("tern-pub"), tern_tool("tern-sub")
    topic = "paho/tls/" + version
    # An mqtts:// URL makes Paho connect to an ssl:// server URI.
    common = ["-L", "mqtts://127.0.0.1:%d/%s" % (broker.tls_port, topic), "--cafile",
              str(pki.ca), "-V", version]
    run_tool([pub] + common + ["-i", "cpp-pub", "-m", "retained value", "-r", "-q", "1"])
    reader = readers([sub] + common + ["-i", "cpp-sub", "-C", "2", "-W", "10", "-q", "1", "-F",
                                       "%q|%r|%t|%p"])
    assert reader.next_line() == b"1|1|%s|retained value" % topic.encode()
    run_tool([pub] + common + ["-i", "cpp-pub", "-m", "live value", "-q", "2"])
    assert reader.next_line() == b"1|0|%s|live value" % topic.encode()
    assert reader.finish() == 0
    # A client certificate through --cert/--key is accepted too.
    run_tool([pub, "-h", "127.0.0.1", "-p", str(broker.tls_port), "--cafile", str(pki.ca),
              "--cert", str(pki.device7[0]), "--key", str(pki.device7[1]), "-t", topic, "-m",
              "x", "-V", version])


def connect_in_the_finished_flight(broker, pki, client_id):
    """TLS 1.3 with the client's Finished and its CONNECT in one TCP segment: the broker reads
    both at once, answers the Finished with session tickets and may move the connection to the
    session's loop in the same breath; the tickets must reach the client before the CONNACK.
    Returns the decrypted CONNACK bytes."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context(pki, version=ssl.TLSVersion.TLSv1_3).wrap_bio(
        incoming, outgoing, server_hostname="localhost")
    with socket.create_connection((broker.host, broker.tls_port), timeout=5) as sock:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                data = sock.recv(65536)
                assert data, "broker closed during the handshake"
                incoming.write(data)
        tls.write(raw.connect(client_id, proto=4))
        sock.sendall(outgoing.read())  # Finished + CONNECT
        received = b""
        while len(received) < 4:
            data = sock.recv(65536)
            assert data, "broker closed before CONNACK"
            incoming.write(data)
            try:
                received += tls.read(65536)
            except ssl.SSLWantReadError:
                pass
        return received


def test_connect_sent_with_the_client_finished(tls_broker, pki):
    broker = tls_broker()
    # Several ids: with 4 workers most of them belong to a loop other than the accepting one.
    for index in range(8):
        assert connect_in_the_finished_flight(broker, pki, "flight-%d" % index) == \
            b"\x20\x02\x00\x00"


# --- mutual TLS -----------------------------------------------------------------------------------


def expect_tls_refused(broker, pki, proto, cert):
    """The handshake fails (TLS 1.2) or the broker's alert arrives before any CONNACK (1.3)."""
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, raw.Closed)):
        conn = raw_tls(broker, pki, proto, cert=cert)
        try:
            conn.send(raw.connect("refused", proto=proto))
            conn.recv(timeout=5.0)
        finally:
            conn.close()


@pytest.mark.parametrize("proto", [4, 5], ids=["v311", "v5"])
def test_require_certificate(tls_broker, pki, raw_conns, proto):
    broker = tls_broker(tls={"ca_file": pki.ca, "require_certificate": True})
    expect_tls_refused(broker, pki, proto, None)
    expect_tls_refused(broker, pki, proto, pki.rogue)
    wait_for_log(broker, "tls handshake failed: peer did not return a certificate")
    wait_for_log(broker, "tls handshake failed: certificate verify failed (SSL routines): client "
                         "certificate: unable to get local issuer certificate")
    code, output = s_client(broker, pki, "-tls1_2", "-brief")
    assert code != 0 and "alert handshake failure" in output, output
    conn = raw_conns(raw_tls(broker, pki, proto, cert=pki.device7))
    assert conn.connect("with-cert").rc == 0
    assert conn.is_open()


ACL = """\
user device-7
topic readwrite devices/device-7/#
"""


@pytest.mark.parametrize("proto", [4, 5], ids=["v311", "v5"])
def test_identity_as_username_drives_the_acl(tls_broker, pki, raw_conns, tmp_path, proto):
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    broker = tls_broker(tls={"ca_file": pki.ca, "require_certificate": True,
                             "use_identity_as_username": True},
                        auth={"allow_anonymous": False, "acl_file": str(acl)})
    refused = {4: 0x80, 5: 0x87}[proto]
    # No user name in the CONNECT: the certificate's CN is the user.
    device7 = raw_conns(raw_tls(broker, pki, proto, cert=pki.device7))
    assert device7.connect("d7").rc == 0
    assert device7.subscribe([("devices/device-7/#", 1), ("devices/device-8/#", 1)]).codes == [
        1, refused]
    device7_pub = raw_conns(raw_tls(broker, pki, proto, cert=pki.device7))
    assert device7_pub.connect("d7-pub").rc == 0
    assert device7_pub.publish_acked("devices/device-7/temp", b"21.5", qos=1).rc == 0
    got = device7.recv_publish()
    assert (got.topic, got.payload) == ("devices/device-7/temp", b"21.5")
    # device-8 claims to be device-7 in its CONNECT: the certificate wins, the ACL says no.
    device8 = raw_conns(raw_tls(broker, pki, proto, cert=pki.device8))
    assert device8.connect("d8", username="device-7", password=b"ignored").rc == 0
    assert device8.subscribe([("devices/device-7/#", 1)]).codes == [refused]
    ack = device8.publish_acked("devices/device-7/temp", b"forged", qos=1)
    assert ack.rc == (0x87 if proto == 5 else 0), ack
    device7.expect_nothing(0.3)
    # A valid certificate without a CN names nobody.
    nameless = raw_conns(raw_tls(broker, pki, proto, cert=pki.nameless))
    nameless.send(raw.connect("nobody", proto=proto))
    got = nameless.wait_closed(timeout=5.0)
    assert [p.type for p in got] == [raw.CONNACK] and got[0].rc == {4: 0x05, 5: 0x87}[proto]
    # Anonymous access is off, and the plain listener has no certificate to offer.
    plain = raw_conns(raw.RawClient(broker.host, broker.port, proto))
    plain.send(raw.connect("anon", proto=proto))
    got = plain.wait_closed(timeout=5.0)
    assert [p.type for p in got] == [raw.CONNACK] and got[0].rc == {4: 0x05, 5: 0x87}[proto]


@pytest.mark.parametrize("proto", [4, 5], ids=["v311", "v5"])
def test_refused_login_reads_nothing_after_the_connect(tls_broker, pki, raw_conns, tmp_path,
                                                       proto):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "alice", "alice-pw"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    broker = tls_broker(auth={"password_file": str(passwd)})
    watcher = raw_conns(raw_tls(broker, pki, proto))
    assert watcher.connect("watcher", username="alice", password=b"alice-pw").rc == 0
    assert watcher.subscribe([("after/#", 1)]).codes == [1]
    # One TLS record holding a CONNECT with a wrong password and packets behind it: the broker
    # answers the CONNECT (after its delay) and acts on nothing else.
    conn = raw_conns(raw_tls(broker, pki, proto))
    conn.send(raw.connect("guesser", proto=proto, username="alice", password=b"wrong") +
              raw.subscribe(1, [("after/#", 1)], proto) +
              raw.publish("after/refused", b"must not arrive", qos=1, packet_id=2, proto=proto))
    got = conn.wait_closed(timeout=5.0)
    assert [p.type for p in got] == [raw.CONNACK], got
    assert got[0].rc == {4: 0x04, 5: 0x86}[proto]
    watcher.expect_nothing(0.3)
    assert watcher.is_open()


# --- reload -------------------------------------------------------------------------------------


def test_sighup_reloads_the_certificate_keeping_live_connections(tls_broker, pki, tls_clients,
                                                                  tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki.server[0], cert)
    shutil.copy(pki.server[1], key)
    broker = tls_broker(tls={"cert_file": cert, "key_file": key})
    assert served_certificate(broker, pki) == "serial=1001\nsubject=O = Tern A, CN = localhost"
    old = tls_clients(broker, "kept-open")
    assert old.subscribe("reload/to-old/#", 1) == [1]

    shutil.copy(pki.server2[0], cert)
    shutil.copy(pki.server2[1], key)
    broker.proc.send_signal(signal.SIGHUP)
    wait_for_log(broker, "reloaded %s" % cert)
    assert served_certificate(broker, pki) == "serial=1002\nsubject=O = Tern B, CN = localhost"
    # The connection made with the old certificate keeps working, both ways.
    fresh = tls_clients(broker, "after-reload")
    pub_sub_roundtrip(old, fresh, "reload/to-old/1")
    assert fresh.subscribe("reload/to-fresh", 1) == [1]
    pub_sub_roundtrip(fresh, old, "reload/to-fresh")

    # A broken file keeps the certificate in use and says why.
    cert.write_text("not a certificate\n")
    broker.proc.send_signal(signal.SIGHUP)
    wait_for_log(broker, "certificate not reloaded, keeping the previous one: %s: cannot load "
                         "cert_file" % cert)
    assert "no start line (PEM routines)" in broker.stderr()
    assert served_certificate(broker, pki) == "serial=1002\nsubject=O = Tern B, CN = localhost"
    pub_sub_roundtrip(old, fresh, "reload/to-old/2")


# --- start-up errors ----------------------------------------------------------------------------


def test_missing_certificate_stops_start_up(tls_broker, tmp_path, pki):
    missing = tmp_path / "nowhere" / "server.pem"
    broker = tls_broker(tls={"cert_file": missing}, start=False)
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().strip() == (
        "%s: cannot load cert_file of TLS listener 127.0.0.1:%d: No such file or directory" % (
            missing, broker.tls_port))


def test_invalid_key_stops_start_up(tls_broker, tmp_path, pki):
    bad = tmp_path / "bad.key"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    broker = tls_broker(tls={"key_file": bad}, start=False)
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().startswith(
        "%s: cannot load key_file of TLS listener 127.0.0.1:%d: " % (bad, broker.tls_port)), \
        broker.stderr()


def test_tls_keys_on_a_plain_listener_are_refused(make_broker, pki):
    broker = make_broker(start=False)
    text = broker.config_path.read_text()
    text = text.replace('type = "mqtt"\n', 'type = "mqtt"\ncert_file = "%s"\n' % pki.server[0], 1)
    broker.config_path.write_text(text)
    line = text.splitlines().index('cert_file = "%s"' % pki.server[0]) + 1
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().strip() == (
        '%s:%d: listeners[0].cert_file: only a type = "mqtt+tls" listener has TLS keys' % (
            broker.config_path, line))


def test_anonymous_on_a_public_tls_listener_must_be_explicit(tls_broker):
    broker = tls_broker(tls={"address": "0.0.0.0"}, start=False)
    broker.spawn()
    assert broker.wait_exit() == 2
    assert "anonymous access on a non-loopback listener 0.0.0.0:%d must be allowed " \
           "explicitly" % broker.tls_port in broker.stderr()


# --- misbehaving clients ----------------------------------------------------------------------------


def closed_within(sock, timeout):
    """Reads until EOF; True when the broker closed within `timeout` seconds."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(4096):
                return True
    except (ConnectionResetError, socket.timeout):
        return False
    return False


def test_garbage_on_the_tls_port_is_closed_without_harming_others(tls_broker, pki, tls_clients):
    broker = tls_broker()
    watcher = Watcher(broker)  # plain TCP
    tls_client = tls_clients(broker, "tls-bystander")
    assert tls_client.subscribe("bystander", 1) == [1]
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", raw.connect("plain-on-tls"),
                 os.urandom(4096)):
        with socket.create_connection((broker.host, broker.tls_port), timeout=5) as sock:
            sock.sendall(junk)
            assert closed_within(sock, 3.0), junk[:20]
    wait_for_log(broker, "tls handshake failed: http request (SSL routines)")
    wait_for_log(broker, "tls handshake failed: wrong version number (SSL routines)")
    watcher.check()
    pub_sub_roundtrip(tls_client, tls_client, "bystander")
    assert tls_client.subscribe("$SYS/broker/tls/handshake_failures", 0) == [0]
    sys_value(tls_client, "$SYS/broker/tls/handshake_failures", b"3")
    watcher.stop()


def test_handshake_must_finish_within_the_connect_timeout(tls_broker, pki, tls_clients):
    broker = tls_broker(connect_timeout_ms=600)
    started = time.monotonic()
    with socket.create_connection((broker.host, broker.tls_port), timeout=5) as silent, \
            socket.create_connection((broker.host, broker.tls_port), timeout=5) as partial:
        partial.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello start
        assert closed_within(silent, 3.0)
        assert closed_within(partial, 3.0)
    assert time.monotonic() - started < 2.5
    wait_for_log(broker, "tls handshake failed: not completed within the CONNECT timeout", 2)
    # A client that does finish in time is served.
    client = tls_clients(broker, "prompt")
    assert client.subscribe("prompt", 0) == [0]


def test_tls_client_closing_mid_session_leaves_a_will(tls_broker, pki, tls_clients, raw_conns):
    broker = tls_broker()
    watcher = tls_clients(broker, "will-watcher")
    assert watcher.subscribe("wills/#", 1) == [1]
    conn = raw_conns(raw_tls(broker, pki, 4))
    assert conn.connect("will-owner", will={"topic": "wills/gone", "payload": b"bye"}).rc == 0
    # Drop the TCP connection without close_notify or DISCONNECT.
    conn.sock.close()
    msg = watcher.wait_one()
    assert (msg.topic, msg.payload) == ("wills/gone", b"bye")
