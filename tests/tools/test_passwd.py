"""tern-passwd: creating, updating, deleting and upgrading password files; Mosquitto reads them."""
import base64
import hashlib
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import termios
import subprocess
import time

import pytest

from toolsupport import free_port

HOST = "127.0.0.1"
HASH_LINE = re.compile(r"^([^:]+):\$7\$(\d+)\$([A-Za-z0-9+/]{16})\$([A-Za-z0-9+/]{86}==)$")


def passwd_binary():
    path = os.environ.get("TERN_PASSWD")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set TERN_PASSWD to the built tern-passwd binary")
    return path


def run(*args, stdin=""):
    return subprocess.run([passwd_binary(), *args], input=stdin, capture_output=True, text=True,
                          timeout=30)


def entries(path):
    """{user: (iterations, salt bytes, hash bytes)} for the $7$ lines of a file."""
    found = {}
    for line in path.read_text().splitlines():
        match = HASH_LINE.match(line)
        if match:
            user, iterations, salt, digest = match.groups()
            found[user] = (int(iterations), base64.b64decode(salt), base64.b64decode(digest))
    return found


def verifies(path, user, password):
    """Checks a $7$ hash with Python's own PBKDF2, independently of tern."""
    iterations, salt, digest = entries(path)[user]
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations) == digest


def test_create_writes_a_mosquitto_format_line_with_mode_0600(tmp_path):
    path = tmp_path / "passwd"
    result = run("-c", "-b", str(path), "alice", "correct horse")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert re.match(r"^alice:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$", lines[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(entries(path)["alice"][1]) == 12
    assert verifies(path, "alice", "correct horse")
    assert not verifies(path, "alice", "correct horse ")
    assert sorted(os.listdir(tmp_path)) == ["passwd"]  # no temporary file left behind


def test_create_replaces_an_existing_file(tmp_path):
    path = tmp_path / "passwd"
    path.write_text("old:$6$AQ==$" + "A" * 86 + "==\n")
    assert run("-c", "-b", str(path), "new", "pw").returncode == 0
    assert list(entries(path)) == ["new"]
    assert "old" not in path.read_text()


def test_iterations_option(tmp_path):
    path = tmp_path / "passwd"
    assert run("-c", "-I", "1000", "-b", str(path), "alice", "pw").returncode == 0
    assert path.read_text().startswith("alice:$7$1000$")
    assert verifies(path, "alice", "pw")


def test_batch_adds_and_updates_keeping_other_lines(tmp_path):
    path = tmp_path / "passwd"
    assert run("-c", "-b", str(path), "alice", "a1").returncode == 0
    with path.open("a") as out:
        out.write("# a comment\n\n")
    assert run("-b", str(path), "bob", "b1").returncode == 0
    alice_line = path.read_text().splitlines()[0]
    assert run("-b", str(path), "bob", "b2:with colon").returncode == 0
    lines = path.read_text().splitlines()
    assert lines[0] == alice_line
    assert lines[1:3] == ["# a comment", ""]
    assert lines[3].startswith("bob:$7$101$") and len(lines) == 4
    assert verifies(path, "bob", "b2:with colon")
    assert not verifies(path, "bob", "b1")
    assert verifies(path, "alice", "a1")


def test_password_from_standard_input(tmp_path):
    path = tmp_path / "passwd"
    result = run("-c", str(path), "carol", stdin="from stdin\r\nignored second line\n")
    assert result.returncode == 0, result.stderr
    assert verifies(path, "carol", "from stdin")
    result = run(str(path), "dave", stdin="")
    assert result.returncode == 1
    assert result.stderr == "tern-passwd: no password on standard input\n"
    result = run(str(path), "dave", stdin="\n")
    assert result.returncode == 1
    assert result.stderr == "tern-passwd: the password is empty\n"
    assert list(entries(path)) == ["carol"]


def _talk_on_terminal(args, answers):
    """Runs tern-passwd on a pseudo-terminal, answering each prompt; returns (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(passwd_binary(), [passwd_binary(), *args])
    output = b""
    pending = list(answers)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break  # the child closed the terminal
            if not chunk:
                break
            output += chunk
            prompts = output.lower().count(b"password:")
            if pending and prompts > len(answers) - len(pending):
                os.write(fd, pending.pop(0).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_terminal_prompts_twice_without_echo(tmp_path):
    path = tmp_path / "passwd"
    code, output = _talk_on_terminal(["-c", str(path), "erin"], ["hidden pw", "hidden pw"])
    assert code == 0, output
    assert "Password:" in output and "Reenter password:" in output
    assert "hidden pw" not in output
    assert verifies(path, "erin", "hidden pw")


def test_terminal_passwords_must_match(tmp_path):
    path = tmp_path / "passwd"
    code, output = _talk_on_terminal(["-c", str(path), "erin"], ["one", "two"])
    assert code == 1
    assert "tern-passwd: passwords do not match" in output
    assert not path.exists()


def test_interrupt_at_the_prompt_restores_echo(tmp_path):
    path = tmp_path / "passwd"
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(passwd_binary(), [passwd_binary(), "-c", str(path), "erin"])
    try:
        output = b""
        deadline = time.monotonic() + 30
        while b"Password:" not in output and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                output += os.read(fd, 1024)
        assert b"Password:" in output
        assert not termios.tcgetattr(fd)[3] & termios.ECHO
        os.write(fd, b"\x03")  # Ctrl-C: SIGINT from the terminal
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT
        assert termios.tcgetattr(fd)[3] & termios.ECHO
    finally:
        os.close(fd)
    assert not path.exists()


def test_delete(tmp_path):
    path = tmp_path / "passwd"
    assert run("-c", "-b", str(path), "alice", "a").returncode == 0
    assert run("-b", str(path), "bob", "b").returncode == 0
    result = run("-D", str(path), "alice")
    assert result.returncode == 0, result.stderr
    assert list(entries(path)) == ["bob"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    result = run("-D", str(path), "alice")
    assert result.returncode == 1
    assert result.stderr == f"tern-passwd: user 'alice' not found in {path}\n"
    assert list(entries(path)) == ["bob"]


def test_upgrade_hashes_plain_text_and_keeps_hashes_and_comments(tmp_path):
    path = tmp_path / "passwd"
    assert run("-c", "-b", str(path), "hashed", "h").returncode == 0
    hashed_line = path.read_text().splitlines()[0]
    path.write_text(f"# users\nalice: sec ret \nbob:pw:x\n\n{hashed_line}\n")
    result = run("-U", str(path))
    assert result.returncode == 0, result.stderr
    lines = path.read_text().splitlines()
    assert lines[0] == "# users" and lines[3] == "" and lines[4] == hashed_line
    assert lines[1].startswith("alice:$7$101$") and lines[2].startswith("bob:$7$101$")
    assert verifies(path, "alice", "sec ret")  # blanks around the password are dropped
    assert verifies(path, "bob", "pw:x")  # everything after the first ':'
    assert verifies(path, "hashed", "h")
    before = path.read_text()
    assert run("-U", str(path)).returncode == 0
    assert path.read_text() == before  # nothing left to hash


def test_upgrade_errors_name_the_line(tmp_path):
    path = tmp_path / "passwd"
    path.write_text("alice:pw\nbob\n")
    result = run("-U", str(path))
    assert result.returncode == 1
    assert result.stderr == f"tern-passwd: {path}:2: missing ':' after user name\n"
    assert path.read_text() == "alice:pw\nbob\n"
    path.write_text("alice:pw\nalice:other\n")
    result = run("-U", str(path))
    assert result.returncode == 1
    assert result.stderr == f"tern-passwd: {path}:2: duplicate user 'alice' (first on line 1)\n"


def test_a_broken_file_is_not_edited(tmp_path):
    path = tmp_path / "passwd"
    path.write_text("alice:plain\n")
    for args in (["-b", str(path), "bob", "pw"], ["-D", str(path), "alice"]):
        result = run(*args)
        assert result.returncode == 1
        assert result.stderr == (f"tern-passwd: {path}:1: unknown hash format "
                                 "(expected $6$ or $7$)\n")
    assert path.read_text() == "alice:plain\n"


def test_missing_file_needs_create(tmp_path):
    path = tmp_path / "absent"
    result = run("-b", str(path), "alice", "pw")
    assert result.returncode == 1
    assert result.stderr == f"tern-passwd: {path}: No such file or directory (use -c to create it)\n"
    assert not path.exists()


@pytest.mark.parametrize("args, message", [
    ([], "expected FILE and USER, got 0 argument(s)"),
    (["f"], "expected FILE and USER, got 1 argument(s)"),
    (["-b", "f", "u"], "expected FILE, USER and PASSWORD, got 2 argument(s)"),
    (["-U", "f", "u"], "expected FILE, got 2 argument(s)"),
    (["-c", "-D", "f", "u"], "-D cannot be combined with -c, -b or -I"),
    (["-U", "-b", "f"], "-U cannot be combined with -c, -b or -D"),
    (["-b", "f", "a:b", "pw"], "the user name must not contain ':'"),
    (["-b", "f", "", "pw"], "the user name is empty"),
    (["-b", "f", " alice", "pw"], "the user name must not start or end with blanks"),
    (["-b", "f", "#alice", "pw"], "the user name must not start with '#'"),
    (["-b", "f", "a\tb", "pw"], "the user name must not contain control characters"),
    (["-b", "f", "alice", ""], "the password is empty"),
])
def test_bad_arguments_exit_2(tmp_path, args, message):
    result = subprocess.run([passwd_binary(), *args], capture_output=True, text=True,
                            cwd=tmp_path, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith(f"tern-passwd: {message}\nUsage: tern-passwd")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args", [["-I", "0", "-b", "f", "u", "p"], ["-X", "f", "u"],
                                  ["-I", "many", "f", "u"]])
def test_bad_options_exit_2(tmp_path, args):
    result = subprocess.run([passwd_binary(), *args], capture_output=True, text=True,
                            cwd=tmp_path, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("tern-passwd: ")
    assert os.listdir(tmp_path) == []


def test_help_exits_0():
    result = run("--help")
    assert result.returncode == 0
    assert "tern-passwd [-c] [-I ITERATIONS] -b FILE USER PASSWORD" in result.stdout


def _start_mosquitto(workdir, password_file):
    port = free_port()
    config = workdir / "mosquitto.conf"
    lines = ["user root"] if os.geteuid() == 0 else []  # root would drop to a user that
    lines += [f"listener {port} {HOST}", "allow_anonymous false",  # cannot read the 0600 file
              f"password_file {password_file}"]
    config.write_text("\n".join(lines) + "\n")
    log = open(workdir / "mosquitto.log", "wb")
    process = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c",
                                str(config)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((workdir / "mosquitto.log").read_text(errors="replace"))
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("mosquitto did not start listening")


def _publish(port, user, password):
    return subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(port), "-u", user, "-P",
                           password, "-t", "tern/passwd", "-m", "hello"],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.mosquitto_only
def test_mosquitto_accepts_a_tern_passwd_file(tmp_path):
    path = tmp_path / "passwd"
    assert run("-c", "-b", str(path), "alice", "alice pw").returncode == 0
    assert run("-I", "1000", "-b", str(path), "bob", "bob:pw").returncode == 0
    (tmp_path / "plain").write_text("carol:carol pw\n")
    assert run("-U", str(tmp_path / "plain")).returncode == 0
    with path.open("a") as out:
        out.write((tmp_path / "plain").read_text())
    process, port = _start_mosquitto(tmp_path, path)
    try:
        for user, password in (("alice", "alice pw"), ("bob", "bob:pw"), ("carol", "carol pw")):
            result = _publish(port, user, password)
            assert result.returncode == 0, (user, result.stderr)
        for user, password in (("alice", "alice PW"), ("bob", "alice pw"), ("nobody", "x")):
            result = _publish(port, user, password)
            assert result.returncode != 0, user
            assert "not authorised" in result.stderr.lower(), result.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
