"""pytest fixtures: a real broker (tern, or mosquitto as the reference) per test, and clients.

Every test using `broker`/`make_broker` runs twice: with 1 and with 4 worker threads (w1, w4).
Tests marked tern_only are skipped under TERN_TEST_BROKER=mosquitto (unless TERN_TEST_ALL=1).

  TERN_BIN=/path/to/tern /usr/bin/python3 -m pytest -q tests/integration
  TERN_TEST_BROKER=mosquitto /usr/bin/python3 -m pytest -q tests/integration   # the reference
"""

import sys
from pathlib import Path

# tests/support: helpers both suites share (ports.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

import os

import pytest

from broker_process import IS_MOSQUITTO, Broker
from helpers import Watcher
from mqtt_client import PROTO_IDS


def pytest_configure(config):
    config.addinivalue_line("markers", "tern_only: tern-specific behaviour; skipped under "
                            "TERN_TEST_BROKER=mosquitto")


def pytest_collection_modifyitems(config, items):
    # TERN_TEST_ALL=1 runs tern-only tests against mosquitto too, to see where it deviates.
    if not IS_MOSQUITTO or os.environ.get("TERN_TEST_ALL") == "1":
        return
    skip = pytest.mark.skip(reason="tern-only behaviour (TERN_TEST_BROKER=mosquitto)")
    for item in items:
        if "tern_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=[1, 4], ids=["w1", "w4"])
def workers(request):
    return request.param


@pytest.fixture
def make_broker(workers, tmp_path):
    """Factory: make_broker(**overrides, extra_args=(), config_text=None, start=True)."""
    brokers = []

    def factory(extra_args=(), config_text=None, start=True, **overrides):
        directory = tmp_path / ("broker%d" % len(brokers))
        directory.mkdir()
        broker = Broker(directory, workers, overrides, extra_args, config_text)
        brokers.append(broker)
        if start:
            broker.start()
        return broker

    yield factory
    errors = []
    for broker in brokers:
        try:
            broker.finish()
        except BaseException as exc:  # report every broker, not just the first failure
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def broker(make_broker):
    return make_broker()


@pytest.fixture
def clients():
    """Tracks paho clients so teardown stops their threads even when a test fails."""
    made = []

    class Factory:
        def __call__(self, broker, client_id="", proto=4, connect=True, **kwargs):
            client = broker.client(client_id, proto, **kwargs)
            made.append(client)
            if connect:
                client.connect()
            return client

    yield Factory()
    for client in made:
        client.stop()


@pytest.fixture
def raws():
    """Tracks raw clients so teardown closes their sockets."""
    made = []

    class Factory:
        def __call__(self, broker, proto=4, timeout=5.0):
            raw = broker.raw(proto, timeout)
            made.append(raw)
            return raw

    yield Factory()
    for raw in made:
        raw.close()


@pytest.fixture(params=[4, 5], ids=[PROTO_IDS[4], PROTO_IDS[5]])
def proto(request):
    """Protocol level for behaviour that exists in both MQTT 3.1.1 and 5."""
    return request.param


@pytest.fixture
def watcher_for():
    """watcher_for(broker): a Watcher connected now; stopped at teardown."""
    made = []

    def factory(broker):
        watcher = Watcher(broker)
        made.append(watcher)
        return watcher

    yield factory
    for watcher in made:
        watcher.client.stop()
