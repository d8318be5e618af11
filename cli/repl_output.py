"""How `flyos` shows results to a person: messages, tables, coloured diffs, XML."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from flyos_agent.northbound.dsl import render_value
from flyos_agent.schema import Kind, Schema, SchemaNode

RED, GREEN, CYAN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"
NO_DIFFERENCES = "no differences"
NETCONF_BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"


def commit_message(result: Mapping[str, Any] | None, confirm_hint: str) -> str:
    """One line about a commit result (`commit 7 complete (2 changes)`)."""
    if result is None:
        return "ok (candidate changed; commit to apply)"
    changes = len(result["changes"])
    if "plan" in result:
        return f"configuration check succeeds ({changes} changes)"
    if not result["changed"]:
        done = "commit complete: no changes"
    else:
        done = f"commit {result['commit-id']} complete ({changes} changes)"
    if "confirm-timeout" in result:
        done += f"; rolls back in {result['confirm-timeout']} s unless confirmed ({confirm_hint})"
    return done


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: a header line, then one line per row, columns padded."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return render_value(value) if isinstance(value, bool) else str(value)


def history_table(records: Sequence[Mapping[str, Any]]) -> str:
    """`show history`: newest first, with the rollback index of each commit."""
    rows = [
        (r["rollback"], r["commit-id"], r["time"], r["user"], r["channel"], r["comment"] or "")
        for r in records
    ]
    return table(("rollback", "commit", "time", "user", "channel", "comment"), rows)


def unified_diff(old: str, new: str, old_name: str, new_name: str, *, color: bool) -> str:
    """A unified diff of two renderings; red/green/cyan when `color`."""
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, n=2, lineterm=""
        )
    )
    if not lines:
        return NO_DIFFERENCES
    if not color:
        return "\n".join(lines)
    return "\n".join(_paint(line) for line in lines)


def _paint(line: str) -> str:
    if line.startswith(("---", "+++")):
        return f"{BOLD}{line}{RESET}"
    if line.startswith("@@"):
        return f"{CYAN}{line}{RESET}"
    if line.startswith("-"):
        return f"{RED}{line}{RESET}"
    if line.startswith("+"):
        return f"{GREEN}{line}{RESET}"
    return line


# ---------------------------------------------------------------------- state


def state_tables(schema: Schema, data: Mapping[str, Any]) -> str:
    """Operational state as tables: one per list whose entries carry a `state` container.

    Columns are the list's keys and the state leaves (nested ones as
    `counters/in-octets`); each entry is a row.
    """
    sections: list[str] = []
    for member, value in data.items():
        root = schema.roots.get(member.rpartition(":")[2])
        if root is not None:
            _collect(root, value, root.name, sections)
    return "\n\n".join(sections) if sections else "no operational state"


def _collect(node: SchemaNode, value: Any, title: str, sections: list[str]) -> None:
    for name, child in node.children.items():
        member = value.get(name) if isinstance(value, Mapping) else None
        if member is None or child.kind not in (Kind.LIST, Kind.CONTAINER):
            continue
        if child.kind is Kind.CONTAINER:
            _collect(child, member, f"{title} {name}", sections)
            continue
        rows = [(e, _flat(e.get("state", {}))) for e in member if isinstance(e.get("state"), dict)]
        if rows:
            columns = list(dict.fromkeys(c for _, flat in rows for c in flat))
            body = [[entry.get(k) for k in child.keys] + [flat.get(c) for c in columns]
                    for entry, flat in rows]  # fmt: skip
            sections.append(f"{title} {name}\n" + table([*child.keys, *columns], body))
        for entry in member:
            _collect(child, entry, f"{title} {name}", sections)


def _flat(state: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in state.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{name}/"))
        elif not isinstance(value, list):
            out[prefix + name] = value
    return out


# ---------------------------------------------------------------------- XML


def to_xml(schema: Schema, data: Mapping[str, Any]) -> str:
    """RFC 7951 JSON as RFC 7950 XML inside a NETCONF `<config>` element."""
    config = etree.fromstring(f'<config xmlns="{NETCONF_BASE}"/>')
    for member, value in data.items():
        root = schema.roots.get(member.rpartition(":")[2])
        if root is not None:
            element = etree.fromstring(f'<{root.name} xmlns="{root.namespace}"/>')
            config.append(element)
            _xml_children(element, root, value)
    etree.indent(config)
    return etree.tostring(config, encoding="unicode")


def _xml_children(parent: etree._Element, node: SchemaNode, value: Mapping[str, Any]) -> None:
    for name, child in node.children.items():
        member = value.get(name)
        if member is None:
            continue
        tag = f"{{{node.namespace}}}{name}"
        items = member if child.is_list_like else [member]
        for item in items:
            element = etree.SubElement(parent, tag)
            if child.is_leafy:
                element.text = "" if item == [None] else _xml_text(item)
            else:
                _xml_children(element, child, item)


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
