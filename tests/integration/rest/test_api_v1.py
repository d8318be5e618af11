"""The original FlyOS routes, /api/v1, against a running agent (curl and requests)."""

from __future__ import annotations

import json
import subprocess

import requests
from rest_helpers import PASSWORDS, RestAgent, errors_of

ROUTE = {"prefix": "10.0.0.0/24", "via": "192.168.1.1"}


def curl(*args: str) -> tuple[int, str]:
    """Run the real curl; (HTTP status, body)."""
    done = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_the_original_curl_adds_the_route_and_a_second_add_conflicts(rest_agent: RestAgent) -> None:
    # The command verbatim, but for the port (free, not 8080) and -u (credentials).
    url = f"{rest_agent.base}/api/v1/route/add".replace("127.0.0.1", "localhost")
    command = [
        "-X", "POST", url,
        "-H", "Content-Type: application/json",
        "-d", '{"prefix":"10.0.0.0/24","via":"192.168.1.1"}',
        "-u", f"admin:{PASSWORDS['admin']}",
    ]  # fmt: skip
    status, body = curl(*command)
    assert status == 200, body
    reply = json.loads(body)
    assert reply["target"] == "running" and reply["changed"] is True
    assert isinstance(reply["commit-id"], int)

    running = rest_agent.session().get(f"{rest_agent.base}/api/v1/route").json()
    assert ROUTE in running["flyos-routing:routing"]["static"]

    status, body = curl(*command)
    assert status == 409
    (error,) = json.loads(body)["ietf-restconf:errors"]["error"]
    assert error["error-tag"] == "data-exists"
    assert error["error-path"] == "/flyos-routing:routing/static[prefix='10.0.0.0/24']"
    admin = rest_agent.session()
    assert admin.post(f"{rest_agent.base}/api/v1/route/delete", json=ROUTE).status_code == 200


def test_candidate_edits_wait_for_commit(admin: requests.Session, base: str) -> None:
    route = {"prefix": "10.9.0.0/16", "type": "blackhole"}
    reply = admin.post(f"{base}/api/v1/route/add?target=candidate", json=route)
    assert reply.status_code == 200 and reply.json() == {"target": "candidate"}
    compare = admin.get(f"{base}/api/v1/compare").json()
    target = "/flyos-routing:routing/static[prefix='10.9.0.0/16']"
    assert compare[-1] == {"operation": "create", "target": target, "value": route}
    running = admin.get(f"{base}/api/v1/routing").json()
    assert route not in running.get("flyos-routing:routing", {}).get("static", [])

    committed = admin.post(f"{base}/api/v1/commit", json={"comment": "from the tests"}).json()
    assert committed["changed"] is True
    history = admin.get(f"{base}/api/v1/history?limit=1").json()
    assert history[0]["commit-id"] == committed["commit-id"]
    assert history[0]["comment"] == "from the tests" and history[0]["channel"] == "rest"

    rolled = admin.post(f"{base}/api/v1/rollback", json={"index": 1}).json()
    assert {"operation": "delete", "target": target} in rolled["changes"]
    assert admin.post(f"{base}/api/v1/discard").status_code == 204
    assert admin.get(f"{base}/api/v1/compare").json() == []
    assert admin.post(f"{base}/api/v1/route/delete", json=route).status_code == 200


def test_confirmed_commit_needs_a_confirm(admin: requests.Session, base: str) -> None:
    route = {"prefix": "10.8.0.0/16", "type": "blackhole"}
    admin.post(f"{base}/api/v1/route/add?target=candidate", json=route).raise_for_status()
    reply = admin.post(f"{base}/api/v1/commit", json={"confirmed": True, "timeout": 60}).json()
    assert reply["persist-id"] == "flyos-rest" and reply["confirm-timeout"] > 0
    assert admin.post(f"{base}/api/v1/confirm").json()["changed"] is False
    assert admin.post(f"{base}/api/v1/confirm").status_code == 409  # nothing pending now
    assert admin.post(f"{base}/api/v1/route/delete", json=route).status_code == 200


def test_refusals(rest_agent: RestAgent, base: str, admin: requests.Session) -> None:
    anonymous = requests.post(f"{base}/api/v1/route/add", json=ROUTE)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    viewer = rest_agent.session("viewer")
    assert viewer.post(f"{base}/api/v1/route/add", json=ROUTE).status_code == 403
    assert viewer.get(f"{base}/api/v1/route").status_code == 200
    wrong = requests.post(f"{base}/api/v1/route/add", json=ROUTE, auth=("admin", "nope"))
    assert wrong.status_code == 401

    text = admin.post(
        f"{base}/api/v1/route/add", data="prefix=1", headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    assert admin.post(f"{base}/api/v1/bogus/add", json=ROUTE).status_code == 400
    bad = admin.post(f"{base}/api/v1/route/add", json={"prefix": "10.0.0.0/33", "via": "1.1.1.1"})
    assert bad.status_code == 400
    (error,) = errors_of(bad)
    assert error["error-tag"] == "invalid-value" and "prefix" in error["error-message"]
    invalid = admin.post(f"{base}/api/v1/route/add", json={"prefix": "10.7.0.0/16"})
    assert invalid.status_code == 412  # must-violation: operation-failed, a precondition
    assert errors_of(invalid)[0]["error-app-tag"] == "must-violation"
    assert admin.post(f"{base}/api/v1/history?limit=x").status_code == 405
    assert admin.get(f"{base}/api/v1/history?limit=x").status_code == 400
