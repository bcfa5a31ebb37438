"""Debian's mosquitto_pub / mosquitto_sub command-line clients against the broker (3.1.1 and 5).

Background subscribers run with -d so the test can wait for their SUBACK before publishing;
their messages are printed through -F with a "MSG|" prefix to tell them apart from debug lines.
"""

import os
import queue
import shutil
import signal
import subprocess
import threading
import time

import pytest

MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
STDBUF = shutil.which("stdbuf") or "/usr/bin/stdbuf"
VERSION_ARG = {4: "311", 5: "5"}
CLIENT_TIMEOUT = 15.0
MARKER = b"MSG|"
# mosquitto_sub's exit code when -W expires (libmosquitto's MOSQ_ERR_TIMEOUT).
SUB_TIMED_OUT = 27


def _base(binary, broker, proto, args):
    return [binary, "-h", broker.host, "-p", str(broker.port), "-V", VERSION_ARG[proto]] + list(
        args)


def run_pub(broker, proto, *args):
    """mosquitto_pub to completion; fails the test unless it exits 0."""
    cmd = _base(MOSQUITTO_PUB, broker, proto, args)
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                            timeout=CLIENT_TIMEOUT, check=False)
    assert result.returncode == 0, "%s exited %d: %r" % (cmd, result.returncode, result.stderr)
    return result


def run_sub(broker, proto, *args, timeout=CLIENT_TIMEOUT):
    """mosquitto_sub to completion (it must end by itself through -C, -E or -W)."""
    cmd = _base(MOSQUITTO_SUB, broker, proto, args)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                          check=False)


class Subscriber:
    """A mosquitto_sub in the background whose stdout is read line by line."""

    def __init__(self, broker, proto, *args):
        # stdbuf: mosquitto_sub prints its debug lines with stdio, fully buffered into a pipe.
        self.cmd = [STDBUF, "-oL"] + _base(MOSQUITTO_SUB, broker, proto, ("-d",) + args)
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.transcript = []
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            self._lines.put(line.rstrip(b"\n"))
        self._lines.put(None)

    def _next_line(self, deadline, waiting_for):
        try:
            line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            raise AssertionError("mosquitto_sub printed no %s in time; output so far: %r" % (
                waiting_for, self.transcript)) from None
        if line is None:
            raise AssertionError("mosquitto_sub exited (%r) before printing %s; output: %r, "
                                 "stderr: %r" % (self.proc.wait(), waiting_for, self.transcript,
                                                 self.proc.stderr.read()))
        self.transcript.append(line[:200])
        return line

    def wait_subscribed(self, timeout=CLIENT_TIMEOUT):
        """Wait for the SUBACK; returns the granted QoS list mosquitto_sub reports."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._next_line(deadline, "SUBACK")
            if line.startswith(b"Subscribed (mid: "):
                return [int(code) for code in line.split(b"):", 1)[1].split(b",")]

    def next_message(self, timeout=CLIENT_TIMEOUT):
        """The next -F line (without the MSG| marker)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._next_line(deadline, "message")
            if line.startswith(MARKER):
                return line[len(MARKER):]

    def wait_exit(self, timeout=CLIENT_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("mosquitto_sub still running after %.0f s: %r" % (
                timeout, self.transcript)) from None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def subscribers():
    """subscribers(broker, proto, *args): a started Subscriber, killed at teardown."""
    made = []

    def factory(broker, proto, *args):
        sub = Subscriber(broker, proto, *args)
        made.append(sub)
        return sub

    yield factory
    for sub in made:
        sub.stop()


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_round_trip_keeps_payload_and_qos(broker, subscribers, proto, qos):
    topic = "mosq/rt/%d" % qos
    payload = "hello at qos %d" % qos
    sub = subscribers(broker, proto, "-q", "2", "-t", topic, "-C", "1", "-F", "MSG|%q|%r|%t|%p")
    assert sub.wait_subscribed() == [2]
    run_pub(broker, proto, "-q", str(qos), "-t", topic, "-m", payload)
    # Delivered at min(published, granted) QoS, retain 0, exact topic and payload.
    assert sub.next_message() == ("%d|0|%s|%s" % (qos, topic, payload)).encode()
    assert sub.wait_exit() == 0


def test_retained_message_reaches_a_later_subscriber(broker, proto):
    topic = "mosq/retained/kept"
    run_pub(broker, proto, "-r", "-q", "1", "-t", topic, "-m", "stored value")
    verbose = run_sub(broker, proto, "-t", topic, "-C", "1", "-W", "5", "-v")
    assert (verbose.returncode, verbose.stdout) == (0, b"mosq/retained/kept stored value\n"), \
        verbose
    flags = run_sub(broker, proto, "-q", "1", "-t", "mosq/retained/#", "-C", "1", "-W", "5",
                    "-F", "%r %q %t %p")
    assert (flags.returncode, flags.stdout) == (0, b"1 1 mosq/retained/kept stored value\n"), flags


def test_zero_length_retained_message_clears_it(broker, proto):
    topic = "mosq/retained/cleared"
    run_pub(broker, proto, "-r", "-t", topic, "-m", "soon gone")
    before = run_sub(broker, proto, "-t", topic, "-C", "1", "-W", "5", "-v")
    assert (before.returncode, before.stdout) == (0, b"mosq/retained/cleared soon gone\n"), before
    run_pub(broker, proto, "-r", "-t", topic, "-n")
    after = run_sub(broker, proto, "-t", topic, "-C", "1", "-W", "2", "-v")
    assert (after.returncode, after.stdout) == (SUB_TIMED_OUT, b""), after


def test_v5_publish_properties_are_printed_by_the_subscriber(broker, subscribers):
    topic = "mosq/props"
    sub = subscribers(broker, 5, "-q", "1", "-t", topic, "-C", "1",
                      "-D", "subscribe", "subscription-identifier", "42",
                      "-F", "MSG|%P|%C|%R|%D|%F|%S|%E|%p")
    assert sub.wait_subscribed() == [1]
    run_pub(broker, 5, "-q", "1", "-t", topic, "-m", "with properties",
            "-D", "publish", "user-property", "site", "north",
            "-D", "publish", "user-property", "rack", "7",
            "-D", "publish", "user-property", "site", "south",
            "-D", "publish", "content-type", "text/plain",
            "-D", "publish", "response-topic", "mosq/props/reply",
            "-D", "publish", "correlation-data", "req-17",
            "-D", "publish", "payload-format-indicator", "1",
            "-D", "publish", "message-expiry-interval", "300")
    fields = sub.next_message().split(b"|")
    # User properties in the publisher's order, duplicates kept; the others unaltered; the
    # subscription identifier of the matching subscription; expiry minus the time in the broker.
    assert fields[:6] == [b"site:north rack:7 site:south", b"text/plain", b"mosq/props/reply",
                          b"req-17", b"1", b"42"], fields
    assert 295 <= int(fields[6]) <= 300, fields
    assert fields[7] == b"with properties", fields
    assert sub.wait_exit() == 0


def test_persistent_session_receives_messages_sent_while_offline(broker, proto):
    topic = "mosq/persistent"
    client_id = "mosq-persist-%d" % proto
    first = run_sub(broker, proto, "-c", "-i", client_id, "-q", "1", "-t", topic, "-E")
    assert (first.returncode, first.stdout) == (0, b""), first
    for index in range(3):
        run_pub(broker, proto, "-q", "1", "-t", topic, "-m", "offline-%d" % index)
    resumed = run_sub(broker, proto, "-c", "-i", client_id, "-q", "1", "-t", topic, "-C", "3",
                      "-W", "10", "-F", "%q %p")
    assert (resumed.returncode, resumed.stdout) == (
        0, b"1 offline-0\n1 offline-1\n1 offline-2\n"), resumed


def test_will_is_published_when_the_client_is_killed(broker, subscribers, proto):
    watcher = subscribers(broker, proto, "-q", "1", "-t", "mosq/will/#", "-C", "1",
                          "-F", "MSG|%q|%r|%t|%p")
    assert watcher.wait_subscribed() == [1]
    victim = subscribers(broker, proto, "-i", "mosq-victim-%d" % proto, "-t", "mosq/other",
                         "--will-topic", "mosq/will/victim", "--will-payload", "victim died",
                         "--will-qos", "1")
    assert victim.wait_subscribed() == [0]
    victim.proc.send_signal(signal.SIGKILL)
    assert watcher.next_message() == b"1|0|mosq/will/victim|victim died"
    assert watcher.wait_exit() == 0


def test_will_is_not_published_when_the_client_exits_cleanly(broker, subscribers, proto):
    watcher = subscribers(broker, proto, "-q", "1", "-t", "mosq/will/#", "-F", "MSG|%t|%p")
    assert watcher.wait_subscribed() == [1]
    polite = run_sub(broker, proto, "-i", "mosq-polite-%d" % proto, "-t", "mosq/other", "-E",
                     "--will-topic", "mosq/will/polite", "--will-payload", "should not appear")
    assert polite.returncode == 0, polite
    # A marker published afterwards arrives first: the will was discarded, not merely late.
    run_pub(broker, proto, "-q", "1", "-t", "mosq/will/marker", "-m", "after")
    assert watcher.next_message() == b"mosq/will/marker|after"


def test_sub_timeout_exit_codes(broker, proto):
    topic = "mosq/timeout"
    started = time.monotonic()
    idle = run_sub(broker, proto, "-t", topic, "-W", "1")
    elapsed = time.monotonic() - started
    # Connected and subscribed, nothing arrived: -W expires with code 27 after about 1 s.
    assert (idle.returncode, idle.stdout) == (SUB_TIMED_OUT, b""), idle
    assert b"Timed out" in idle.stderr, idle
    assert 0.9 <= elapsed < 5, elapsed
    run_pub(broker, proto, "-r", "-t", topic, "-m", "present")
    started = time.monotonic()
    found = run_sub(broker, proto, "-t", topic, "-W", "5", "-C", "1", "-v")
    # The -C count is reached well before -W: exit 0.
    assert (found.returncode, found.stdout) == (0, b"mosq/timeout present\n"), found
    assert time.monotonic() - started < 4


def test_one_megabyte_payload_arrives_byte_identical(make_broker, subscribers, proto, tmp_path):
    broker = make_broker(max_packet_size=1048576)
    data = os.urandom(1000000)  # with topic and headers still below max_packet_size
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    sub = subscribers(broker, proto, "-q", "1", "-t", "mosq/large", "-C", "1", "-F", "MSG|%l|%x")
    assert sub.wait_subscribed() == [1]
    run_pub(broker, proto, "-q", "1", "-t", "mosq/large", "-f", str(path))
    length, hex_payload = sub.next_message(timeout=30).split(b"|")
    assert int(length) == len(data)
    assert bytes.fromhex(hex_payload.decode()) == data
    assert sub.wait_exit() == 0
