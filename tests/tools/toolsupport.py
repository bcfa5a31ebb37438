"""Helpers for the tern-pub/tern-sub suites: a broker on a free port, tool runners, readers."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from ports import free_port  # noqa: F401 (the suite imports it from here)

HOST = "127.0.0.1"
TIMEOUT = 15  # seconds any single tool run may take before the test fails

# Lines tern-sub/tern-pub print with -d; everything else on stderr is an error message.
DEBUG_PREFIXES = ("connecting to ", "connected, ", "subscribed to ", "disconnected",
                  "reconnecting in ", "session present: ", "published ",
                  "connection lost, will reconnect: ", "reconnect failed: ")


def tool_path(name):
    """Path of tern-pub/tern-sub from $TERN_PUB/$TERN_SUB (set by CTest)."""
    variable = "TERN_PUB" if name == "tern-pub" else "TERN_SUB"
    path = os.environ.get(variable)
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"set {variable} to the built {name} binary")
    return path


def broker_kind():
    kind = os.environ.get("TOOLS_TEST_BROKER", "mosquitto")
    if kind not in ("mosquitto", "tern"):
        raise RuntimeError("TOOLS_TEST_BROKER must be mosquitto or tern")
    return kind


def wait_for_port(port, process, log_path, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker exited: {Path(log_path).read_text(errors='replace')}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"broker did not listen on {port}: {Path(log_path).read_text()}")


class Broker:
    """A broker process on free 127.0.0.1 ports: Debian's mosquitto by default, or tern when
    TOOLS_TEST_BROKER=tern (then $TERN_BIN -c tern.toml --listen 127.0.0.1:PORT). Extra
    listeners (TLS, WebSocket) and auth exist only with mosquitto so far."""

    def __init__(self, workdir, kind=None, extra_config="", tls_dir=None, wrong_tls_dir=None,
                 websockets=False, persistence=False):
        self.kind = kind or broker_kind()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls_dir else None
        self.wrong_tls_port = free_port() if wrong_tls_dir else None
        self.ws_port = free_port() if websockets else None
        self._extra_config = extra_config
        self._tls_dir = tls_dir
        self._wrong_tls_dir = wrong_tls_dir
        self._persistence = persistence
        self.process = None
        self.log_path = self.workdir / "broker.log"

    def _mosquitto_config(self):
        lines = []
        if os.geteuid() == 0:
            lines.append("user root")  # keep root so it can read files in pytest's 0700 dirs
        lines += ["per_listener_settings false", "allow_anonymous true",
                  f"listener {self.port} {HOST}"]
        for port, directory in ((self.tls_port, self._tls_dir),
                                (self.wrong_tls_port, self._wrong_tls_dir)):
            if port:
                lines += [f"listener {port} {HOST}", f"cafile {directory}/ca.crt",
                          f"certfile {directory}/server.crt", f"keyfile {directory}/server.key"]
        if self.ws_port:
            lines += [f"listener {self.ws_port} {HOST}", "protocol websockets"]
        if self._persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/"]
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n" + self._extra_config)
        return path

    def start(self):
        if self.kind == "mosquitto":
            command = [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c",
                       str(self._mosquitto_config())]
        else:
            binary = os.environ.get("TERN_BIN")
            if not binary:
                raise RuntimeError("TOOLS_TEST_BROKER=tern needs TERN_BIN")
            # Persistence as asked: "memory" forgets sessions on restart like mosquitto with
            # persistence off; "async" keeps them.
            config = self.workdir / "tern.toml"
            config.write_text("[storage]\n" f'data_dir = "{self.workdir}/data"\n'
                              f'durability = "{"async" if self._persistence else "memory"}"\n')
            command = [binary, "-c", str(config), "--listen", f"{HOST}:{self.port}"]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.workdir)
        log.close()
        for port in (self.port, self.tls_port, self.wrong_tls_port, self.ws_port):
            if port:
                wait_for_port(port, self.process, self.log_path)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self):
        self.stop()
        return self.start()


class OutputReader:
    """Collects a pipe's bytes on a thread so tests can wait for output while the process runs."""

    def __init__(self, pipe):
        self._pipe = pipe
        self._data = bytearray()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            chunk = os.read(self._pipe.fileno(), 65536)
            with self._changed:
                if not chunk:
                    self._changed.notify_all()
                    return
                self._data += chunk
                self._changed.notify_all()

    def wait_for(self, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(bytes(self._data)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting; output so far: {bytes(self._data)!r}")
                self._changed.wait(remaining)

    def join(self):
        self._thread.join(timeout=TIMEOUT)

    @property
    def data(self):
        with self._changed:
            return bytes(self._data)


_started_tools = []  # every Tool of the current test, for kill_leftover_tools()


def kill_leftover_tools():
    """Kills tools a failed test left running."""
    while _started_tools:
        _started_tools.pop().kill()


class Tool:
    """A running tern-sub (or any command) with stdout/stderr readers."""

    def __init__(self, command, stdin=None):
        _started_tools.append(self)
        self.command = command
        self.process = subprocess.Popen(command, stdin=stdin or subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout = OutputReader(self.process.stdout)
        self.stderr = OutputReader(self.process.stderr)
        self.started = time.monotonic()

    def wait_stderr(self, text, count=1, timeout=TIMEOUT):
        self.stderr.wait_for(lambda data: data.decode(errors="replace").count(text) >= count,
                             timeout)

    def wait_stdout(self, predicate, timeout=TIMEOUT):
        self.stdout.wait_for(predicate, timeout)

    def finish(self, timeout=TIMEOUT):
        """Waits for exit; returns (exit code, stdout bytes, stderr without -d lines)."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.command} did not exit; stdout {self.stdout.data!r}, "
                                 f"stderr {self.stderr.data!r}")
        self.stdout.join()
        self.stderr.join()
        return code, self.stdout.data, errors_only(self.stderr.data.decode(errors="replace"))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def errors_only(stderr):
    """stderr without the -d debug lines of the tern tools."""
    kept = []
    for line in stderr.splitlines(keepends=True):
        _, _, rest = line.partition(": ")
        if line.startswith(("tern-pub: ", "tern-sub: ")) and rest.startswith(DEBUG_PREFIXES):
            continue
        kept.append(line)
    return "".join(kept)


def start_sub(broker, *args, wait=True, port=None):
    """Starts tern-sub -d against broker and, unless wait is False, waits until it has
    subscribed (or found its persistent session)."""
    command = [tool_path("tern-sub"), "-d", "-h", HOST, "-p", str(port or broker.port), *args]
    sub = Tool(command)
    if wait:
        sub.stderr.wait_for(lambda data: b"subscribed to " in data or
                            b"session present: keeping" in data or sub.process.poll() is not None)
        if sub.process.poll() is not None:
            code, out, err = sub.finish()
            raise AssertionError(f"tern-sub exited with {code}: {err} {out!r}")
    return sub


def run_tool(name, *args, input=None, timeout=TIMEOUT):
    """Runs tern-pub/tern-sub to completion; returns CompletedProcess with bytes output."""
    return subprocess.run([tool_path(name), *args], input=input, capture_output=True,
                          timeout=timeout)


def pub(broker, *args, input=None, port=None):
    """Runs tern-pub against broker and asserts it succeeded."""
    result = run_tool("tern-pub", "-h", HOST, "-p", str(port or broker.port), *args, input=input)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    return result
