"""tern-pub and tern-sub against mosquitto's own clients."""
import json
import shutil
import subprocess

import pytest

from toolsupport import HOST, TIMEOUT, Tool, pub, start_sub

pytestmark = pytest.mark.skipif(shutil.which("mosquitto_sub") is None,
                                reason="mosquitto-clients is not installed")


def mosquitto_sub_lines(broker, topic, count, *args):
    """Starts mosquitto_sub -d, waits for its SUBACK and returns the tool."""
    # stdbuf: mosquitto_sub's stdout is a pipe here, so line-buffer it to see the SUBACK line.
    sub = Tool(["stdbuf", "-oL", "mosquitto_sub", "-d", "-h", HOST, "-p", str(broker.port),
                "-t", topic, "-C", str(count), *args])
    sub.wait_stdout(lambda out: b"received SUBACK" in out)
    return sub


def without_debug(output):
    """mosquitto_sub -d output without its "Client ..." and "Subscribed ..." lines."""
    return [line for line in output.decode().splitlines()
            if not line.startswith(("Client ", "Subscribed ("))]


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_tern_pub_to_mosquitto_sub(broker, topic, version):
    sub = mosquitto_sub_lines(broker, topic, 2, "-V", version, "-q", "1", "-F", "%t|%q|%p")
    pub(broker, "-V", version, "-t", topic, "-q", "1", "-m", "first")
    pub(broker, "-V", version, "-t", topic, "-q", "0", "-m", "second")
    code, out, _ = sub.finish()
    assert code == 0
    assert without_debug(out) == [f"{topic}|1|first", f"{topic}|0|second"]


def test_tern_pub_properties_to_mosquitto_sub(broker, topic):
    sub = mosquitto_sub_lines(broker, topic, 1, "-V", "mqttv5", "-F", "%p|%P|%C|%R|%D")
    pub(broker, "-V", "5", "-t", topic, "-m", "props",
        "-D", "publish", "user-property", "k", "v",
        "-D", "publish", "content-type", "text/plain",
        "-D", "publish", "response-topic", "reply/here",
        "-D", "publish", "correlation-data", "c-1")
    code, out, _ = sub.finish()
    assert code == 0
    assert without_debug(out) == ["props|k:v|text/plain|reply/here|c-1"]


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_mosquitto_pub_to_tern_sub(broker, topic, version):
    sub = start_sub(broker, "-V", version, "-t", topic, "-q", "2", "-C", "2", "-F", "%q %p")
    expected = b""
    for qos, payload in (("2", "from mosquitto"), ("1", "again")):
        subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(broker.port), "-V", version,
                        "-t", topic, "-q", qos, "-m", payload], check=True, timeout=TIMEOUT)
        # Wait for each: QoS 1 and 2 deliveries complete at different times, so their relative
        # order is not fixed.
        expected += f"{qos} {payload}\n".encode()
        sub.wait_stdout(lambda out, wanted=expected: out == wanted)
    assert sub.finish() == (0, expected, "")


def test_mosquitto_pub_properties_to_tern_sub_json(broker, topic):
    sub = start_sub(broker, "-V", "5", "-t", topic, "-C", "1", "--json")
    subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(broker.port), "-V", "mqttv5",
                    "-t", topic, "-m", "hi", "-D", "publish", "user-property", "a", "b",
                    "-D", "publish", "content-type", "ct", "-D", "publish", "response-topic",
                    "rt"], check=True, timeout=TIMEOUT)
    code, out, err = sub.finish()
    assert (code, err) == (0, "")
    assert json.loads(out) == {"topic": topic, "payload": "hi", "qos": 0, "retain": False,
                               "properties": {"content_type": "ct",
                                              "user_properties": [["a", "b"]],
                                              "response_topic": "rt"}}
