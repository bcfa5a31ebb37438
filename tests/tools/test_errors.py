"""Failures: one clear line on stderr and the documented exit code."""
import pytest

from toolsupport import HOST, free_port, pub, run_tool, start_sub

USAGE_LINES = {
    "tern-pub": "Usage: tern-pub {-t topic | -L URL} {-m message | -f file | -s | -l | -n} "
                "[options]\nRun 'tern-pub --help' for all options.\n",
    "tern-sub": "Usage: tern-sub {-t filter... | -L URL} [options]\n"
                "Run 'tern-sub --help' for all options.\n",
}


@pytest.mark.parametrize("tool,extra", [("tern-pub", ["-t", "a", "-m", "x"]),
                                        ("tern-sub", ["-t", "a"])])
def test_connection_refused(tool, extra):
    port = free_port()
    result = run_tool(tool, "-h", HOST, "-p", str(port), *extra)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == \
        f"{tool}: cannot connect to {HOST}:{port}: connection refused\n"


def test_unknown_host():
    result = run_tool("tern-pub", "-h", "no-such-host.invalid", "-t", "a", "-m", "x")
    assert result.returncode == 1
    assert result.stderr.decode().startswith(
        "tern-pub: cannot connect to no-such-host.invalid:1883: unknown host (")
    assert result.stderr.count(b"\n") == 1


def test_quiet_suppresses_the_message():
    result = run_tool("tern-pub", "-h", HOST, "-p", str(free_port()), "-t", "a", "-m", "x",
                      "--quiet")
    assert (result.returncode, result.stderr) == (1, b"")


@pytest.mark.parametrize("args,message", [
    ([], "no topic: use -t or put it in the -L URL"),
    (["-m", "x"], "no topic: use -t or put it in the -L URL"),
    (["-t", "a", "-m", "x", "-n"], "give exactly one of -m, -f, -s, -l or -n"),
    (["-t", "a/#", "-m", "x"], "invalid topic 'a/#': no wildcards, not empty"),
    (["-t", "a", "-m", "x", "-q", "3"], "--qos: Value 3 not in range 0 to 2"),
    (["-t", "a", "-m", "x", "-V", "7"], "-V: unknown protocol version '7' (use 31, 311 or 5)"),
    (["-t", "a", "-m", "x", "--bogus"], "The following argument was not expected: --bogus"),
    (["-t", "a", "-m", "x", "-c"],
     "-c needs a client id (-i): a generated id would not find the session again"),
    (["-t", "a", "-m", "x", "-D", "publish", "content-type", "t"], "-D needs MQTT 5 (-V 5)"),
    (["-V", "5", "-t", "a", "-m", "x", "-D", "publish", "colour", "red"],
     "-D: unknown property 'colour'"),
    (["-V", "5", "-t", "a", "-m", "x", "-D", "connect", "content-type", "t"],
     "-D: property content-type is not allowed in connect"),
    (["-V", "5", "-t", "a", "-m", "x", "-D", "publish", "topic-alias", "0"],
     "-D: topic-alias must be a number from 1 to 65535, not '0'"),
    (["-V", "5", "-t", "a", "-m", "x", "-D", "publish", "user-property", "k"],
     "-D user-property: expected a key and a value"),
    (["-V", "5", "-t", "a", "-m", "x", "-D", "subscribe", "subscription-identifier", "1"],
     "-D: this tool does not send subscribe packets"),
    (["-L", "http://h/t", "-m", "x"],
     "invalid URL: unsupported scheme 'http' (use mqtt, mqtts, ws or wss)"),
    (["-L", "mqtt://h:99999/t", "-m", "x"], "invalid URL: bad port '99999'"),
    (["-L", "mqtt://h/t", "-h", "h", "-m", "x"], "-L cannot be combined with -h or -p"),
    (["-t", "a", "-l", "--repeat", "2"], "--repeat cannot be used with -l"),
    (["-t", "a", "-m", "x", "--insecure"],
     "--insecure needs TLS (--cafile, --capath, mqtts:// or wss://)"),
    (["-t", "a", "-m", "x", "-P", "secret"], "-P needs -u with MQTT 3.1/3.1.1"),
    (["-t", "a", "-m", "x", "--will-qos", "1"],
     "--will-payload, --will-qos and --will-retain need --will-topic"),
])
def test_bad_publish_arguments_exit_2_with_usage(args, message):
    result = run_tool("tern-pub", *args)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == f"tern-pub: {message}\n" + USAGE_LINES["tern-pub"]


@pytest.mark.parametrize("args,message", [
    ([], "no topic: use -t or put it in the -L URL"),
    (["-t", "a/#/b"], "invalid topic filter 'a/#/b'"),
    (["-t", "a", "-T", "x+"], "invalid -T filter 'x+'"),
    (["-t", "a", "-F", "%z"], "-F: unknown field %z"),
    (["-t", "a", "-F", "abc\\q"], "-F: unknown escape \\q"),
    (["-t", "a", "-F", "50%"], "-F: the format ends inside a '%' sequence"),
    (["-t", "a", "-v", "--json"], "use only one of -v, -F and --json"),
    (["-t", "a", "-C", "0"], "--count: Value 0 not in range 1 to 2000000000"),
    (["-t", "a", "-W", "x"], "--timeout: Value x not in range 1 to 31536000"),
    (["-t", "a", "-x", "60"], "-x needs MQTT 5 (-V 5)"),
    (["-V", "5", "-t", "a", "-D", "publish", "content-type", "t"],
     "-D: this tool does not send publish packets"),
])
def test_bad_subscribe_arguments_exit_2_with_usage(args, message):
    result = run_tool("tern-sub", *args)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == f"tern-sub: {message}\n" + USAGE_LINES["tern-sub"]


@pytest.mark.parametrize("tool", ["tern-pub", "tern-sub"])
def test_help_lists_flags_and_exit_codes(tool):
    result = run_tool(tool, "--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert USAGE_LINES[tool].splitlines()[0] + "\n" in text
    for flag in ("-h,--host", "-p,--port", "-L,--url", "-V,--protocol-version", "-D,--property",
                 "--cafile", "--will-topic", "-c,--disable-clean-session"):
        assert flag in text
    assert "Exit status:" in text
    assert "  2   bad command line" in text
    if tool == "tern-sub":
        assert "  27  -W seconds passed before -C messages arrived" in text


def test_missing_file_is_an_io_error():
    result = run_tool("tern-pub", "-t", "a", "-f", "/nonexistent/payload")
    assert result.returncode == 1
    assert result.stderr.decode() == \
        "tern-pub: cannot read '/nonexistent/payload': No such file or directory\n"


def test_connection_lost_without_persistence_exits_1(own_broker, topic):
    broker = own_broker()
    sub = start_sub(broker, "-t", topic)
    broker.stop()
    code, out, err = sub.finish()
    assert (code, out) == (1, b"")
    assert err.startswith("tern-sub: connection lost: ")


@pytest.mark.mosquitto_only
class TestAuthorization:
    """A mosquitto with a password file and an ACL allowing alice only ok/#."""

    @pytest.fixture
    def secured(self, own_broker, tmp_path):
        import subprocess
        passwords = tmp_path / "passwords"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "alice", "secret"],
                       check=True, capture_output=True)
        acl = tmp_path / "acl"
        acl.write_text("user alice\ntopic readwrite ok/#\n")
        return own_broker(extra_config=f"allow_anonymous false\npassword_file {passwords}\n"
                                       f"acl_file {acl}\n")

    @pytest.mark.parametrize("version,code", [("311", "not authorized (0x05)"),
                                              ("5", "not authorized (0x87)")])
    def test_bad_password_names_the_connack_code(self, secured, version, code):
        result = run_tool("tern-pub", "-h", HOST, "-p", str(secured.port), "-V", version,
                          "-u", "alice", "-P", "wrong", "-t", "ok/x", "-m", "x")
        assert result.returncode == 1
        assert result.stderr.decode() == (f"tern-pub: cannot connect to {HOST}:{secured.port}: "
                                          f"broker refused the connection: {code}\n")

    def test_good_password_works_also_from_url(self, secured):
        pub(secured, "-u", "alice", "-P", "secret", "-t", "ok/x", "-m", "x")
        result = run_tool("tern-pub", "-L", f"mqtt://alice:secret@{HOST}:{secured.port}/ok/y",
                          "-m", "x")
        assert (result.returncode, result.stderr) == (0, b"")

    def test_rejected_publish_names_the_reason_code(self, secured):
        result = run_tool("tern-pub", "-h", HOST, "-p", str(secured.port), "-V", "5", "-q", "1",
                          "-u", "alice", "-P", "secret", "-t", "denied/x", "-m", "x")
        assert result.returncode == 1
        assert result.stderr.decode() == "tern-pub: publish rejected: Not authorized (0x87)\n"
