"""RESTCONF data resources (RFC 8040 section 4): every method on list entries,
containers, leaves and leaf-list entries; JSON and XML; each query parameter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree
from rest_helpers import errors_of

JSON = "application/yang-data+json"
XML = "application/yang-data+xml"
DATA = "/restconf/data"
ROUTING = f"{DATA}/flyos-routing:routing"
ENTRY = f"{ROUTING}/static=10.20.0.0%2F16"
ROUTE = {"prefix": "10.20.0.0/16", "via": "192.168.1.1", "description": "first"}


def send(session: requests.Session, method: str, url: str, body: Any = None) -> requests.Response:
    """One request with a yang-data+json body."""
    return session.request(method, url, json=body, headers={"Content-Type": JSON})


@pytest.fixture
def clean(admin: requests.Session, base: str) -> Iterator[None]:
    """Remove what the test made under routing, system and acls."""
    yield
    for top in ("flyos-routing:routing", "flyos-system:system", "flyos-acl:acls"):
        admin.delete(f"{base}{DATA}/{top}")


def test_list_entry_post_get_put_patch_delete(
    admin: requests.Session, base: str, clean: None
) -> None:
    created = send(admin, "POST", f"{base}{ROUTING}", {"flyos-routing:static": [ROUTE]})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{base}{ENTRY}"
    assert (
        send(admin, "POST", f"{base}{ROUTING}", {"flyos-routing:static": [ROUTE]}).status_code
        == 409
    )

    got = admin.get(f"{base}{ENTRY}")
    assert got.status_code == 200 and got.headers["Content-Type"].startswith(JSON)
    assert got.json() == {"flyos-routing:static": [ROUTE]}

    replacement = {"prefix": "10.20.0.0/16", "type": "blackhole"}
    body = {"flyos-routing:static": [replacement]}
    assert send(admin, "PUT", f"{base}{ENTRY}", body).status_code == 204
    assert admin.get(f"{base}{ENTRY}").json() == body

    merge = {"flyos-routing:static": [{"prefix": "10.20.0.0/16", "description": "merged"}]}
    assert send(admin, "PATCH", f"{base}{ENTRY}", merge).status_code == 204
    assert admin.get(f"{base}{ENTRY}").json()["flyos-routing:static"][0] == {
        **replacement,
        "description": "merged",
    }

    wrong_key = {"flyos-routing:static": [{"prefix": "10.21.0.0/16", "type": "blackhole"}]}
    assert send(admin, "PUT", f"{base}{ENTRY}", wrong_key).status_code == 400

    assert admin.delete(f"{base}{ENTRY}").status_code == 204
    assert admin.get(f"{base}{ENTRY}").status_code == 404
    missing = admin.delete(f"{base}{ENTRY}")
    assert missing.status_code == 409 and errors_of(missing)[0]["error-tag"] == "data-missing"
    merge_missing = send(admin, "PATCH", f"{base}{ENTRY}", merge)
    assert merge_missing.status_code == 409

    put_new = send(admin, "PUT", f"{base}{ENTRY}", {"flyos-routing:static": [ROUTE]})
    assert put_new.status_code == 201


def test_container_put_get_patch_delete(admin: requests.Session, base: str, clean: None) -> None:
    url = f"{base}{DATA}/flyos-system:system"
    body = {"flyos-system:system": {"hostname": "r1"}}
    assert send(admin, "PUT", url, body).status_code in (201, 204)
    assert admin.get(url).json() == body
    patch = {"flyos-system:system": {"location": "lab"}}
    assert send(admin, "PATCH", url, patch).status_code == 204
    assert admin.get(url).json() == {"flyos-system:system": {"hostname": "r1", "location": "lab"}}
    assert send(admin, "PUT", url, body).status_code == 204
    assert admin.get(url).json() == body
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404


def test_leaf_put_get_patch_delete(admin: requests.Session, base: str, clean: None) -> None:
    send(admin, "PUT", f"{base}{ENTRY}", {"flyos-routing:static": [ROUTE]}).raise_for_status()
    leaf = f"{base}{ENTRY}/description"
    assert admin.get(leaf).json() == {"flyos-routing:description": "first"}
    assert send(admin, "PUT", leaf, {"flyos-routing:description": "second"}).status_code == 204
    assert send(admin, "PATCH", leaf, {"description": "third"}).status_code == 204
    assert admin.get(leaf).json() == {"flyos-routing:description": "third"}
    assert admin.delete(leaf).status_code == 204
    assert admin.get(leaf).status_code == 404
    assert "description" not in admin.get(f"{base}{ENTRY}").json()["flyos-routing:static"][0]
    bad = send(admin, "PUT", f"{base}{ENTRY}/via", {"flyos-routing:via": "not-an-address"})
    assert bad.status_code == 400 and errors_of(bad)[0]["error-tag"] == "invalid-value"


def test_leaf_list_entries(admin: requests.Session, base: str, clean: None) -> None:
    sets = f"{base}{DATA}/flyos-acl:acls"
    address_set = {"name": "blocked", "family": "ipv4", "prefix": ["10.0.0.0/8"]}
    assert send(admin, "POST", sets, {"flyos-acl:address-set": [address_set]}).status_code == 201
    entry = f"{sets}/address-set=blocked"
    created = send(admin, "POST", entry, {"flyos-acl:prefix": ["192.0.2.0/24"]})
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/address-set=blocked/prefix=192.0.2.0%2F24")
    value = admin.get(f"{entry}/prefix=192.0.2.0%2F24")
    assert value.json() == {"flyos-acl:prefix": ["192.0.2.0/24"]}
    assert admin.delete(f"{entry}/prefix=10.0.0.0%2F8").status_code == 204
    assert admin.get(entry).json()["flyos-acl:address-set"][0]["prefix"] == ["192.0.2.0/24"]


def test_xml_bodies_and_replies(admin: requests.Session, base: str, clean: None) -> None:
    body = (
        '<static xmlns="urn:flyos:yang:flyos-routing">'
        "<prefix>10.20.0.0/16</prefix><via>192.168.1.1</via></static>"
    )
    put = admin.put(f"{base}{ENTRY}", data=body, headers={"Content-Type": XML})
    assert put.status_code == 201, put.text
    reply = admin.get(f"{base}{ENTRY}", headers={"Accept": XML})
    assert reply.headers["Content-Type"].startswith(XML)
    root = etree.fromstring(reply.content)
    assert root.tag == "{urn:flyos:yang:flyos-routing}static"
    assert root.findtext("{urn:flyos:yang:flyos-routing}via") == "192.168.1.1"
    error = admin.get(f"{base}{ROUTING}/static=10.99.0.0%2F16", headers={"Accept": XML})
    assert error.status_code == 404
    tag = etree.fromstring(error.content).find(".//{*}error-tag")
    assert tag is not None and tag.text == "invalid-value"


def test_whole_datastore(admin: requests.Session, base: str, clean: None) -> None:
    send(admin, "PUT", f"{base}{ENTRY}", {"flyos-routing:static": [ROUTE]}).raise_for_status()
    data = admin.get(f"{base}{DATA}").json()["ietf-restconf:data"]
    assert ROUTE in data["flyos-routing:routing"]["static"]
    merge = {"ietf-restconf:data": {"flyos-system:system": {"hostname": "whole"}}}
    assert send(admin, "PATCH", f"{base}{DATA}", merge).status_code == 204
    assert admin.get(f"{base}{DATA}/flyos-system:system/hostname").json() == {
        "flyos-system:hostname": "whole"
    }
    assert admin.delete(f"{base}{DATA}").status_code == 405


# --------------------------------------------------------------------------- query parameters


@pytest.fixture
def route(admin: requests.Session, base: str, clean: None) -> None:
    """One static route with an ECMP next hop (its weight has a default)."""
    entry = {"prefix": "10.20.0.0/16", "nexthop": [{"via": "192.168.1.1"}], "description": "x"}
    send(admin, "PUT", f"{base}{ENTRY}", {"flyos-routing:static": [entry]}).raise_for_status()


def test_content(admin: requests.Session, base: str, route: None) -> None:
    config = admin.get(f"{base}{ENTRY}?content=config").json()["flyos-routing:static"][0]
    assert config["description"] == "x"
    nonconfig = admin.get(f"{base}{ROUTING}?content=nonconfig")
    assert nonconfig.status_code == 200  # the none backend reports no state
    assert "description" not in nonconfig.text
    assert admin.get(f"{base}{ENTRY}?content=all").json()["flyos-routing:static"][0] == config
    assert admin.get(f"{base}{ENTRY}?content=bogus").status_code == 400


def test_depth(admin: requests.Session, base: str, route: None) -> None:
    assert admin.get(f"{base}{ROUTING}?depth=1").json() == {"flyos-routing:routing": {}}
    two = admin.get(f"{base}{ROUTING}?depth=2").json()["flyos-routing:routing"]
    assert two == {"static": [{}]}
    three = admin.get(f"{base}{ROUTING}?depth=3").json()["flyos-routing:routing"]["static"][0]
    assert three["prefix"] == "10.20.0.0/16" and three["nexthop"] == [{}]
    full = admin.get(f"{base}{ROUTING}?depth=unbounded").json()["flyos-routing:routing"]
    assert full["static"][0]["nexthop"] == [{"via": "192.168.1.1"}]
    assert admin.get(f"{base}{ROUTING}?depth=0").status_code == 400


def test_fields(admin: requests.Session, base: str, route: None) -> None:
    reply = admin.get(f"{base}{ROUTING}?fields=static(prefix;nexthop/via)").json()
    assert reply == {
        "flyos-routing:routing": {
            "static": [{"prefix": "10.20.0.0/16", "nexthop": [{"via": "192.168.1.1"}]}]
        }
    }
    only = admin.get(f"{base}{ENTRY}?fields=description").json()
    assert only == {"flyos-routing:static": [{"description": "x"}]}
    assert admin.get(f"{base}{ENTRY}?fields=nosuch").status_code == 400


def test_with_defaults(admin: requests.Session, base: str, route: None) -> None:
    nexthop = f"{base}{ENTRY}/nexthop=192.168.1.1"
    explicit = admin.get(nexthop).json()["flyos-routing:nexthop"][0]
    assert "weight" not in explicit
    report_all = admin.get(f"{nexthop}?with-defaults=report-all").json()
    assert report_all["flyos-routing:nexthop"][0]["weight"] == 1
    tagged = admin.get(f"{nexthop}?with-defaults=report-all-tagged").json()
    entry = tagged["flyos-routing:nexthop"][0]
    assert entry["@weight"] == {"ietf-netconf-with-defaults:default": True}
    send(admin, "PATCH", nexthop, {"flyos-routing:nexthop": [{"via": "192.168.1.1", "weight": 1}]})
    trimmed = admin.get(f"{nexthop}?with-defaults=trim").json()
    assert "weight" not in trimmed["flyos-routing:nexthop"][0]
    assert admin.get(f"{nexthop}?with-defaults=bogus").status_code == 400


def test_unknown_and_misplaced_parameters(admin: requests.Session, base: str) -> None:
    unknown = admin.get(f"{base}{ROUTING}?colour=blue")
    assert unknown.status_code == 400 and "unknown query parameter" in unknown.text
    assert admin.get(f"{base}{ROUTING}?insert=first").status_code == 400
    body = {"flyos-routing:static": [ROUTE]}
    ordered = send(admin, "POST", f"{base}{ROUTING}?insert=first", body)
    assert (
        ordered.status_code == 400 and "ordered-by user" in errors_of(ordered)[0]["error-message"]
    )
    assert send(admin, "PUT", f"{base}{ENTRY}?depth=1", body).status_code == 400
