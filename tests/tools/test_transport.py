"""-L URLs, TLS (--cafile, --insecure, mqtts://) and MQTT over WebSocket (ws://)."""
import pytest

from toolsupport import HOST, Tool, pub, run_tool, start_sub, tool_path


def test_url_gives_host_port_and_topic(broker, topic):
    sub = start_sub(broker, "-t", topic, "-C", "1", "-v")
    result = run_tool("tern-pub", "-L", f"mqtt://{HOST}:{broker.port}/{topic}", "-m", "via url")
    assert (result.returncode, result.stderr) == (0, b"")
    assert sub.finish() == (0, f"{topic} via url\n".encode(), "")


def test_url_topic_is_percent_decoded_for_subscribers(broker, topic):
    url = f"mqtt://{HOST}:{broker.port}/{topic}/%23"
    sub = Tool([tool_path("tern-sub"), "-d", "-L", url, "-C", "1", "-v"])
    sub.wait_stderr(f"subscribed to '{topic}/#'")
    pub(broker, "-t", f"{topic}/deep/er", "-m", "hash")
    assert sub.finish() == (0, f"{topic}/deep/er hash\n".encode(), "")


def test_url_with_unencoded_hash_in_the_path(broker, topic):
    sub = Tool([tool_path("tern-sub"), "-d", "-L", f"mqtt://{HOST}:{broker.port}/{topic}/#",
                "-C", "1", "-v"])
    sub.wait_stderr(f"subscribed to '{topic}/#'")
    pub(broker, "-t", f"{topic}/x", "-m", "1")
    assert sub.finish() == (0, f"{topic}/x 1\n".encode(), "")


@pytest.mark.mosquitto_only
class TestTls:
    @pytest.fixture
    def tls_broker(self, own_broker, tls_files):
        return own_broker(tls_dir=tls_files / "good", wrong_tls_dir=tls_files / "wrong")

    def test_round_trip_over_tls_with_cafile(self, tls_broker, tls_files, topic):
        cafile = str(tls_files / "ca.crt")
        sub = start_sub(tls_broker, "--cafile", cafile, "-t", topic, "-C", "1",
                        port=tls_broker.tls_port)
        pub(tls_broker, "--cafile", cafile, "-t", topic, "-m", "secret", port=tls_broker.tls_port)
        assert sub.finish() == (0, b"secret\n", "")

    def test_mqtts_url(self, tls_broker, tls_files, topic):
        sub = start_sub(tls_broker, "-t", topic, "-C", "1")
        result = run_tool("tern-pub", "--cafile", str(tls_files / "ca.crt"), "-L",
                          f"mqtts://localhost:{tls_broker.tls_port}/{topic}", "-m", "tls url")
        assert (result.returncode, result.stderr) == (0, b"")
        assert sub.finish() == (0, b"tls url\n", "")

    def test_untrusted_certificate(self, tls_broker, tls_files):
        result = run_tool("tern-pub", "-h", HOST, "-p", str(tls_broker.tls_port), "--cafile",
                          str(tls_files / "other" / "ca.crt"), "-t", "a", "-m", "x")
        assert result.returncode == 1
        assert result.stderr.decode().startswith(
            f"tern-pub: cannot connect to {HOST}:{tls_broker.tls_port}: TLS handshake failed: "
            "certificate verify failed: ")

    def test_host_name_mismatch_and_insecure(self, tls_broker, tls_files, topic):
        args = ["-h", HOST, "-p", str(tls_broker.wrong_tls_port), "--cafile",
                str(tls_files / "ca.crt"), "-t", topic, "-m", "x"]
        result = run_tool("tern-pub", *args)
        assert result.returncode == 1
        assert result.stderr.decode() == (
            f"tern-pub: cannot connect to {HOST}:{tls_broker.wrong_tls_port}: TLS handshake "
            "failed: certificate verify failed: IP address mismatch\n")
        result = run_tool("tern-pub", *args, "--insecure")
        assert (result.returncode, result.stderr) == (0, b"")

    def test_tls_to_a_plain_listener(self, tls_broker, tls_files):
        result = run_tool("tern-pub", "-h", HOST, "-p", str(tls_broker.port), "--cafile",
                          str(tls_files / "ca.crt"), "-t", "a", "-m", "x")
        assert result.returncode == 1
        assert result.stderr.decode().startswith(
            f"tern-pub: cannot connect to {HOST}:{tls_broker.port}: TLS handshake failed")

    def test_unreadable_cafile(self, tls_broker):
        result = run_tool("tern-pub", "-h", HOST, "-p", str(tls_broker.tls_port), "--cafile",
                          "/nonexistent/ca.crt", "-t", "a", "-m", "x")
        assert result.returncode == 1
        assert result.stderr.decode() == \
            "tern-pub: cannot read --cafile '/nonexistent/ca.crt': No such file or directory\n"


@pytest.mark.mosquitto_only
def test_websocket_url_round_trip(own_broker, topic):
    broker = own_broker(websockets=True)
    sub = Tool([tool_path("tern-sub"), "-d", "-L", f"ws://{HOST}:{broker.ws_port}/{topic}",
                "-V", "5", "-C", "1", "-v"])
    sub.wait_stderr("subscribed to")
    result = run_tool("tern-pub", "-L", f"ws://{HOST}:{broker.ws_port}/{topic}", "-m", "over ws")
    assert (result.returncode, result.stderr) == (0, b"")
    assert sub.finish() == (0, f"{topic} over ws\n".encode(), "")
    assert f"connecting to ws://{HOST}:{broker.ws_port}/mqtt as".encode() in sub.stderr.data


@pytest.mark.mosquitto_only
def test_websocket_url_to_a_plain_listener(own_broker):
    broker = own_broker()
    result = run_tool("tern-pub", "-L", f"ws://{HOST}:{broker.port}/t", "-m", "x")
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"tern-pub: cannot connect to {HOST}:{broker.port}: WebSocket handshake failed or the "
        "connection closed before CONNACK\n")
