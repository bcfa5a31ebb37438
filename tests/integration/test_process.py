"""The tern process: graceful signals, restart, config errors (exit 2, FILE:LINE:) and the CLI."""

import os
import re
import signal
import socket
import subprocess
import time

import pytest

import mqtt_raw as raw
from broker_process import HOST, free_port, tern_config
from helpers import eventually, persistent_connect


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_0_promptly_with_clients_connected(make_broker, clients, raws, sig):
    broker = make_broker()
    sub = clients(broker, "sub", 5)
    assert sub.subscribe("busy/#", 2) == [2]
    mid_flow = raws(broker, 4)
    assert mid_flow.connect("mid-flow").rc == 0
    pid = mid_flow.publish("busy/t", b"half-done", qos=2)  # PUBREC pending, never PUBREL
    assert mid_flow.recv_type(raw.PUBREC).packet_id == pid
    offline = raws(broker, 5)
    persistent_connect(offline, "offline")
    assert offline.subscribe([("busy/#", 1)]).codes == [1]
    offline.close()
    unconnected = raws(broker, 4)  # TCP only, never sends CONNECT
    start = time.monotonic()
    code = broker.stop(sig)
    elapsed = time.monotonic() - start
    broker.check_exit(code)  # exit 0, no sanitizer report
    assert elapsed < 3.0, elapsed
    for conn in (mid_flow, unconnected):
        conn.wait_closed(timeout=1.0)
    assert sub.disconnected.wait(2.0)


def test_restart_on_same_port(make_broker, clients):
    broker = make_broker()
    first = clients(broker, "before", 4)
    assert first.subscribe("r/t", 1) == [1]
    broker.restart()
    assert first.wait_disconnected() is not None
    after = clients(broker, "after", 4)
    assert after.subscribe("r/t", 1) == [1]
    after.publish("r/t", b"alive", qos=1)
    assert after.wait_one().payload == b"alive"


# -- configuration errors (tern only) ------------------------------------------------------------


def _config_with(broker, section, line):
    """The broker's generated config with `line` as the first entry of `section` (replacing the
    same key there); returns (text, 1-based line number of `line`)."""
    lines = tern_config(broker.port, broker.data_dir, {"workers": broker.workers}, {}).split("\n")
    header = lines.index(section)
    key = line.split("=")[0].strip()
    end = header + 1
    while end < len(lines) and not lines[end].startswith("["):
        end += 1
    body = [entry for entry in lines[header + 1:end] if entry.split("=")[0].strip() != key]
    lines[header + 1:end] = [line] + body
    return "\n".join(lines), header + 2


BAD_CONFIGS = {
    "wrong_type": ("[broker]", 'workers = "four"'),
    "qos_out_of_range": ("[broker]", "maximum_qos = 3"),
    "unknown_log_level": ("[broker]", 'log_level = "loud"'),
    "port_out_of_range": ("[[listeners]]", "port = 70000"),
    "listener_type": ("[[listeners]]", 'type = "carrier-pigeon"'),
    "negative_limit": ("[limits]", "max_connections = -1"),
    "syntax_error": ("[limits]", "max_packet_size = = 3"),
}


@pytest.mark.tern_only
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_exits_2_naming_the_line(make_broker, case):
    broker = make_broker(start=False)
    section, line = BAD_CONFIGS[case]
    text, lineno = _config_with(broker, section, line)
    assert text.split("\n")[lineno - 1] == line
    broker.config_path.write_text(text)
    broker.spawn()
    code = broker.wait_exit(5.0)
    err = broker.stderr()
    assert code == 2, (code, err)
    assert "cfg.toml:%d:" % lineno in err, err  # FILE:LINE: reason


@pytest.mark.tern_only
def test_missing_config_file_exits_2(make_broker):
    broker = make_broker(start=False)
    broker.config_path.unlink()
    broker.spawn()
    code = broker.wait_exit(5.0)
    assert code == 2, (code, broker.stderr())
    assert "cfg.toml" in broker.stderr()


# -- command line (tern only) ----------------------------------------------------------------------


def _tern(*args, timeout=5.0):
    return subprocess.run([os.environ["TERN_BIN"], *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.tern_only
def test_listen_option_overrides_config_listeners(make_broker, clients):
    broker = make_broker(start=False)
    config_port = broker.port
    broker.port = free_port()
    broker.extra_args = ["--listen", "%s:%d" % (HOST, broker.port)]
    broker.start()
    client = clients(broker, "via-listen", 5)
    assert client.subscribe("l/t", 1) == [1]
    with pytest.raises(OSError):
        socket.create_connection((HOST, config_port), timeout=1.0).close()


@pytest.mark.tern_only
def test_listen_option_repeatable(make_broker, raws):
    broker = make_broker(start=False)
    second = free_port()
    broker.port = free_port()
    broker.extra_args = ["--listen", "%s:%d" % (HOST, broker.port),
                         "--listen", "%s:%d" % (HOST, second)]
    broker.start()
    for port in (broker.port, second):
        conn = raw.RawClient(HOST, port, 4)
        try:
            assert conn.connect("on-%d" % port).rc == 0
        finally:
            conn.close()


@pytest.mark.tern_only
def test_start_up_log_names_the_memory_allocator(make_broker):
    """Release builds run on jemalloc (README, Architecture); sanitizer builds on the C library's
    malloc, which the sanitizers replace."""
    broker = make_broker()
    linked = subprocess.run(["ldd", os.environ["TERN_BIN"]], capture_output=True, text=True).stdout
    expected = ("memory allocator: the C library's malloc" if "libasan" in linked
                else "memory allocator: jemalloc 5.")
    line = eventually(lambda: next((l for l in broker.stderr().splitlines()
                                    if "memory allocator:" in l), None),
                      message="no allocator line in the start-up log")
    assert expected in line, line


@pytest.mark.tern_only
def test_version_option(workers):
    result = _tern("--version")
    assert result.returncode == 0, result
    assert re.search(r"\d+\.\d+\.\d+", result.stdout + result.stderr), result


@pytest.mark.tern_only
@pytest.mark.parametrize("args", [["--no-such-option"], ["--workers", "many"],
                                  ["--listen", "not-an-address"]],
                         ids=["unknown_option", "bad_workers", "bad_listen"])
def test_bad_arguments_exit_2(workers, args):
    result = _tern(*args)
    assert result.returncode == 2, result
