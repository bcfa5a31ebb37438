"""tern-bench end to end: short runs against Debian's mosquitto and against tern (when TERN_BIN
is set) on free ports, and against tern-bench's own --sink. Exact counts wherever the closed
loop makes them exact."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from toolsupport import free_port

HOST = "127.0.0.1"


def bench_path():
    """$TERN_BENCH (set by CTest), else tern-bench next to $TERN_PUB (same bin directory)."""
    path = os.environ.get("TERN_BENCH")
    if not path and os.environ.get("TERN_PUB"):
        path = str(Path(os.environ["TERN_PUB"]).with_name("tern-bench"))
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set TERN_BENCH to the built tern-bench binary")
    return path


def wait_for_port(port, process, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


BROKERS = ["mosquitto"] + (["tern"] if os.environ.get("TERN_BIN") else [])


@pytest.fixture(scope="module", params=BROKERS)
def broker(request, tmp_path_factory):
    """Debian's mosquitto or tern, with queues deep enough that a closed loop never overflows."""
    workdir = tmp_path_factory.mktemp(request.param)
    port = free_port()
    if request.param == "mosquitto":
        config = workdir / "mosquitto.conf"
        config.write_text(f"listener {port} {HOST}\nallow_anonymous true\npersistence false\n"
                          "max_queued_messages 100000\nmax_inflight_messages 100\n")
        binary = os.environ.get("MOSQUITTO") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        command = [binary, "-c", str(config)]
    else:
        config = workdir / "tern.toml"
        config.write_text(f'[broker]\nsys_interval = 0\n[[listeners]]\naddress = "{HOST}"\n'
                          f"port = {port}\n[limits]\nmax_queued_messages = 100000\n"
                          f'[storage]\ndurability = "memory"\ndata_dir = "{workdir}/data"\n')
        command = [os.environ["TERN_BIN"], "-c", str(config)]
    with open(workdir / "broker.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield {"port": port, "pid": process.pid}
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_bench(*args, timeout=60):
    """Runs tern-bench; returns (exit code, parsed last stdout line or None, stdout, stderr)."""
    result = subprocess.run([bench_path(), *map(str, args)], capture_output=True, text=True,
                            timeout=timeout)
    lines = result.stdout.strip().splitlines()
    report = None
    if lines and lines[-1].startswith("{"):
        report = json.loads(lines[-1])
    return result.returncode, report, result.stdout, result.stderr


def assert_exact_delivery(report):
    """Closed loop against a broker that loses nothing: every message once, in order."""
    assert report["errors"] == 0, report["first_errors"]
    assert report["sent"] > 0
    assert report["received"] > 0
    assert report["expected"] == report["sent"] * (report["subscribers"]
                                                   if report["scenario"] == "fan-out" else 1)
    assert report["unique"] == report["expected"]
    assert report["received"] == report["unique"]
    assert report["loss"] == 0
    assert report["duplicates"] == 0
    assert report["reordered"] == 0
    assert report["unexpected"] == 0


@pytest.mark.parametrize("qos", [0, 1])
def test_pairs_closed_loop_delivers_everything_once_in_order(broker, qos):
    code, report, _, stderr = run_bench("--port", broker["port"], "--scenario", "pairs",
                                        "--pairs", 4, "--qos", qos, "--duration", 1)
    assert code == 0, stderr
    assert_exact_delivery(report)
    assert report["acked"] == (report["sent"] if qos == 1 else 0)
    assert report["load"] == "closed"
    assert report["window"] == 1000
    assert 0 < report["latency_us"]["p50"] <= report["latency_us"]["p99"] \
        <= report["latency_us"]["max"]


def test_qos2_mqtt5_completes_every_exchange(broker):
    code, report, _, stderr = run_bench("--port", broker["port"], "--pairs", 2, "--qos", 2,
                                        "-V", 5, "--duration", 1)
    assert code == 0, stderr
    assert_exact_delivery(report)
    assert report["mqtt"] == "5"
    assert report["acked"] == report["sent"]


def test_fan_in_and_fan_out_count_every_delivery(broker):
    code, report, _, stderr = run_bench("--port", broker["port"], "--scenario", "fan-in",
                                        "--publishers", 3, "--qos", 1, "--window", 100,
                                        "--duration", 1)
    assert code == 0, stderr
    assert_exact_delivery(report)
    assert (report["publishers"], report["subscribers"]) == (3, 1)
    code, report, _, stderr = run_bench("--port", broker["port"], "--scenario", "fan-out",
                                        "--subscribers", 5, "--window", 100, "--duration", 1)
    assert code == 0, stderr
    assert_exact_delivery(report)
    assert report["received"] == 5 * report["sent"]


def test_json_is_the_last_stdout_line_after_the_table(broker):
    code, report, stdout, stderr = run_bench("--port", broker["port"], "--pairs", 1,
                                             "--duration", 1, "--pid", broker["pid"])
    assert code == 0, stderr
    assert stdout.startswith("tern-bench pairs")
    assert "[" in stderr and "running" in stderr  # the progress line
    for key in ("sent", "received", "acked", "rate_sent", "rate_received", "loss", "duplicates",
                "reordered", "bench_cpu_s", "broker_cpu_s", "broker_peak_rss_kb"):
        assert key in report
    assert set(report["latency_us"]) == {"p50", "p90", "p99", "p99_9", "max", "mean"}
    assert report["broker_pid"] == broker["pid"]
    assert report["broker_cpu_s"] >= 0
    assert report["broker_peak_rss_kb"] > 0
    assert report["rate_sent"] > 0


def test_latency_scenario_holds_the_rate(broker):
    code, report, _, stderr = run_bench("--port", broker["port"], "--scenario", "latency",
                                        "--pairs", 2, "--rate", 400, "--duration", 1)
    assert code == 0, stderr
    assert_exact_delivery(report)
    # 200 msg/s per publisher for 1 s: 201 at most (the first is due at once); allow a slow start.
    assert 300 <= report["sent"] <= 402
    assert report["rate_limit"] == 400


def test_idle_connections_answer_keepalive(broker):
    code, report, _, stderr = run_bench("--port", broker["port"], "--scenario", "idle",
                                        "--connections", 40, "--keepalive", 1, "--duration", 2.5,
                                        "--pid", broker["pid"])
    assert code == 0, stderr
    assert report["ready"] == 40
    assert report["connect_failures"] == 0
    assert report["pings"] >= 40
    assert report["pongs"] == report["pings"]
    assert report["broker_rss_per_conn_bytes"] is not None


@pytest.mark.parametrize("qos", [0, 1])
def test_sink_counts_what_the_generator_sent(qos):
    port = free_port()
    sink = subprocess.Popen([bench_path(), "--sink", "--port", str(port), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, sink)
        code, report, _, stderr = run_bench("--port", port, "--scenario", "publish",
                                            "--publishers", 2, "--qos", qos, "--duration", 1)
        assert code == 0, stderr
        assert report["sent"] > 0
        assert report["acked"] == (report["sent"] if qos else 0)
        time.sleep(2.0)  # QoS 0: the sink may still be reading the last bytes (slow under ASan)
    finally:
        sink.send_signal(signal.SIGTERM)
        out, _ = sink.communicate(timeout=10)
    assert sink.returncode == 0
    sink_report = json.loads(out.strip().splitlines()[-1])
    assert sink_report["mode"] == "sink"
    assert sink_report["connections"] == 2
    assert sink_report["received"] == report["sent"]


@pytest.mark.parametrize("args", [
    ["--qos", "3"],
    ["--payload", "8"],
    ["--threads", "3"],
    ["--scenario", "storm"],
    ["--no-such-flag"],
    ["--scenario", "fan-in", "--subscribers", "2"],
    ["--duration", "0"],
    ["--port", "0"],
])
def test_bad_arguments_exit_2_without_a_report(args):
    code, report, stdout, stderr = run_bench(*args)
    assert code == 2
    assert report is None and stdout == ""
    assert stderr.startswith("tern-bench: ")


@pytest.mark.parametrize("args", [
    ["--host", "192.0.2.1"],
    ["--host", "10.1.2.3"],
    ["--host", "0.0.0.0"],
    ["--host", "::1"],
    ["--host", "example.com"],
    ["--sink", "--host", "192.168.1.1"],
    ["--scenario", "idle", "--source-base", "192.0.2.10"],
])
def test_non_loopback_addresses_are_refused(args):
    code, report, stdout, stderr = run_bench(*args, "--port", 1883, "--duration", 1)
    assert code == 2
    assert report is None and stdout == ""
    assert "only" in stderr and "127.0.0.0/8" in stderr


def test_connection_refused_exits_1_with_the_reason():
    code, report, _, stderr = run_bench("--port", free_port(), "--pairs", 1, "--duration", 1,
                                        "--connect-timeout", 5)
    assert code == 1
    assert report["ready"] == 0
    assert report["connect_failures"] == 2
    assert any("connection refused" in error for error in report["first_errors"])
    assert "could not all connect" in stderr


# --persistent: subscribers with sessions that outlive their connections.

def encode_varint(value):
    out = bytearray()
    while True:
        byte = value % 128
        value //= 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_string(text):
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


class RawClient:
    """A minimal blocking MQTT 3.1.1 client, to look at sessions from the outside."""

    def __init__(self, port, client_id, clean):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.buffer = b""
        header = encode_string("MQTT") + bytes([4, 0x02 if clean else 0x00]) + (60).to_bytes(2, "big")
        self.send(0x10, header + encode_string(client_id))
        kind, body = self.read_packet()
        assert kind == 0x20 and body[1] == 0, (kind, body)
        self.session_present = bool(body[0] & 0x01)

    def send(self, first_byte, body):
        self.sock.sendall(bytes([first_byte]) + encode_varint(len(body)) + body)

    def read_packet(self):
        while True:
            if len(self.buffer) >= 2:
                length, multiplier, offset = 0, 1, 1
                while offset < len(self.buffer):
                    byte = self.buffer[offset]
                    length += (byte & 0x7F) * multiplier
                    multiplier *= 128
                    offset += 1
                    if not byte & 0x80:
                        if len(self.buffer) >= offset + length:
                            packet = self.buffer[:offset + length]
                            self.buffer = self.buffer[offset + length:]
                            return packet[0] & 0xF0, packet[offset:]
                        break
            chunk = self.sock.recv(4096)
            assert chunk, "the broker closed the connection"
            self.buffer += chunk

    def subscribe(self, topic_filter, qos):
        self.send(0x82, (1).to_bytes(2, "big") + encode_string(topic_filter) + bytes([qos]))
        kind, body = self.read_packet()
        assert kind == 0x90 and body[2] == qos, (kind, body)

    def publish_qos1(self, topic, payload, packet_id):
        self.send(0x32, encode_string(topic) + packet_id.to_bytes(2, "big") + payload)
        kind, body = self.read_packet()
        assert kind == 0x40 and body[:2] == packet_id.to_bytes(2, "big"), (kind, body)

    def disconnect(self):
        self.send(0xE0, b"")
        self.sock.close()


@pytest.fixture(scope="module", params=BROKERS)
def storing_broker(request, tmp_path_factory):
    """Brokers that store sessions: mosquitto with persistence, tern with durability async."""
    workdir = tmp_path_factory.mktemp(request.param + "-storing")
    port = free_port()
    if request.param == "mosquitto":
        config = workdir / "mosquitto.conf"
        config.write_text(f"listener {port} {HOST}\nallow_anonymous true\npersistence true\n"
                          f"persistence_location {workdir}/\nmax_queued_messages 100000\n"
                          "max_inflight_messages 100\n"
                          + ("user root\n" if os.geteuid() == 0 else ""))
        binary = os.environ.get("MOSQUITTO") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        command = [binary, "-c", str(config)]
    else:
        config = workdir / "tern.toml"
        config.write_text(f'[broker]\nsys_interval = 0\n[[listeners]]\naddress = "{HOST}"\n'
                          f"port = {port}\n[limits]\nmax_queued_messages = 100000\n"
                          f'[storage]\ndurability = "async"\ndata_dir = "{workdir}/data"\n')
        command = [os.environ["TERN_BIN"], "-c", str(config)]
    log_path = workdir / "broker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield {"kind": request.param, "port": port, "pid": process.pid, "log": log_path}
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("version", ["3.1.1", "5"])
def test_persistent_run_delivers_everything_and_leaves_no_session(storing_broker, version):
    prefix = f"persist{version[0]}"
    code, report, stdout, stderr = run_bench(
        "--port", storing_broker["port"], "--pairs", 3, "--qos", 1, "--duration", 1,
        "-V", version, "--persistent", "--topic-prefix", prefix)
    assert code == 0, stderr
    assert_exact_delivery(report)
    # The broker acknowledges once stored (tern: after the group commit): every PUBACK came.
    assert report["acked"] == report["sent"]
    assert 0 < report["rate_acked"] <= report["acked"] / report["duration_s"]
    assert report["persistent"] is True
    assert report["sessions_resumed"] == 0
    ids = report["session_client_id_prefix"]
    assert ids.startswith("tbp") and ids.endswith("-s") and len(ids) == 13
    assert f"client ids {ids}N" in stdout
    if storing_broker["kind"] == "mosquitto":
        # Mosquitto logs each CONNECT's protocol level (p) and Clean Session flag (c): one
        # Clean Session 1 connection, the persistent one, then one more Clean Session 1.
        level = "p5" if version == "5" else "p2"
        log = storing_broker["log"].read_text()
        flags = [line.split(f"as {ids}0 (")[1][:6] for line in log.splitlines()
                 if f"as {ids}0 ({level}" in line]
        assert flags == [f"{level}, c1", f"{level}, c0", f"{level}, c1"]
    # The wipe after the run ended the sessions: a Clean Session 0 connection finds none.
    for index in range(3):
        client = RawClient(storing_broker["port"], f"{ids}{index}", clean=False)
        assert not client.session_present
        client.disconnect()
        RawClient(storing_broker["port"], f"{ids}{index}", clean=True).disconnect()


def test_persistent_run_starts_without_what_an_earlier_session_left(storing_broker):
    args = ("--port", storing_broker["port"], "--pairs", 1, "--qos", 1, "--duration", 0.5,
            "--persistent", "--topic-prefix", "leftover")
    code, report, _, stderr = run_bench(*args)
    assert code == 0, stderr
    subscriber = report["session_client_id_prefix"] + "0"
    # Leave a session behind under the subscriber's id, as a killed run would: subscribed to
    # the pair's topic, with QoS 1 messages queued that are not tern-bench payloads.
    client = RawClient(storing_broker["port"], subscriber, clean=False)
    assert not client.session_present
    client.subscribe("leftover/0", 1)
    client.disconnect()
    publisher = RawClient(storing_broker["port"], "leftover-publisher", clean=True)
    for packet_id in (1, 2, 3):
        publisher.publish_qos1("leftover/0", bytes(20), packet_id)
    publisher.disconnect()
    client = RawClient(storing_broker["port"], subscriber, clean=False)
    assert client.session_present
    kind, _ = client.read_packet()
    assert kind == 0x30  # a queued message arrives; unacknowledged, it stays in the session
    client.disconnect()

    code, report, _, stderr = run_bench(*args)
    assert code == 0, stderr
    assert report["sessions_resumed"] == 0
    assert report["unexpected"] == 0
    assert_exact_delivery(report)
    client = RawClient(storing_broker["port"], subscriber, clean=False)
    assert not client.session_present
    client.disconnect()
    RawClient(storing_broker["port"], subscriber, clean=True).disconnect()


@pytest.mark.parametrize("args", [
    ["--scenario", "idle", "--persistent"],
    ["--scenario", "publish", "--persistent"],
    ["--sink", "--persistent"],
])
def test_persistent_needs_subscribers(args):
    code, report, stdout, stderr = run_bench(*args)
    assert code == 2
    assert report is None and stdout == ""
    assert stderr.startswith("tern-bench: --persistent does not apply to ")


def test_persistent_without_a_broker_fails_before_connecting_anyone():
    code, report, _, stderr = run_bench("--port", free_port(), "--pairs", 2, "--duration", 1,
                                        "--persistent")
    assert code == 1
    assert "the persistent sessions could not be wiped" in stderr
    assert report["ready"] == 0 and report["connect_failures"] == 0 and report["sent"] == 0
    assert report["errors"] == 1
    assert report["first_errors"][0].startswith(
        f"before the run: wiping the session of {report['session_client_id_prefix']}0: connect: ")
