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

HOST = "127.0.0.1"


def bench_path():
    """$TERN_BENCH (set by CTest), else tern-bench next to $TERN_PUB (same bin directory)."""
    path = os.environ.get("TERN_BENCH")
    if not path and os.environ.get("TERN_PUB"):
        path = str(Path(os.environ["TERN_PUB"]).with_name("tern-bench"))
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set TERN_BENCH to the built tern-bench binary")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


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
