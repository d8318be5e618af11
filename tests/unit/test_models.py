"""The YANG models in yang/, the examples in examples/ and docs/models.md.

pyang lints the models; libyang (an independent YANG implementation) must
accept every valid example and reject every file in examples/invalid/ for
the reason its name gives.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libyang
import pytest

from flyos_agent.schema.compiler import pyang_module_dir

ROOT = Path(__file__).resolve().parents[2]
YANG_DIR = ROOT / "yang"
EXAMPLES = ROOT / "examples"
INVALID_DIR = EXAMPLES / "invalid"
GENERATOR = ROOT / "scripts" / "gen_models_doc.py"

NETCONF_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
REVISION = "2026-11-26"
PREFIXES = {
    "flyos-types": "ft",
    "flyos-interfaces": "fif",
    "flyos-routing": "frt",
    "flyos-acl": "facl",
    "flyos-nat": "fnat",
    "flyos-tunnel": "ftun",
    "flyos-vrf": "fvrf",
    "flyos-system": "fsys",
    "flyos-agent-ops": "fops",
}
# Standard modules shipped verbatim in yang/ (file name: module@revision).
IETF_MODULES = {"ietf-netconf-acm": "2018-02-14"}
IETF_FILES = sorted(f"{name}@{revision}" for name, revision in IETF_MODULES.items())
# Modules that define no configuration: shared types, and the agent's operations.
NO_DATA_MODULES = {"flyos-types", "flyos-agent-ops"}
MODULES = sorted(PREFIXES)
VALID_EXAMPLES = ["full.xml", "full.json", "demo.json"]

# examples/invalid/<name>.json -> a substring of libyang's error message that
# is specific to the defect the file carries.
INVALID_EXPECT = {
    "acl-port-without-protocol": "a port match needs protocol tcp, udp or sctp",
    "acl-unknown-in-binding": 'leafref value "wan-inbound"',
    "address-set-family-mismatch": "address-set family differs from the rule family",
    "bad-bgp-community": '"65536:100" does not conform',
    "bad-hostname": '"edge_1.example.net" does not conform',
    "bad-mac": '"52:54:00:12:34" does not conform',
    "bad-port-range": '"137-65536" does not conform',
    "bad-prefix": '"10.0.0.0/33"',
    "blackhole-with-via": "a blackhole, unreachable or prohibit route takes no via",
    "bridge-member-of-non-bridge": "must be an interface of type bridge",
    "dangling-leafref-route-dev": 'leafref value "eth9"',
    "duplicate-vlan-on-parent": 'Unique data leaf(s) "vlan/parent vlan/id"',
    "duplicate-vrf-table": 'Unique data leaf(s) "table"',
    "duplicate-vxlan-vni": 'Unique data leaf(s) "vni"',
    "interface-missing-type": 'Mandatory node "type"',
    "interface-name-clashes-vrf": "interface name is already used by a VRF device",
    "interface-name-too-long": '"dummy-interface-0" length is not allowed',
    "interface-vrf-unknown": 'leafref value "green"',
    "masquerade-with-to-address": "When condition \"../action != 'masquerade'\"",
    "mtu-out-of-range": 'value "67" is out of the allowed range',
    "pbr-priority-out-of-range": 'value "32766" is out of the allowed range',
    "route-table-and-vrf": "a static route has either table or vrf, not both",
    "route-via-and-nexthop": "either via/dev or nexthop entries, not both",
    "snat-without-address": "snat and dnat rules need to-address",
    "state-data-in-config": 'state node "state" found',
    "tunnel-interface-type-mismatch": "a gre tunnel needs an interface of type gre",
    "unicast-route-without-nexthop": "a unicast static route needs via, dev or nexthop",
    "vlan-id-out-of-range": 'value "4095" is out of the allowed range',
    "vlan-on-ethernet": "When condition \"../type = 'vlan'\"",
    "vlan-without-parent": 'Mandatory node "parent"',
    "vrf-reserved-table": 'value "254" is out of the allowed range',
    "vxlan-remote-and-group": "a vxlan tunnel has either remote or group, not both",
    "wireguard-bad-key": '"15TbA7dBLhe+6dHkAV2vxCPLUts/9+vRSIvogn1XrnZ=" does not conform',
}
INVALID_FILES = sorted(p.stem for p in INVALID_DIR.glob("*.json"))


def run_pyang(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyang", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def ctx() -> Iterator[libyang.Context]:
    context = libyang.Context(f"{YANG_DIR}:{Path(pyang_module_dir()) / 'ietf'}")
    for name in [*MODULES, *IETF_MODULES]:
        context.load_module(name)
    yield context
    context.destroy()


def config_children(xml_text: str) -> str:
    """The top-level data nodes inside a NETCONF <config> wrapper."""
    root = ET.fromstring(xml_text)
    assert root.tag == f"{{{NETCONF_NS}}}config", root.tag
    return "".join(ET.tostring(child, encoding="unicode") for child in root)


def parse(ctx: libyang.Context, path: Path) -> libyang.DNode:
    """Parse and validate the whole data tree of a config file, strictly."""
    text = path.read_text(encoding="utf-8")
    fmt = path.suffix.lstrip(".")
    if fmt == "xml":
        text = config_children(text)
    node = ctx.parse_data_mem(text, fmt, strict=True, no_state=True)
    assert node is not None, f"{path.name}: empty data tree"
    return node


def as_json(node: libyang.DNode) -> str:
    return node.print_mem("json", with_siblings=True, pretty=True)


# -- the modules --------------------------------------------------------------


def test_pyang_lint_is_clean() -> None:
    files = [str(YANG_DIR / f"{name}.yang") for name in [*MODULES, *IETF_FILES]]
    result = run_pyang("--lint", "-p", str(YANG_DIR), *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


def test_every_module_is_known() -> None:
    assert sorted(p.stem for p in YANG_DIR.glob("*.yang")) == sorted([*MODULES, *IETF_FILES])


@pytest.mark.parametrize("name", MODULES)
def test_module_conventions(ctx: libyang.Context, name: str) -> None:
    text = (YANG_DIR / f"{name}.yang").read_text(encoding="utf-8")
    assert re.search(rf'namespace "urn:flyos:yang:{name}";', text)
    module = ctx.get_module(name)
    assert module.prefix() == PREFIXES[name]
    assert [r.date() for r in module.revisions()] == [REVISION]
    tops = list(module.children())
    if name == "flyos-types":
        assert tops == []
    elif name == "flyos-agent-ops":  # operations, their state (config false) and notifications
        assert {top.keyword() for top in tops} == {"rpc", "container", "notification"}
        assert all(top.config_false() for top in tops if top.keyword() == "container")
    else:
        assert len(tops) == 1
        assert tops[0].keyword() == "container"


# -- the examples -------------------------------------------------------------


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_valid_example_is_accepted(ctx: libyang.Context, name: str) -> None:
    parse(ctx, EXAMPLES / name)


def test_full_example_uses_every_module() -> None:
    data = json.loads((EXAMPLES / "full.json").read_text(encoding="utf-8"))
    used = {key.split(":")[0] for key in data}
    assert used == set(MODULES) - NO_DATA_MODULES


def test_full_xml_and_json_are_the_same_config(ctx: libyang.Context) -> None:
    from_xml = as_json(parse(ctx, EXAMPLES / "full.xml"))
    from_json = as_json(parse(ctx, EXAMPLES / "full.json"))
    assert from_xml == from_json


def test_every_invalid_example_has_an_expectation() -> None:
    assert sorted(INVALID_EXPECT) == INVALID_FILES


@pytest.mark.parametrize("name", INVALID_FILES)
def test_invalid_example_is_rejected(ctx: libyang.Context, name: str) -> None:
    with pytest.raises(libyang.LibyangError) as excinfo:
        parse(ctx, INVALID_DIR / f"{name}.json")
    message = str(excinfo.value)
    assert INVALID_EXPECT[name] in message, message


# -- the documentation --------------------------------------------------------


def test_models_doc_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
