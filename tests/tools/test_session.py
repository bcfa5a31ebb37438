"""Persistent sessions (-c), reconnects, wills and signals."""
import signal
import time

import pytest

from toolsupport import pub, start_sub


@pytest.mark.parametrize("version", ["311", "5"])
def test_persistent_subscriber_resubscribes_when_the_broker_lost_the_session(
        own_broker, topic, version):
    broker = own_broker()
    sub = start_sub(broker, "-V", version, "-c", "-i", f"resub-{version}", "-q", "1",
                    "-t", topic, "-C", "2")
    pub(broker, "-V", version, "-q", "1", "-t", topic, "-m", "before")
    sub.wait_stdout(lambda out: out == b"before\n")
    broker.restart()  # no persistence: the session is gone
    sub.wait_stderr("subscribed to", count=2)
    pub(broker, "-V", version, "-q", "1", "-t", topic, "-m", "after")
    assert sub.finish() == (0, b"before\nafter\n", "")
    assert sub.stderr.data.count(b"connected, session present: no") == 2
    assert b"connection lost, will reconnect: " in sub.stderr.data


def test_persistent_subscriber_keeps_a_session_the_broker_kept(own_broker, topic):
    broker = own_broker(persistence=True)
    sub = start_sub(broker, "-c", "-i", "keeper", "-q", "1", "-t", topic, "-C", "2")
    broker.restart()  # the broker saves the session and loads it again
    pub(broker, "-q", "1", "-t", topic, "-m", "queued while away")
    sub.wait_stderr("session present: keeping the existing subscriptions")
    pub(broker, "-q", "1", "-t", topic, "-m", "live")
    assert sub.finish() == (0, b"queued while away\nlive\n", "")
    assert sub.stderr.data.count(b"subscribed to") == 1


def test_persistent_session_survives_between_runs(broker, topic):
    client_id = f"between-runs-{topic.rsplit('/', 1)[1]}"
    first = start_sub(broker, "-c", "-i", client_id, "-q", "1", "-t", topic, "-E", wait=False)
    assert first.finish() == (0, b"", "")
    pub(broker, "-q", "1", "-t", topic, "-m", "stored for you")
    second = start_sub(broker, "-c", "-i", client_id, "-q", "1", "-t", topic, "-C", "1")
    assert second.finish() == (0, b"stored for you\n", "")
    assert b"connected, session present: yes" in second.stderr.data
    # Clean up the session: a clean-session connect with the same id discards it.
    cleanup = start_sub(broker, "-i", client_id, "-t", topic, "-E", wait=False)
    assert cleanup.finish()[0] == 0


def test_persistent_subscriber_gives_up_at_the_timeout(own_broker, topic):
    broker = own_broker()
    sub = start_sub(broker, "-c", "-i", "gives-up", "-t", topic, "-W", "3")
    broker.stop()
    code, out, err = sub.finish()
    assert (code, out, err) == (27, b"", "tern-sub: timed out after 3 s\n")
    assert b"reconnecting in 1 s" in sub.stderr.data


@pytest.mark.parametrize("version", ["311", "5"])
def test_will_is_published_when_the_client_dies(broker, topic, version):
    watcher = start_sub(broker, "-t", f"{topic}/will", "-C", "1", "-v", "-q", "1")
    doomed = start_sub(broker, "-V", version, "-t", f"{topic}/nothing", "--will-topic",
                       f"{topic}/will", "--will-payload", "gone", "--will-qos", "1", "-k", "5")
    doomed.process.send_signal(signal.SIGKILL)
    doomed.finish()
    assert watcher.finish() == (0, f"{topic}/will gone\n".encode(), "")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_signal_disconnects_cleanly_without_will(broker, topic, signal_number):
    watcher = start_sub(broker, "-t", f"{topic}/will", "-W", "2")
    sub = start_sub(broker, "-t", topic, "--will-topic", f"{topic}/will", "--will-payload", "x")
    started = time.monotonic()
    sub.process.send_signal(signal_number)
    assert sub.finish() == (0, b"", "")
    assert time.monotonic() - started < 3
    assert b"disconnected" in sub.stderr.data
    # A normal DISCONNECT discards the will [MQTT-3.1.2-10]: the watcher times out empty.
    assert watcher.finish() == (27, b"", "tern-sub: timed out after 2 s\n")
