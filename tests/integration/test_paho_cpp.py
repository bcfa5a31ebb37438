"""Runs the Paho MQTT C++ doctest suite (tern_paho_tests) against a fresh broker per worker count.

TERN_PAHO_TESTS names the executable (built from tests/integration/paho); it reads the broker's
address from TERN_TEST_HOST / TERN_TEST_PORT and exits non-zero when any case fails.
"""

import os
import subprocess

import pytest

# The whole suite takes about 15 s against an idle broker; ASan builds and busy machines are slower.
SUITE_TIMEOUT = 240


def test_paho_cpp_suite_passes(broker):
    binary = os.environ.get("TERN_PAHO_TESTS")
    if not binary:
        pytest.fail("TERN_PAHO_TESTS is not set (path to the tern_paho_tests executable)")
    env = dict(os.environ, TERN_TEST_HOST=broker.host, TERN_TEST_PORT=str(broker.port))
    try:
        result = subprocess.run([binary, "--no-colors", "--duration=true"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=SUITE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace")
        pytest.fail("tern_paho_tests did not finish within %d s:\n%s\n--- broker log ---\n%s"
                    % (SUITE_TIMEOUT, output, broker.stderr()[-4000:]))
    output = result.stdout.decode(errors="replace")
    assert result.returncode == 0, "tern_paho_tests exited with %d:\n%s\n--- broker log ---\n%s" % (
        result.returncode, output, broker.stderr()[-4000:])
    assert "Status: SUCCESS!" in output, output
