"""Bearer tokens (JWT, HS256) on the bridge: from the Authorization header, the tern_token cookie
and ?token= (SSE, since EventSource cannot set headers); refusals with a reason, delayed and
counted like wrong passwords; the ACL applied to the token's user name; start-up errors.

Tokens are minted here with hmac + base64 (independently of the C++ code)."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import pytest

from bridge_support import (basic, call, make_bridge, metrics, publish, sse)  # noqa: F401
from test_auth import password_file

pytestmark = pytest.mark.tern_only

SECRET = "jwt-integration-secret-with-more-than-32-bytes"

ACL = """\
user alice
topic read r/#
topic readwrite w/#

user pub
topic write #
"""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(claims=None, secret=SECRET, header=None, **extra):
    """A signed token; `claims` defaults to sub=alice expiring in 10 minutes."""
    body = dict(claims if claims is not None else {"sub": "alice", "exp": int(time.time()) + 600})
    body.update(extra)
    head = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = (b64url(json.dumps(head).encode()) + "." +
                     b64url(json.dumps(body).encode()))
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def bearer(token):
    return {"Authorization": "Bearer " + token}


def error_body(response):
    assert response.headers["content-type"] == "application/json", response
    return json.loads(response.body)


@pytest.fixture
def jwt_bridge(make_bridge, tmp_path):
    """A bridge with a password file (so anonymous access is off), the ACL above and a JWT
    secret read from a file."""
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    passwd = password_file(tmp_path, {"pub": "pub-pw"})
    secret = tmp_path / "jwt.key"
    secret.write_text(SECRET + "\n")
    return make_bridge(auth={"password_file": str(passwd), "acl_file": str(acl)},
                       bridge={"jwt_secret_file": str(secret), "jwt_leeway": 0})


def test_token_in_header_cookie_and_query(jwt_bridge):
    broker = jwt_bridge
    token = mint()
    response = call(broker, "GET", "/api/retained?filter=r/%23", headers=bearer(token))
    assert response.status == 200, response
    response = call(broker, "GET", "/api/retained?filter=r/%23",
                    headers={"Cookie": "theme=dark; tern_token=" + token})
    assert response.status == 200, response
    response = call(broker, "GET", "/api/retained?filter=r/%23&token=" + token)
    assert response.status == 200, response
    # Basic still works next to tokens.
    assert call(broker, "GET", "/api/presence", headers=basic("pub", "pub-pw")).status == 200
    # Without credentials: both challenges.
    response = call(broker, "GET", "/api/presence")
    assert response.status == 401
    assert error_body(response) == {
        "error": "unauthorized",
        "message": "authentication required (HTTP Basic with an MQTT user, or a bearer token)"}


def test_expired_token_is_401_with_reason_delayed_and_counted(jwt_bridge):
    broker = jwt_bridge
    started = time.monotonic()
    response = call(broker, "GET", "/api/presence",
                    headers=bearer(mint({"sub": "alice", "exp": int(time.time()) - 100})))
    assert response.status == 401
    assert time.monotonic() - started >= 0.9  # held back like a wrong password
    body = error_body(response)
    assert body["error"] == "unauthorized"
    assert body["reason"] == "expired"
    assert body["message"].startswith("token expired ")
    assert response.headers["www-authenticate"] == \
        'Bearer realm="tern", error="invalid_token", error_description="expired"'
    samples, _ = metrics(broker, headers=bearer(mint()))
    assert samples[("tern_bridge_auth_failures_total", ())] == 1


@pytest.mark.parametrize("token, reason, message", [
    (lambda: mint(secret="some-other-secret-of-more-than-32-bytes!"), "bad_signature",
     "token signature does not match"),
    (lambda: mint(header={"alg": "none"}).rpartition(".")[0] + ".", "unsupported_algorithm",
     "algorithm 'none' is not accepted (only HS256)"),
    (lambda: mint(header={"alg": "HS384"}), "unsupported_algorithm",
     "algorithm 'HS384' is not accepted (only HS256)"),
    (lambda: "not.a-token", "malformed", "token is not three dot-separated segments"),
    (lambda: mint({"sub": "alice"}), "missing_exp",
     "token has no 'exp' claim (tokens must expire)"),
    (lambda: mint(nbf=int(time.time()) + 3600), "not_yet_valid", None),
    (lambda: mint({"exp": int(time.time()) + 60}), "missing_username",
     "token has no user name in claim 'sub'"),
], ids=["bad_signature", "alg_none", "alg_hs384", "malformed", "no_exp", "nbf", "no_sub"])
def test_refused_tokens_say_why(jwt_bridge, token, reason, message):
    response = call(jwt_bridge, "GET", "/api/presence", headers=bearer(token()))
    assert response.status == 401, response
    body = error_body(response)
    assert body["reason"] == reason
    if message is not None:
        assert body["message"] == message
    assert response.headers["www-authenticate"] == \
        'Bearer realm="tern", error="invalid_token", error_description="%s"' % reason


def test_acl_applies_to_the_token_user(jwt_bridge, sse):
    broker = jwt_bridge
    alice = bearer(mint())
    response = call(broker, "GET", "/api/retained?filter=secret/%23", headers=alice)
    assert response.status == 403
    assert error_body(response) == {"error": "forbidden",
                                    "message": "not allowed to read 'secret/#'"}
    assert publish(broker, "w/1", headers=alice, payload="ok").status == 200
    response = publish(broker, "r/1", headers=alice, payload="no")
    assert response.status == 403
    assert error_body(response)["message"] == "not allowed to publish to 'r/1'"
    # Another user name in a token gets that user's rights (none here).
    response = call(broker, "GET", "/api/retained?filter=r/%23", headers=bearer(mint(
        {"sub": "mallory", "exp": int(time.time()) + 600})))
    assert response.status == 403


def test_sse_with_token_in_the_query(jwt_bridge, sse):
    broker = jwt_bridge
    token = mint()
    denied = sse(broker, "/events?topic=secret/x&token=" + token)
    assert denied.wait_head() == 403
    refused = sse(broker, "/events?topic=w/%23&token=" + mint(
        {"sub": "alice", "exp": int(time.time()) - 5}))
    assert refused.wait_head(timeout=5) == 401
    stream = sse(broker, "/events?topic=%23&token=" + token)
    assert stream.wait_head() == 200
    assert publish(broker, "secret/1", headers=basic("pub", "pub-pw"), payload="x").status == 200
    assert publish(broker, "w/2", headers=bearer(token), payload="readable").status == 200
    got = stream.messages(1)
    assert got[0][1]["topic"] == "w/2"
    stream.expect_nothing(0.3)


def test_username_claim_issuer_and_audience(make_bridge):
    broker = make_bridge(auth={"allow_anonymous": False},
                         bridge={"jwt_secret": SECRET, "jwt_username_claim": "preferred_username",
                                 "jwt_issuer": "https://auth.example", "jwt_audience": "tern"})
    now = int(time.time())
    good = {"preferred_username": "carol", "exp": now + 60, "iss": "https://auth.example",
            "aud": ["other", "tern"]}
    assert call(broker, "GET", "/api/presence", headers=bearer(mint(good))).status == 200
    response = call(broker, "GET", "/api/presence",
                    headers=bearer(mint(dict(good, iss="https://evil.example"))))
    assert response.status == 401
    assert error_body(response)["reason"] == "wrong_issuer"
    response = call(broker, "GET", "/api/presence", headers=bearer(mint(dict(good, aud="x"))))
    assert response.status == 401
    assert error_body(response)["reason"] == "wrong_audience"


def test_short_secret_file_stops_start_up(make_broker, tmp_path):
    broker = make_broker(start=False)
    secret = tmp_path / "short.key"
    secret.write_text("too-short\n")
    broker.config_path.write_text(
        "[bridge]\nenabled = true\nport = 0\njwt_secret_file = \"%s\"\n" % secret)
    broker.spawn()
    assert broker.wait_exit() == 2
    assert broker.stderr().strip() == (
        "%s:4: bridge.jwt_secret_file: the secret is 9 bytes; HS256 needs at least 32 (e.g. "
        "openssl rand -base64 48)" % broker.config_path)


def tern_token_binary():
    """tern-token next to the tern under test (TERN_TOKEN overrides)."""
    path = os.environ.get("TERN_TOKEN") or os.path.join(
        os.path.dirname(os.environ.get("TERN_BIN", "")), "tern-token")
    if not os.access(path, os.X_OK):
        pytest.skip("tern-token not built (TERN_BUILD_TOOLS=OFF?): %s" % path)
    return path


def test_tern_token_mints_accepted_tokens(jwt_bridge, tmp_path):
    broker = jwt_bridge
    tool = tern_token_binary()
    key = tmp_path / "jwt.key"  # the file the bridge reads (jwt_bridge wrote it)

    def run(*args):
        return subprocess.run([tool, "-k", str(key)] + list(args), capture_output=True,
                              timeout=10, check=False)

    minted = run("-u", "alice", "--ttl", "60")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.decode().strip()
    assert call(broker, "GET", "/api/retained?filter=r/%23", headers=bearer(token)).status == 200
    assert call(broker, "GET", "/api/retained?filter=secret/%23",
                headers=bearer(token)).status == 403
    early = run("-u", "alice", "--not-before", "3600").stdout.decode().strip()
    response = call(broker, "GET", "/api/presence", headers=bearer(early))
    assert response.status == 401
    assert error_body(response)["reason"] == "not_yet_valid"
    short = tmp_path / "short.key"
    short.write_text("short\n")
    refused = subprocess.run([tool, "-k", str(short), "-u", "alice"], capture_output=True,
                             timeout=10, check=False)
    assert refused.returncode == 1
    assert refused.stderr.decode() == \
        "tern-token: %s: the key is 5 bytes; at least 32 are needed\n" % short
