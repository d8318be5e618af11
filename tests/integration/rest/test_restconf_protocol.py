"""RESTCONF protocol behaviour: entity tags, YANG Patch, operations, discovery, and the
status codes of RFC 8040 section 7 (401 403 404 405 406 409 412 413 415)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rest_helpers import MAX_BODY, RestAgent, errors_of

JSON = "application/yang-data+json"
PATCH_JSON = "application/yang-patch+json"
DATA = "/restconf/data"
ROUTING = f"{DATA}/flyos-routing:routing"
OPS = "/restconf/operations"


def route(prefix: str) -> dict[str, Any]:
    return {"prefix": prefix, "type": "blackhole"}


def entry_url(base: str, prefix: str) -> str:
    return f"{base}{ROUTING}/static={prefix.replace('/', '%2F')}"


@pytest.fixture
def clean(admin: requests.Session, base: str) -> Iterator[None]:
    yield
    admin.delete(f"{base}{ROUTING}")
    admin.post(f"{base}/api/v1/discard")


def put_route(admin: requests.Session, base: str, prefix: str) -> requests.Response:
    body = {"flyos-routing:static": [route(prefix)]}
    reply = admin.put(entry_url(base, prefix), json=body, headers={"Content-Type": JSON})
    assert reply.status_code in (201, 204), reply.text
    return reply


# --------------------------------------------------------------------------- entity tags


def test_etag_and_last_modified(admin: requests.Session, base: str, clean: None) -> None:
    written = put_route(admin, base, "10.30.0.0/16")
    read = admin.get(f"{base}{ROUTING}")
    etag = read.headers["ETag"]
    assert etag == written.headers["ETag"] and read.headers["Last-Modified"]
    assert admin.get(f"{base}{ROUTING}", headers={"If-None-Match": etag}).status_code == 304
    since = {"If-Modified-Since": read.headers["Last-Modified"]}
    assert admin.head(f"{base}{ROUTING}", headers=since).status_code == 304

    changed = put_route(admin, base, "10.31.0.0/16")
    assert changed.headers["ETag"] != etag
    stale = admin.delete(entry_url(base, "10.30.0.0/16"), headers={"If-Match": etag})
    assert stale.status_code == 412
    assert errors_of(stale)[0]["error-tag"] == "operation-failed"
    assert admin.get(entry_url(base, "10.30.0.0/16")).status_code == 200  # nothing changed
    fresh = admin.delete(
        entry_url(base, "10.30.0.0/16"), headers={"If-Match": changed.headers["ETag"]}
    )
    assert fresh.status_code == 204
    old = {"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}
    assert admin.delete(entry_url(base, "10.31.0.0/16"), headers=old).status_code == 412
    assert (
        admin.put(
            entry_url(base, "10.31.0.0/16"),
            json={"flyos-routing:static": [route("10.31.0.0/16")]},
            headers={"Content-Type": JSON, "If-None-Match": "*"},
        ).status_code
        == 412
    )


# --------------------------------------------------------------------------- YANG Patch


def patch_body(*edits: dict[str, Any]) -> dict[str, Any]:
    return {"ietf-yang-patch:yang-patch": {"patch-id": "p1", "edit": list(edits)}}


def test_yang_patch_applies_all_edits(admin: requests.Session, base: str, clean: None) -> None:
    put_route(admin, base, "10.40.0.0/16")
    body = patch_body(
        {
            "edit-id": "add",
            "operation": "create",
            "target": "/static=10.41.0.0%2F16",
            "value": {"flyos-routing:static": [route("10.41.0.0/16")]},
        },
        {
            "edit-id": "describe",
            "operation": "merge",
            "target": "/static=10.40.0.0%2F16/description",
            "value": {"flyos-routing:description": "patched"},
        },
        {"edit-id": "drop", "operation": "remove", "target": "/static=10.99.0.0%2F16"},
    )
    reply = admin.patch(f"{base}{ROUTING}", json=body, headers={"Content-Type": PATCH_JSON})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"ietf-yang-patch:yang-patch-status": {"patch-id": "p1", "ok": [None]}}
    assert admin.get(entry_url(base, "10.41.0.0/16")).status_code == 200
    described = admin.get(entry_url(base, "10.40.0.0/16") + "/description").json()
    assert described == {"flyos-routing:description": "patched"}


def test_a_failing_yang_patch_changes_nothing(
    admin: requests.Session, base: str, clean: None
) -> None:
    put_route(admin, base, "10.50.0.0/16")
    before = admin.get(f"{base}{ROUTING}")
    body = patch_body(
        {
            "edit-id": "new",
            "operation": "create",
            "target": "/flyos-routing:routing/static=10.51.0.0%2F16",
            "value": {"flyos-routing:static": [route("10.51.0.0/16")]},
        },
        {
            "edit-id": "again",
            "operation": "create",
            "target": "/flyos-routing:routing/static=10.50.0.0%2F16",
            "value": {"flyos-routing:static": [route("10.50.0.0/16")]},
        },
    )
    reply = admin.patch(f"{base}{DATA}", json=body, headers={"Content-Type": PATCH_JSON})
    assert reply.status_code == 409
    status = reply.json()["ietf-yang-patch:yang-patch-status"]
    (failed,) = status["edit-status"]["edit"]
    assert failed["edit-id"] == "again"
    assert failed["errors"]["error"][0]["error-tag"] == "data-exists"
    after = admin.get(f"{base}{ROUTING}")
    assert after.json() == before.json() and after.headers["ETag"] == before.headers["ETag"]
    ordered = patch_body(
        {"edit-id": "x", "operation": "insert", "target": "/flyos-routing:routing"}
    )
    refused = admin.patch(f"{base}{DATA}", json=ordered, headers={"Content-Type": PATCH_JSON})
    assert refused.status_code == 400


# --------------------------------------------------------------------------- operations


def test_operations_commit_flow(rest_agent: RestAgent, admin: requests.Session, base: str) -> None:
    names = admin.get(f"{base}{OPS}").json()["ietf-restconf:operations"]
    assert {"ietf-netconf:commit", "flyos-agent-ops:compare", "flyos-agent-ops:rollback"} <= set(
        names
    )
    added = admin.post(f"{base}/api/v1/route/add?target=candidate", json=route("10.60.0.0/16"))
    added.raise_for_status()
    compare = admin.post(f"{base}{OPS}/flyos-agent-ops:compare", headers={"Content-Type": JSON})
    changes = compare.json()["flyos-agent-ops:output"]["change"]
    assert changes[-1]["target"] == "/flyos-routing:routing/static[prefix='10.60.0.0/16']"
    viewer = rest_agent.session("viewer")
    assert viewer.post(f"{base}{OPS}/flyos-agent-ops:compare").status_code == 200
    assert viewer.post(f"{base}{OPS}/ietf-netconf:commit").status_code == 403

    dry = {"ietf-netconf:input": {"flyos-agent-ops:dry-run": [None]}}
    plan = admin.post(f"{base}{OPS}/ietf-netconf:commit", json=dry).json()["ietf-netconf:output"]
    assert plan["flyos-agent-ops:change"][-1]["operation"] == "create"
    confirmed: dict[str, Any] = {
        "ietf-netconf:input": {"confirmed": [None], "confirm-timeout": 60, "persist": "t"}
    }
    assert admin.post(f"{base}{OPS}/ietf-netconf:commit", json=confirmed).status_code == 204
    assert admin.get(entry_url(base, "10.60.0.0/16")).status_code == 200
    confirm = {"ietf-netconf:input": {"persist-id": "t"}}
    assert admin.post(f"{base}{OPS}/ietf-netconf:commit", json=confirm).status_code == 204
    history = admin.post(
        f"{base}{OPS}/flyos-agent-ops:history", json={"flyos-agent-ops:input": {"limit": 1}}
    )
    (last,) = history.json()["flyos-agent-ops:output"]["commit"]
    assert last["channel"] == "rest" and last["commit-id"].isdigit()

    rollback = {"flyos-agent-ops:input": {"index": 1}}
    assert admin.post(f"{base}{OPS}/flyos-agent-ops:rollback", json=rollback).status_code == 204
    assert admin.post(f"{base}{OPS}/ietf-netconf:commit").status_code == 204
    assert admin.get(entry_url(base, "10.60.0.0/16")).status_code == 404
    assert admin.post(f"{base}{OPS}/ietf-netconf:discard-changes").status_code == 204
    assert admin.post(f"{base}{OPS}/ietf-netconf:cancel-commit").status_code == 409
    assert admin.get(f"{base}{OPS}/ietf-netconf:commit").status_code == 405
    assert admin.post(f"{base}{OPS}/flyos-agent-ops:nothing").status_code == 404


# --------------------------------------------------------------------------- discovery


def test_discovery_and_yang_library(admin: requests.Session, base: str) -> None:
    host_meta = admin.get(f"{base}/.well-known/host-meta")
    assert host_meta.headers["Content-Type"].startswith("application/xrd+xml")
    assert 'rel="restconf" href="/restconf"' in host_meta.text
    root = admin.get(f"{base}/restconf").json()["ietf-restconf:restconf"]
    assert root["yang-library-version"] == "2016-06-21"
    library = admin.get(f"{base}{DATA}/ietf-yang-library:modules-state").json()
    modules = {m["name"]: m for m in library["ietf-yang-library:modules-state"]["module"]}
    assert modules["flyos-routing"]["conformance-type"] == "implement"
    assert modules["ietf-inet-types"]["conformance-type"] == "import"
    for name in ("flyos-routing", "flyos-agent-ops", "ietf-inet-types"):
        text = admin.get(modules[name]["schema"])
        assert text.status_code == 200 and text.headers["Content-Type"].startswith(
            "application/yang"
        )
        assert text.text.lstrip().startswith(f"module {name}")
    assert admin.get(f"{base}/restconf/yang/flyos-routing@1999-01-01").status_code == 404
    capabilities = admin.get(f"{base}{DATA}/ietf-restconf-monitoring:restconf-state").json()
    listed = capabilities["ietf-restconf-monitoring:restconf-state"]["capabilities"]["capability"]
    assert "urn:ietf:params:restconf:capability:yang-patch:1.0" in listed


# --------------------------------------------------------------------------- status codes


def test_status_codes(
    rest_agent: RestAgent, admin: requests.Session, base: str, clean: None
) -> None:
    body = {"flyos-routing:static": [route("10.70.0.0/16")]}
    url = entry_url(base, "10.70.0.0/16")
    assert requests.get(f"{base}{ROUTING}").status_code == 401
    token = rest_agent.session(None)
    token.headers["Authorization"] = "Bearer flyos_000000000000_wrong"
    assert token.get(f"{base}{ROUTING}").status_code == 401
    viewer = rest_agent.session("viewer")
    assert viewer.put(url, json=body, headers={"Content-Type": JSON}).status_code == 403
    assert viewer.get(f"{base}{DATA}").status_code == 200
    assert admin.get(url).status_code == 404
    assert admin.get(f"{base}{DATA}/flyos-routing:nosuch").status_code == 400
    assert admin.get(f"{base}{DATA}/routing").status_code == 400  # the module is required
    assert admin.get(f"{base}/restconf/nowhere").status_code == 404
    not_allowed = admin.delete(f"{base}{DATA}")
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["Allow"]
    assert errors_of(not_allowed)[0]["error-tag"] == "operation-not-supported"
    assert admin.get(url, headers={"Accept": "text/html"}).status_code == 406
    assert admin.put(url, data="x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert admin.put(url, json=body).status_code == 201  # application/json is yang-data+json
    assert admin.post(f"{base}{ROUTING}", json=body).status_code == 409
    malformed = admin.put(url, data="{", headers={"Content-Type": JSON})
    assert (
        malformed.status_code == 400 and errors_of(malformed)[0]["error-tag"] == "malformed-message"
    )


def test_bodies_over_the_cap_get_413(admin: requests.Session, base: str) -> None:
    big = b'{"flyos-system:system": {"description": "' + b"x" * MAX_BODY + b'"}}'
    url = f"{base}{DATA}/flyos-system:system"
    sized = admin.put(url, data=big, headers={"Content-Type": JSON})
    assert sized.status_code == 413 and errors_of(sized)[0]["error-tag"] == "too-big"
    chunked = admin.put(url, data=iter([big[:1000], big[1000:]]), headers={"Content-Type": JSON})
    assert chunked.status_code == 413


def test_head_and_options(admin: requests.Session, base: str) -> None:
    head = admin.head(f"{base}{DATA}")
    assert head.status_code == 200 and head.content == b"" and head.headers["ETag"]
    options = admin.options(f"{base}{ROUTING}")
    assert options.status_code == 200
    assert {"GET", "PUT", "PATCH", "POST", "DELETE"} <= set(options.headers["Allow"].split(", "))
