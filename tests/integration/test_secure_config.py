"""configs/secure.toml as shipped: it loads, and its authentication, ACL and limits are enforced.

The file is copied with only what a deployment changes: the port (a free one), the data
directory, the worker count, and the paths of the password file (made by Debian's
mosquitto_passwd, as tern-passwd would) and of the ACL (configs/secure/acl, unchanged).
"""

import re
from pathlib import Path

import pytest

import mqtt_raw as raw
from test_auth import mosquitto_passwd

pytestmark = pytest.mark.tern_only  # a Tern configuration file

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
USERS = {"sensor-1": "s1-secret", "sensor-2": "s2-secret", "backend": "b-secret"}


def substitute(text, key, value):
    """Replaces the single active `key = ...` line; fails if the file no longer has it."""
    pattern = re.compile(r"^%s = .*$" % re.escape(key), re.MULTILINE)
    text, count = pattern.subn(lambda _: "%s = %s" % (key, value), text)
    assert count == 1, "configs/secure.toml: expected one active '%s' line" % key
    return text


@pytest.fixture
def secure_broker(make_broker, tmp_path, workers):
    passwd = tmp_path / "passwd"
    for index, (user, password) in enumerate(USERS.items()):
        mosquitto_passwd(passwd, user, password, create=index == 0)
    broker = make_broker(start=False)
    text = (CONFIGS / "secure.toml").read_text()
    text = substitute(text, "port", str(broker.port))
    text = substitute(text, "workers", str(workers))
    text = substitute(text, "data_dir", '"%s"' % broker.data_dir)
    text = substitute(text, "password_file", '"%s"' % passwd)
    text = substitute(text, "acl_file", '"%s"' % (CONFIGS / "secure" / "acl"))
    broker.config_path.write_text(text)
    return broker.start()


def login(raws, broker, user, client_id=None, proto=5):
    conn = raws(broker, proto)
    ack = conn.connect(client_id or user, username=user, password=USERS[user])
    assert ack.rc == 0, ack
    return conn


def refused(raws, broker, proto, **kwargs):
    conn = raws(broker, proto)
    conn.send(raw.connect("intruder", proto=proto, **kwargs))
    got = conn.wait_closed(timeout=5.0)
    assert [p.type for p in got] == [raw.CONNACK], got
    return got[0].rc


def test_secure_config_requires_valid_credentials(secure_broker, raws, proto):
    not_authorized = {4: 0x05, 5: 0x87}[proto]
    bad_credentials = {4: 0x04, 5: 0x86}[proto]
    assert refused(raws, secure_broker, proto) == not_authorized  # anonymous
    assert refused(raws, secure_broker, proto, username="sensor-1",
                   password="wrong") == bad_credentials
    assert refused(raws, secure_broker, proto, username="nobody",
                   password="s1-secret") == bad_credentials
    login(raws, secure_broker, "sensor-1", proto=proto).disconnect()


def test_secure_config_applies_the_example_acl(secure_broker, raws):
    backend = login(raws, secure_broker, "backend")
    assert backend.subscribe([("sensors/#", 1), ("$SYS/broker/uptime", 0)]).codes == [1, 0]
    assert backend.recv_publish().topic == "$SYS/broker/uptime"  # retained statistics
    sensor = login(raws, secure_broker, "sensor-1")
    assert sensor.subscribe([("commands/sensor-1/#", 1), ("sensors/#", 1)]).codes == [1, 0x87]

    assert sensor.publish_acked("sensors/sensor-1/temp", b"21.5", qos=1).rc == 0
    msg = backend.recv_publish()
    assert (msg.topic, msg.payload) == ("sensors/sensor-1/temp", b"21.5")
    # Another device's topic, and commands, are not the sensor's to write.
    assert sensor.publish_acked("sensors/sensor-2/temp", b"-40", qos=1).rc == 0x87
    assert sensor.publish_acked("commands/sensor-1/set", b"x", qos=1).rc == 0x87
    backend.expect_nothing(0.3)

    assert backend.publish_acked("commands/sensor-1/set", b"on", qos=1).rc == 0
    assert sensor.recv_publish().payload == b"on"
    # The deny rule beats the backend's write access to commands/#.
    assert backend.publish_acked("commands/sensor-1/firmware", b"evil", qos=1).rc == 0x87
    sensor.expect_nothing(0.3)


def test_secure_config_limits_are_on(secure_broker, raws):
    sensor = login(raws, secure_broker, "sensor-2")
    # max_topic_levels = 16
    deep = "sensors/sensor-2/" + "/".join("l%d" % i for i in range(15))
    sensor.publish(deep, b"x", qos=1)
    sensor.expect_disconnect(0x90)  # Topic Name invalid
    # max_publish_rate = 100 with a burst of one second's worth: 100 PUBLISHes in a row pass,
    # the 101st gets Quota exceeded.
    backend = login(raws, secure_broker, "backend")
    assert backend.subscribe([("sensors/sensor-2/#", 0)]).codes == [0]
    sensor = login(raws, secure_broker, "sensor-2", client_id="sensor-2b")
    sensor.send(b"".join(raw.publish("sensors/sensor-2/t", b"%d" % i, proto=5)
                         for i in range(100))
                + raw.publish("sensors/sensor-2/t", b"over", qos=1, packet_id=1, proto=5))
    assert sensor.recv_type(raw.PUBACK).rc == 0x97
    assert [backend.recv_publish().payload for _ in range(100)] == [b"%d" % i
                                                                  for i in range(100)]
    backend.expect_nothing(0.3)
