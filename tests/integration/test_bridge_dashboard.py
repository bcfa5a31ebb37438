"""The dashboard as HTTP sees it: / and /assets/... from the binary (types, ETag, 304, caching,
HEAD, 404s, auth), and GET /api/history (envelopes with positions, limits, ACL, errors)."""

import json
import re

import pytest

from bridge_support import HOST, basic, call, make_bridge  # noqa: F401
from helpers import eventually
from test_auth import password_file

pytestmark = pytest.mark.tern_only

HISTORY = [{"filter": "h/#", "max_messages": 5}]


def asset_paths(html):
    return re.findall(r'(?:src|href)="(assets/[^"]+)"', html)


def error_body(response):
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_the_page_and_its_assets_are_served_with_types_and_validators(make_bridge):
    broker = make_bridge()
    page = call(broker, "GET", "/")
    assert page.status == 200, page
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-security-policy"].startswith("default-src 'self';")
    assert re.fullmatch(r'"[0-9a-f]{32}"', page.headers["etag"])
    html = page.body.decode()
    assert "<title>Tern dashboard</title>" in html
    paths = asset_paths(html)
    assert sorted(p.rsplit(".", 1)[1] for p in paths) == ["css", "js"]
    types = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
    for path in paths:
        asset = call(broker, "GET", "/" + path)
        assert asset.status == 200, asset
        assert asset.headers["content-type"] == types[path.rsplit(".", 1)[1]]
        assert asset.headers["cache-control"] == "max-age=31536000, immutable"
        assert int(asset.headers["content-length"]) == len(asset.body) > 1000
        assert re.fullmatch(r'"[0-9a-f]{32}"', asset.headers["etag"])
        assert asset.headers["etag"] != page.headers["etag"]
    # No CDN, no other host: everything the page loads is its own.
    for link in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert link.startswith(("assets/", "data:")), link


def test_if_none_match_gets_304_and_head_gets_the_head_only(make_bridge):
    broker = make_bridge()
    page = call(broker, "GET", "/")
    etag = page.headers["etag"]
    for validator in (etag, "W/" + etag, '"other", ' + etag, "*"):
        fresh = call(broker, "GET", "/", headers={"If-None-Match": validator})
        assert fresh.status == 304, validator
        assert fresh.body == b""
        assert fresh.headers["etag"] == etag
        assert fresh.headers["cache-control"] == "no-cache"
        assert "content-type" not in fresh.headers
    stale = call(broker, "GET", "/", headers={"If-None-Match": '"0123"'})
    assert stale.status == 200 and stale.body == page.body
    head = call(broker, "HEAD", "/")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == str(len(page.body))
    assert head.headers["etag"] == etag
    script = asset_paths(page.body.decode())[0]
    head = call(broker, "HEAD", "/" + script)
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) > 1000


def test_unknown_assets_and_methods_are_refused_as_json(make_bridge):
    broker = make_bridge()
    for path in ("/assets/missing.js", "/assets/", "/assets/../index.html", "/index.html",
                 "/favicon.ico"):
        response = call(broker, "GET", path)
        assert response.status == 404, path
        assert error_body(response)["error"] == "not_found"
    assert error_body(call(broker, "GET", "/assets/missing.js")) == {
        "error": "not_found", "message": "no dashboard file at '/assets/missing.js'"}
    response = call(broker, "POST", "/", body="x")
    assert response.status == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert error_body(response)["message"] == "POST is not allowed on / (use GET, HEAD)"


def test_the_dashboard_asks_for_the_same_credentials_as_the_api(make_bridge, tmp_path):
    passwd = password_file(tmp_path, {"alice": "alice-pw"})
    broker = make_bridge(auth={"password_file": str(passwd), "allow_anonymous": False})
    for path in ("/", "/assets/anything.js"):
        response = call(broker, "GET", path)
        assert response.status == 401, path
        assert response.headers["www-authenticate"].startswith('Basic realm="tern"')
    page = call(broker, "GET", "/", headers=basic("alice", "alice-pw"))
    assert page.status == 200
    script = asset_paths(page.body.decode())[0]
    assert call(broker, "GET", "/" + script, headers=basic("alice", "alice-pw")).status == 200


# -- GET /api/history ---------------------------------------------------------------------------

def test_history_lists_a_topics_messages_oldest_first_with_positions(make_bridge, clients):
    broker = make_bridge(history=HISTORY)
    pub = clients(broker, "hist-pub")
    for value in ("1", '{"t":2.5}', "three"):
        pub.publish("h/a", value.encode(), qos=1)
    pub.publish("h/b", b"other topic", qos=1)
    pub.publish("h/a", b"\xff\x00", qos=1)
    response = call(broker, "GET", "/api/history?topic=h/a")
    assert response.status == 200, response
    assert response.headers["content-type"] == "application/json"
    entries = response.json()
    assert [(e["topic"], e["payload"], e.get("json"), e["retain"], e["qos"]) for e in entries] == [
        ("h/a", "1", 1, False, 1), ("h/a", '{"t":2.5}', {"t": 2.5}, False, 1),
        ("h/a", "three", None, False, 1), ("h/a", "/wA=", None, False, 1)]
    assert entries[3]["encoding"] == "base64"
    positions = [tuple(int(part) for part in e["id"].split("-")) for e in entries]
    assert len({epoch for epoch, _ in positions}) == 1
    assert [seq for _, seq in positions] == sorted(seq for _, seq in positions)
    assert all(isinstance(e["timestamp"], int) and e["timestamp"] > 1.6e12 for e in entries)
    # limit keeps the newest ones.
    newest = call(broker, "GET", "/api/history?topic=h/a&limit=2").json()
    assert newest == entries[2:]


@pytest.mark.parametrize("durability", ["memory", "async"])
def test_an_acknowledged_message_is_already_in_the_history(make_bridge, clients, durability):
    """The PUBACK covers the history append: a dashboard that resumes right after a device saw
    its PUBACK finds the message. Each round uses a topic the history has never listed, the case
    that raced the store's writer before (a few missing in 1,000 rounds)."""
    broker = make_bridge(history=[{"filter": "h/#", "max_messages": 1000}],
                         storage={"durability": durability})
    pub = clients(broker, "hist-acked")
    missing = []
    for i in range(1000):
        topic = "h/acked-%d" % i
        pub.publish(topic, b"v%d" % i, qos=1)  # returns once the PUBACK is in
        if not call(broker, "GET", "/api/history?topic=" + topic).json():
            missing.append(topic)
    assert missing == [], "acknowledged but not in the history: %s" % missing


def test_history_is_bounded_by_the_policy_and_empty_for_a_quiet_topic(make_bridge, clients):
    broker = make_bridge(history=HISTORY)
    assert call(broker, "GET", "/api/history?topic=h/quiet").json() == []
    pub = clients(broker, "hist-many")
    for i in range(8):
        pub.publish("h/n", str(i).encode(), qos=1)
    # Once the last message is in, the policy (5) has dropped the first three.
    entries = eventually(
        lambda: (lambda got: got if got and got[-1]["payload"] == "7" else None)(
            call(broker, "GET", "/api/history?topic=h/n&limit=1000").json()),
        message="message 7 never reached the history")
    assert [e["payload"] for e in entries] == ["3", "4", "5", "6", "7"]


def test_history_survives_a_restart(make_bridge, clients):
    broker = make_bridge(history=HISTORY)
    pub = clients(broker, "hist-before")
    pub.publish("h/r", b"before", qos=1)
    pub.disconnect()
    broker.stop()
    broker.start()
    clients(broker, "hist-after").publish("h/r", b"after", qos=1)
    entries = call(broker, "GET", "/api/history?topic=h/r").json()
    assert [e["payload"] for e in entries] == ["before", "after"]


@pytest.mark.parametrize("query,status,message", [
    ("", 400, "missing query parameter 'topic'"),
    ("?topic=h/%23", 400, "topic 'h/#' has wildcards: give one topic name"),
    ("?topic=h/%2B/x", 400, "topic 'h/+/x' has wildcards: give one topic name"),
    ("?topic=", 400, "'' is not a valid topic name"),
    ("?topic=h/a&limit=0", 400, "limit must be a whole number from 1 to 1000"),
    ("?topic=h/a&limit=1001", 400, "limit must be a whole number from 1 to 1000"),
    ("?topic=h/a&limit=x", 400, "limit must be a whole number from 1 to 1000"),
    ("?topic=elsewhere", 404, "no history is kept for 'elsewhere' (see [[storage.history]])"),
])
def test_history_errors(make_bridge, query, status, message):
    broker = make_bridge(history=HISTORY)
    response = call(broker, "GET", "/api/history" + query)
    assert response.status == status
    assert error_body(response) == {"error": "bad_request" if status == 400 else "not_found",
                                    "message": message}


def test_history_without_any_policy_is_404(make_bridge):
    broker = make_bridge()
    response = call(broker, "GET", "/api/history?topic=h/a")
    assert response.status == 404
    assert error_body(response)["message"] == (
        "no history is kept for 'h/a' (see [[storage.history]])")


ACL = """\
user alice
topic read h/open/#
"""


def test_history_follows_the_acl(make_bridge, tmp_path, clients):
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    passwd = password_file(tmp_path, {"alice": "alice-pw", "pub": "pub-pw"})
    broker = make_bridge(history=HISTORY,
                         auth={"password_file": str(passwd), "acl_file": str(acl)})
    assert call(broker, "GET", "/api/history?topic=h/open/1").status == 401
    alice = basic("alice", "alice-pw")
    response = call(broker, "GET", "/api/history?topic=h/open/1", headers=alice)
    assert response.status == 200 and response.json() == []
    response = call(broker, "GET", "/api/history?topic=h/secret", headers=alice)
    assert response.status == 403
    assert error_body(response) == {"error": "forbidden",
                                    "message": "not allowed to read 'h/secret'"}
