"""Fixtures for the tool suites: a shared broker, per-test brokers, unique topics, TLS files."""
import sys
from pathlib import Path

# tests/support: helpers both suites share (ports.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))

import subprocess
import uuid

import pytest

from toolsupport import Broker, broker_kind, kill_leftover_tools


def pytest_configure(config):
    config.addinivalue_line("markers", "mosquitto_only: needs a mosquitto-specific listener")


def pytest_collection_modifyitems(config, items):
    if broker_kind() == "mosquitto":
        return
    skip = pytest.mark.skip(reason="needs mosquitto (auth, TLS, WebSocket or persistence)")
    for item in items:
        if "mosquitto_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def reap_tools():
    """No tool outlives its test, even when the test fails half-way."""
    yield
    kill_leftover_tools()


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """One plain broker shared by the tests of a module (they use distinct topics)."""
    instance = Broker(tmp_path_factory.mktemp("broker")).start()
    yield instance
    instance.stop()


@pytest.fixture
def own_broker(tmp_path):
    """A factory for brokers this test alone uses (restarts, auth, TLS, ...)."""
    started = []

    def make(**options):
        instance = Broker(tmp_path / f"broker{len(started)}", **options).start()
        started.append(instance)
        return instance

    yield make
    for instance in started:
        instance.stop()


@pytest.fixture
def topic(request):
    """A topic no other test uses."""
    return f"tools/{request.node.name.replace('[', '_').replace(']', '')}/{uuid.uuid4().hex[:8]}"


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A test CA, a server certificate for 127.0.0.1/localhost (dir "good") and one naming
    another host (dir "wrong"), both signed by the CA."""
    root = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(root / "ca.key"),
             "-out", str(root / "ca.crt"), "-days", "2", "-subj", "/CN=Tern Test CA")
    for name, alt_names in (("good", "DNS:localhost,IP:127.0.0.1"),
                            ("wrong", "DNS:other.example")):
        directory = root / name
        directory.mkdir()
        (directory / "ext.cnf").write_text(f"subjectAltName={alt_names}\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                 str(directory / "server.key"), "-out", str(directory / "server.csr"),
                 "-subj", "/CN=tern-test-server")
        _openssl("x509", "-req", "-in", str(directory / "server.csr"), "-CA",
                 str(root / "ca.crt"), "-CAkey", str(root / "ca.key"), "-CAcreateserial",
                 "-out", str(directory / "server.crt"), "-days", "2", "-extfile",
                 str(directory / "ext.cnf"))
        (directory / "ca.crt").write_bytes((root / "ca.crt").read_bytes())
    # A CA the server does not use, to provoke "certificate verify failed".
    other = root / "other"
    other.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(other / "ca.key"),
             "-out", str(other / "ca.crt"), "-days", "2", "-subj", "/CN=Unrelated CA")
    return root
