# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""What flyos.agent.facts collects: device, config, state and resources."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ansible_collections.flyos.agent.plugins.module_utils.resource import Resource
from ansible_collections.flyos.agent.plugins.module_utils.resources import RESOURCES
from ansible_collections.flyos.agent.plugins.module_utils.schema import ROOTS

SUBSETS = ("all", "min", "config", "state")
FACTS_ARGUMENT_SPEC = {
    "gather_subset": {"type": "list", "elements": "str", "default": ["config"]},
    "gather_network_resources": {
        "type": "list",
        "elements": "str",
        "choices": ["all", *sorted(RESOURCES)],
    },
    "available_network_resources": {"type": "bool", "default": False},
}


def subsets(requested: list[str]) -> list[str]:
    """The subsets to collect: ``min`` always, ``all`` is config and state, ``!x`` leaves x out."""
    wanted, dropped = {"min"}, set()
    for item in requested:
        name = item.strip()
        negated = name.startswith("!")
        name = name.lstrip("!")
        if name not in SUBSETS:
            raise ValueError(f"unknown gather_subset '{item}' (one of: {', '.join(SUBSETS)})")
        names = {"config", "state"} if name == "all" else {name}
        (dropped if negated else wanted).update(names)
    return [name for name in ("min", "config", "state") if name in wanted - (dropped - {"min"})]


def yang_modules(capabilities: list[str]) -> list[str]:
    """``name@revision`` of each module capability the agent announced."""
    out = []
    for capability in capabilities:
        query = parse_qs(urlsplit(capability).query)
        if "module" in query:
            revision = query.get("revision", [""])[0]
            out.append(query["module"][0] + (f"@{revision}" if revision else ""))
    return sorted(out)


def gather_facts(device, params: dict) -> dict:
    """The module's result: ``ansible_facts`` and, if asked, the resource names."""
    collected = subsets(params.get("gather_subset") or [])
    info = device.capabilities.get("device_info", {})
    facts: dict = {
        "ansible_net_api": "netconf",
        "ansible_net_system": info.get("network_os", "flyos"),
        "ansible_net_gather_subset": collected,
        "ansible_net_modules": yang_modules(device.capabilities.get("server_capabilities", [])),
    }
    system = device.read(
        "running", f'<system xmlns="{ROOTS["system"]["namespace"]}"><hostname/></system>'
    )
    if system.get("system", {}).get("hostname"):
        facts["ansible_net_hostname"] = system["system"]["hostname"]
    if "config" in collected:
        facts["ansible_net_config"] = device.read("running")
    if "state" in collected:
        facts["ansible_net_state"] = device.read("running", state=True)
    resources = params.get("gather_network_resources") or []
    if resources:
        names = sorted(RESOURCES) if "all" in resources else sorted(set(resources))
        data = device.get_config("running")
        facts["ansible_net_gather_network_resources"] = names
        facts["ansible_network_resources"] = {
            name: Resource(name).from_data(data) for name in names
        }
    result: dict = {"ansible_facts": facts}
    if params.get("available_network_resources"):
        result["available_network_resources"] = sorted(RESOURCES)
    return result
