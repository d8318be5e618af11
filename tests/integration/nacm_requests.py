"""How each channel of tests/integration/test_nacm_channels.py spells a matrix case:
IPC edits, NETCONF subtree filters and edit-config bodies, RESTCONF resource
paths, and the FlyOS JSON-RPC module verbs served on /mcp."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from nacm_matrix import Case, Target

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"


def json_edit(case: Case) -> dict[str, Any]:
    """The IPC `edit` item of a write case."""
    target = case.target
    assert target is not None
    if case.access == "delete":
        return {"operation": "delete", "path": target.xpath()}
    if case.access == "update":
        return {
            "operation": "merge",
            "path": target.xpath(target.update[0]),
            "value": target.update[1],
        }
    value = target.entry_value() if target.is_entry else target.content[""]
    return {"operation": "create", "path": target.xpath(), "value": value}


def last_name(target: Target) -> str:
    """The element name of the target itself."""
    return target.steps[-1][0]


def netconf_xml(target: Target, access: str | None, *, select: bool) -> str:
    """A subtree filter (`select`) or edit-config <config> for the case's target."""
    inner = ""
    if access == "update":
        leaf, value = target.update
        inner = f"<{leaf}>{value}</{leaf}>" if leaf else str(value)
    elif access == "create":
        leaves = {k: v for k, v in target.content.items() if k}
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in leaves.items()) or str(target.content[""])
    operation = {"create": "create", "delete": "delete"}.get(access or "", "merge")
    text = ""
    for index, (name, keys) in enumerate(reversed(target.steps)):
        key_xml = "".join(f"<{k}>{v}</{k}>" for k, v in keys)
        attrs = f' xmlns="{target.namespace}"' if index == len(target.steps) - 1 else ""
        if index == 0:
            attrs += "" if select else f' nc:operation="{operation}"'
            text = f"<{name}{attrs}>{key_xml}{inner}</{name}>"
        else:
            text = f"<{name}{attrs}>{key_xml}{text}</{name}>"
    return text if select else f'<config xmlns="{NC}" xmlns:nc="{NC}">{text}</config>'


def api_path(target: Target, *, drop_last: bool = False) -> str:
    """The RESTCONF data resource path of the target (or of its parent)."""
    steps = target.steps[:-1] if drop_last else target.steps
    parts = [
        name + ("=" + ",".join(quote(str(v), safe="") for _, v in keys) if keys else "")
        for name, keys in steps
    ]
    return f"{target.module}:" + "/".join(parts)


def jsonrpc_verb(case: Case) -> tuple[str, dict[str, Any]]:
    """The FlyOS JSON-RPC module verb that performs a write case."""
    target = case.target
    assert target is not None
    label, value = target.label, target.entry_value() if target.is_entry else target.content[""]
    word = {"route": "route", "nat": "nat", "vrf": "vrf"}.get(label.split("-")[0])
    if word is not None:
        if case.access == "update":
            return f"{word}.set", {**value, target.update[0]: target.update[1]}
        verb = "add" if case.access == "create" else "delete"
        return f"{word}.{verb}", value if verb == "add" else dict(target.steps[-1][1])
    if label == "sys-description":
        if case.access == "delete":
            return "system.delete", {"description": True}
        return "system.set", {"description": target.update[1] if case.access == "update" else value}
    if label == "eth0-description":
        entry: dict[str, Any] = {"name": "eth0", "type": "ethernet"}
        if case.access != "delete":
            entry["description"] = target.update[1] if case.access == "update" else value
        return "nic.set", entry
    rule = {**value, **({"comment": target.update[1]} if case.access == "update" else {})}
    spare = {
        "name": "99-spare",
        "group": ["nobody"],
        "rule": [] if case.access == "delete" else [rule],
    }
    return "nacm.set.rule-list", spare
