"""The dashboard in headless Debian chromium: runs tests/browser/dashboard.test.mjs (playwright-core)
against the real tern. Skipped when node, chromium or tests/browser/node_modules is missing,
unless TERN_REQUIRE_BROWSER=1 (CI), which makes that a failure.

Setup: apt-get install chromium nodejs npm; (cd tests/browser && npm ci)."""

import os
import pathlib
import shutil
import subprocess

import pytest

from broker_process import IS_MOSQUITTO

pytestmark = pytest.mark.tern_only

BROWSER_DIR = pathlib.Path(__file__).resolve().parent.parent / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 180


def missing():
    """What the browser test needs and is not there, as a sentence (None when all is there)."""
    needs = []
    if shutil.which("node") is None:
        needs.append("node (apt-get install nodejs)")
    if not os.access(CHROMIUM, os.X_OK):
        needs.append("%s (apt-get install chromium)" % CHROMIUM)
    for module in ("playwright-core", "mqtt"):
        if not (BROWSER_DIR / "node_modules" / module).is_dir():
            needs.append("tests/browser/node_modules/%s (cd tests/browser && npm ci)" % module)
    return ", ".join(needs) or None


@pytest.fixture
def browser_ready():
    if IS_MOSQUITTO:
        pytest.skip("the dashboard is tern's")
    absent = missing()
    if absent:
        if os.environ.get("TERN_REQUIRE_BROWSER") == "1":
            pytest.fail("TERN_REQUIRE_BROWSER=1 but missing: " + absent)
        pytest.skip("browser test needs " + absent)


def run_script(tmp_path, workers, auth=False):
    binary = os.environ.get("TERN_BIN")
    if not binary:
        pytest.fail("TERN_BIN is not set (path to the tern executable)")
    env = dict(os.environ)
    env.update({"TERN_BIN": binary, "CHROMIUM": CHROMIUM, "TERN_WORKERS": str(workers),
                "TERN_WORK_DIR": str(tmp_path), "TERN_DASHBOARD_AUTH": "1" if auth else "0"})
    env.setdefault("TERN_ARTIFACTS", str(BROWSER_DIR / "artifacts"))
    if auth:
        # Only the main run's screenshot is kept as the artifact.
        env["TERN_ARTIFACTS"] = str(tmp_path / "artifacts")
    result = subprocess.run(["node", str(BROWSER_DIR / "dashboard.test.mjs")], cwd=BROWSER_DIR,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=TIMEOUT)
    output = result.stdout.decode(errors="replace")
    assert result.returncode == 0, "dashboard.test.mjs failed:\n" + output
    assert output.rstrip().endswith("PASS"), output
    return output


def test_dashboard_live_values_charts_and_recovery(browser_ready, workers, tmp_path):
    output = run_script(tmp_path, workers)
    for step in ("page loaded, badge live", "device online shown after",
                 "charts backfilled from /api/history and updated live", "device offline shown",
                 "tern stopped; badge red", "resumed from the history"):
        assert step in output, output


def test_dashboard_with_basic_auth(browser_ready, tmp_path):
    output = run_script(tmp_path, 1, auth=True)
    assert "without credentials: 401 with a Basic challenge" in output, output
