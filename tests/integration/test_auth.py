"""Authentication and authorization: password file, ACL rules, SIGHUP reload, start-up rules."""

import signal
import subprocess
import time

import pytest

import mqtt_raw as raw
from broker_process import IS_MOSQUITTO

# A subscriber reading everything but $SYS, a publisher writing everything, and alice whose
# rules exercise every rule kind.
ACL = """\
user alice
topic read r/#
topic write w/#
topic readwrite rw/#
topic deny rw/secret

user pub
topic write #

user sys
topic read $SYS/#

pattern readwrite clients/%c/#
pattern read users/%u/#
"""

USERS = {"alice": "alice-pw", "pub": "pub-pw", "sys": "sys-pw"}

# MQTT 5 reason codes and their MQTT 3.1.1 equivalents. Tests marked tern_only check what Tern
# does differently from Mosquitto 2.0.11: Mosquitto answers bad credentials with 0x87 (not 0x86)
# and grants every SUBSCRIBE, checking ACLs only per delivered message.
BAD_CREDENTIALS = {4: 0x04, 5: 0x86}
NOT_AUTHORIZED = {4: 0x05, 5: 0x87}
SUBACK_REFUSED = {4: 0x80, 5: 0x87}


def mosquitto_passwd(path, user, password, create=False):
    """Debian's mosquitto_passwd writes the file (tern reads its "$7$" PBKDF2 hashes)."""
    args = ["mosquitto_passwd"] + (["-c"] if create else []) + ["-b", str(path), user, password]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def password_file(directory, users):
    path = directory / "passwd"
    for index, (user, password) in enumerate(users.items()):
        mosquitto_passwd(path, user, password, create=index == 0)
    return path


@pytest.fixture
def auth_broker(make_broker, tmp_path):
    """A broker with USERS and ACL."""
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    passwd = password_file(tmp_path, USERS)
    return make_broker(auth={"password_file": str(passwd), "acl_file": str(acl)})


def login(raws, broker, proto, user, client_id=None):
    conn = raws(broker, proto)
    ack = conn.connect(client_id or user + "-c", username=user, password=USERS[user])
    assert ack.rc == 0, ack
    return conn


def expect_refused(raws, broker, proto, code, **kwargs):
    conn = raws(broker, proto)
    started = time.monotonic()
    conn.send(raw.connect("refused-c", proto=proto, **kwargs))
    got = conn.wait_closed(timeout=5.0)
    elapsed = time.monotonic() - started
    assert [p.type for p in got] == [raw.CONNACK], got
    assert got[0].rc == code, got
    return elapsed


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.tern_only
def test_wrong_password_is_refused(auth_broker, raws, proto):
    expect_refused(raws, auth_broker, proto, BAD_CREDENTIALS[proto], username="alice",
                   password="wrong")


@pytest.mark.tern_only
def test_unknown_user_is_refused(auth_broker, raws, proto):
    expect_refused(raws, auth_broker, proto, BAD_CREDENTIALS[proto], username="mallory",
                   password="alice-pw")


@pytest.mark.tern_only
def test_user_name_without_password_is_refused(auth_broker, raws, proto):
    expect_refused(raws, auth_broker, proto, BAD_CREDENTIALS[proto], username="alice")


def test_missing_credentials_are_refused_with_a_password_file(auth_broker, raws, proto):
    # With a password file, anonymous access must be asked for explicitly.
    expect_refused(raws, auth_broker, proto, NOT_AUTHORIZED[proto])


def test_anonymous_refused_when_not_allowed(make_broker, raws, proto):
    broker = make_broker(auth={"allow_anonymous": False})
    expect_refused(raws, broker, proto, NOT_AUTHORIZED[proto])


@pytest.mark.tern_only
def test_failed_authentication_is_answered_after_a_delay(auth_broker, raws, proto):
    elapsed = expect_refused(raws, auth_broker, proto, BAD_CREDENTIALS[proto], username="alice",
                             password="wrong")
    assert elapsed >= 0.8, elapsed
    # The delay holds only that connection: a good login is answered at once.
    started = time.monotonic()
    login(raws, auth_broker, proto, "alice")
    assert time.monotonic() - started < 0.5


def test_correct_credentials_from_mosquitto_passwd_are_accepted(auth_broker, raws, proto):
    conn = login(raws, auth_broker, proto, "pub")
    assert conn.is_open()


@pytest.mark.tern_only
def test_anonymous_allowed_explicitly_with_a_password_file(make_broker, raws, proto, tmp_path):
    passwd = password_file(tmp_path, {"alice": "alice-pw"})
    broker = make_broker(auth={"allow_anonymous": True, "password_file": str(passwd)})
    assert raws(broker, proto).connect("anon").rc == 0
    expect_refused(raws, broker, proto, BAD_CREDENTIALS[proto], username="alice", password="x")


@pytest.mark.tern_only
def test_will_topic_must_be_writable(auth_broker, raws, proto):
    expect_refused(raws, auth_broker, proto, NOT_AUTHORIZED[proto], username="alice",
                   password="alice-pw", will={"topic": "r/will", "payload": b"x"})
    conn = raws(auth_broker, proto)
    ack = conn.connect("alice-w", username="alice", password="alice-pw",
                       will={"topic": "w/will", "payload": b"x"})
    assert ack.rc == 0, ack


# --- authorization --------------------------------------------------------------------------------


def test_publish_needs_write_access(auth_broker, raws, proto):
    reader = login(raws, auth_broker, 5, "sys", "reader")  # reads only $SYS
    watcher = login(raws, auth_broker, proto, "alice")
    assert watcher.subscribe([("r/#", 1), ("rw/#", 1)]).codes == [1, 1]
    publisher = login(raws, auth_broker, proto, "alice", "alice-p")
    # r/# is read-only for alice: refused with 0x87 in MQTT 5, silently dropped in 3.1.1.
    for qos in (1, 2):
        ack = publisher.publish_acked("r/denied", b"no", qos=qos)
        assert ack.rc == (0x87 if proto == 5 else 0), ack
    publisher.publish("r/denied", b"no", qos=0)
    # rw/# is writable and readable.
    assert publisher.publish_acked("rw/ok", b"yes", qos=1).rc == 0
    got = watcher.recv_publish()
    assert (got.topic, got.payload) == ("rw/ok", b"yes")
    watcher.expect_nothing(0.3)
    reader.expect_nothing(0.1)


@pytest.mark.tern_only
def test_write_only_topic_is_not_readable(auth_broker, raws, proto):
    alice = login(raws, auth_broker, proto, "alice")
    assert alice.subscribe([("w/#", 0), ("r/#", 0)]).codes == [SUBACK_REFUSED[proto], 0]
    pub = login(raws, auth_broker, proto, "pub")
    pub.publish_acked("w/x", b"1", qos=1)
    pub.publish_acked("r/x", b"2", qos=1)
    got = alice.recv_publish()
    assert (got.topic, got.payload) == ("r/x", b"2")
    alice.expect_nothing(0.3)


@pytest.mark.tern_only
def test_deny_beats_readwrite(auth_broker, raws, proto):
    alice = login(raws, auth_broker, proto, "alice")
    assert alice.subscribe([("rw/#", 1)]).codes == [1]
    assert alice.subscribe([("rw/secret", 1)]).codes == [SUBACK_REFUSED[proto]]
    ack = alice.publish_acked("rw/secret", b"x", qos=1)
    assert ack.rc == (0x87 if proto == 5 else 0)
    pub = login(raws, auth_broker, proto, "pub")
    pub.publish_acked("rw/secret", b"hidden", qos=1)
    pub.publish_acked("rw/open", b"seen", qos=1)
    got = alice.recv_publish()
    assert (got.topic, got.payload) == ("rw/open", b"seen")
    alice.expect_nothing(0.3)


@pytest.mark.tern_only
def test_pattern_with_client_id(auth_broker, raws, proto):
    alice = login(raws, auth_broker, proto, "alice", "dev1")
    assert alice.subscribe([("clients/dev1/#", 1), ("clients/dev2/#", 1)]).codes == [
        1, SUBACK_REFUSED[proto]]
    alice.publish("clients/dev1/state", b"on", qos=0)  # own topic: written and read back
    got = alice.recv_publish()
    assert (got.topic, got.payload) == ("clients/dev1/state", b"on")
    ack = alice.publish_acked("clients/dev2/state", b"on", qos=1)
    assert ack.rc == (0x87 if proto == 5 else 0)
    alice.expect_nothing(0.3)


def test_pattern_with_user_name_checked_per_message(auth_broker, raws, proto):
    alice = login(raws, auth_broker, proto, "alice")
    # A wildcard filter is granted; each message is checked against alice's own user name.
    assert alice.subscribe([("users/+/inbox", 1)]).codes == [1]
    pub = login(raws, auth_broker, proto, "pub")
    pub.publish_acked("users/bob/inbox", b"for bob", qos=1)
    pub.publish_acked("users/alice/inbox", b"for alice", qos=1)
    got = alice.recv_publish()
    assert (got.topic, got.payload) == ("users/alice/inbox", b"for alice")
    alice.expect_nothing(0.3)


def test_retained_messages_need_read_access(auth_broker, raws, proto):
    pub = login(raws, auth_broker, proto, "pub")
    pub.publish_acked("users/bob/status", b"bob", qos=1, retain=True)
    pub.publish_acked("users/alice/status", b"alice", qos=1, retain=True)
    alice = login(raws, auth_broker, proto, "alice")
    assert alice.subscribe([("users/+/status", 1)]).codes == [1]
    got = alice.recv_publish()
    assert (got.topic, got.payload, got.retain) == ("users/alice/status", b"alice", True)
    alice.expect_nothing(0.3)


@pytest.mark.tern_only
def test_sys_needs_a_rule(auth_broker, raws, proto):
    alice = login(raws, auth_broker, proto, "alice")
    assert alice.subscribe([("$SYS/#", 0)]).codes == [SUBACK_REFUSED[proto]]
    sys_reader = login(raws, auth_broker, proto, "sys")
    assert sys_reader.subscribe([("$SYS/broker/uptime", 0)]).codes == [0]
    got = sys_reader.recv_publish(timeout=5.0)
    assert got.topic == "$SYS/broker/uptime"
    alice.expect_nothing(0.2)


@pytest.mark.tern_only
def test_auth_failures_are_counted_in_sys(auth_broker, raws, proto):
    expect_refused(raws, auth_broker, proto, BAD_CREDENTIALS[proto], username="alice",
                   password="wrong")
    sys_reader = login(raws, auth_broker, proto, "sys")
    assert sys_reader.subscribe([("$SYS/broker/clients/auth_failures", 0)]).codes == [0]
    got = sys_reader.recv_publish(timeout=5.0)
    assert got.payload == b"1"
    assert "alice-pw" not in auth_broker.stderr() and "wrong" not in auth_broker.stderr()


# --- SIGHUP reload --------------------------------------------------------------------------------


def wait_for_log(broker, text, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while broker.stderr().count(text) < count:
        assert time.monotonic() < deadline, "no %r in the log:\n%s" % (text, broker.stderr())
        time.sleep(0.05)


@pytest.mark.tern_only
def test_sighup_reloads_password_file_and_acl(make_broker, raws, proto, tmp_path):
    passwd = password_file(tmp_path, {"alice": "alice-pw"})
    acl = tmp_path / "acl"
    acl.write_text("user alice\ntopic read r/#\n")
    broker = make_broker(auth={"password_file": str(passwd), "acl_file": str(acl)})
    expect_refused(raws, broker, proto, BAD_CREDENTIALS[proto], username="carol",
                   password="carol-pw")
    alice = login(raws, broker, proto, "alice")
    assert alice.subscribe([("new/#", 0)]).codes == [SUBACK_REFUSED[proto]]

    mosquitto_passwd(passwd, "carol", "carol-pw")
    acl.write_text("user alice\ntopic read r/#\ntopic read new/#\n\nuser carol\ntopic write #\n")
    broker.proc.send_signal(signal.SIGHUP)
    wait_for_log(broker, "ACL rules from", 1)
    carol = raws(broker, proto)
    assert carol.connect("carol-c", username="carol", password="carol-pw").rc == 0
    assert alice.subscribe([("new/#", 1)]).codes == [1]
    carol.publish_acked("new/x", b"after reload", qos=1)
    got = alice.recv_publish()
    assert (got.topic, got.payload) == ("new/x", b"after reload")

    # Broken files: the previous rules stay, the broker keeps running and says why.
    passwd.write_text("no colon here\n")
    acl.write_text("topic sometimes x\n")
    broker.proc.send_signal(signal.SIGHUP)
    wait_for_log(broker, "not reloaded", 2)
    assert broker.proc.poll() is None
    again = raws(broker, proto)
    assert again.connect("carol-2", username="carol", password="carol-pw").rc == 0
    again.publish_acked("new/y", b"still", qos=1)
    got = alice.recv_publish()
    assert (got.topic, got.payload) == ("new/y", b"still")
    assert "passwd:1:" in broker.stderr()


# --- start-up rules ----------------------------------------------------------------------------


@pytest.mark.tern_only
def test_anonymous_on_non_loopback_listener_must_be_explicit(make_broker):
    broker = make_broker(start=False, listen_address="0.0.0.0")
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().strip() == (
        "%s: auth.allow_anonymous: anonymous access on a non-loopback listener 0.0.0.0:%d must "
        "be allowed explicitly (set allow_anonymous = true or configure a password_file)" % (
            broker.config_path, broker.port))


def test_anonymous_on_non_loopback_listener_allowed_explicitly(make_broker, raws, proto):
    broker = make_broker(listen_address="0.0.0.0", auth={"allow_anonymous": True})
    assert raws(broker, proto).connect("anon").rc == 0  # connects through 127.0.0.1


@pytest.mark.tern_only
def test_bad_password_file_at_start_exits_2(make_broker, tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("# users\nalice\n")
    broker = make_broker(start=False, auth={"password_file": str(passwd)})
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().startswith("%s:2: " % passwd), broker.stderr()


@pytest.mark.tern_only
def test_offline_session_keeps_its_user_name_across_a_restart(make_broker, raws, proto, tmp_path):
    """Messages routed to a persistent session while it is offline are checked against the ACL
    with the user name it connected with, also after a restart (the name is stored with it)."""
    from test_durability import configure_storage, connect_session

    acl = tmp_path / "acl"
    acl.write_text(ACL)
    passwd = password_file(tmp_path, USERS)
    broker = make_broker(start=False, sys_interval=0)
    configure_storage(broker, "async")
    with open(broker.config_path, "a") as config:
        config.write('[auth]\npassword_file = "%s"\nacl_file = "%s"\n' % (passwd, acl))
    broker.start()

    def alice_session(present):
        conn = raws(broker, proto)
        props = [(raw.SESSION_EXPIRY_INTERVAL, 300)] if proto == 5 else []
        ack = conn.connect("alice-persistent", clean=False, props=props, username="alice",
                           password=USERS["alice"])
        assert (ack.rc, ack.session_present) == (0, present)
        return conn

    alice = alice_session(False)
    assert alice.subscribe([("r/#", 1), ("users/+/inbox", 1)]).codes == [1, 1]
    alice.disconnect()
    broker.restart()

    pub = login(raws, broker, proto, "pub")
    pub.publish_acked("r/offline", b"readable by alice", qos=1)
    pub.publish_acked("users/bob/inbox", b"not for alice", qos=1)
    pub.publish_acked("users/alice/inbox", b"for alice", qos=1)
    alice = alice_session(True)
    got = [(p.topic, p.payload) for p in (alice.recv_publish(), alice.recv_publish())]
    assert got == [("r/offline", b"readable by alice"), ("users/alice/inbox", b"for alice")]
    alice.expect_nothing(0.3)
