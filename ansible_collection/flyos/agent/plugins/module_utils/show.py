# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The REPL's read-only ``show`` commands, answered over NETCONF.

NETCONF has no REPL, so each command maps to the NETCONF operations that
hold the same information, and the output is formatted the way the REPL
formats it:

    show running|candidate|startup [MODULE] [| dsl|set|json|xml]   get-config
    show compare                                  get-config x2, unified DSL diff
    show compare rollback N                       compare RPC (one line per change)
    show history                                  history RPC
    show state [MODULE] [| json]                  get (operational state)
    show sessions                                 get ietf-netconf-monitoring sessions
"""

from __future__ import annotations

import difflib
import json

from ansible_collections.flyos.agent.plugins.module_utils.render import (
    render_dsl,
    render_set,
    render_value,
)
from ansible_collections.flyos.agent.plugins.module_utils.schema import MODULE_WORDS, ROOTS
from ansible_collections.flyos.agent.plugins.module_utils.tree import CONTAINER, LIST
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import (
    decode_roots,
    filter_xml,
    root_elements,
    serialize,
)

DATASTORES = ("running", "candidate", "startup")
FORMATS = ("dsl", "set", "json", "xml")
MONITORING_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
USAGE = (
    "show running|candidate|startup [MODULE] [| dsl|set|json|xml], show compare [rollback N], "
    "show history, show state [MODULE] [| json], show sessions"
)


class CommandError(ValueError):
    """A command this module cannot run over NETCONF (or a malformed one)."""


def run_show(device, line: str) -> str:
    """The output of one ``show`` command."""
    main, pipe, rest = line.partition("|")
    words, fmt = main.split(), rest.strip()
    if pipe and fmt not in FORMATS:
        raise CommandError(f"unknown output format '{fmt}' (one of {', '.join(FORMATS)})")
    if words[-1:] == ["json"] and not pipe:
        words, fmt = words[:-1], "json"
    if len(words) < 2 or words[0] != "show":
        raise CommandError(
            f"'{line}' is not a read-only command this module runs over NETCONF ({USAGE})"
        )
    what = words[1:]
    if what[0] in DATASTORES:
        return show_config(device, what[0], what[1:], fmt or "dsl")
    if what == ["compare"]:
        return show_compare(device)
    if what[:2] == ["compare", "rollback"] and len(what) == 3 and what[2].isdigit():
        return changes_text(device.compare(f"rollback:{int(what[2])}", "candidate"))
    if what == ["history"]:
        return history_table(device.call("history"))
    if what[0] == "state":
        return show_state(device, what[1:], fmt)
    if what == ["sessions"]:
        return sessions_table(device)
    raise CommandError(
        f"'{line}' is not a read-only command this module runs over NETCONF ({USAGE})"
    )


def _modules(words: list[str]) -> str | None:
    """The subtree filter of ``[MODULE]`` (None for every module)."""
    if not words:
        return None
    if len(words) > 1:
        raise CommandError("name one module, or none for all")
    name = MODULE_WORDS.get(words[0].replace("_", "-"), words[0].replace("_", "-"))
    if name not in ROOTS:
        raise CommandError(
            f"unknown module '{words[0]}' (one of: {', '.join(sorted(MODULE_WORDS))})"
        )
    return filter_xml(name)


def rfc7951(config: dict) -> dict:
    """``{root: value}`` (YANG names) as RFC 7951 JSON members (``module:root``)."""
    return {f"{ROOTS[name]['module']}:{name}": value for name, value in config.items()}


def show_config(device, source: str, modules: list[str], fmt: str) -> str:
    data = device.get_config(source, _modules(modules))
    if fmt == "xml":
        body = "".join(serialize(element) for element in root_elements(data))
        return f'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">{body}</config>'
    config = decode_roots(data, yang_names=True)
    if fmt == "json":
        return json.dumps(rfc7951(config), indent=2)
    return (render_set if fmt == "set" else render_dsl)(config)


def show_compare(device) -> str:
    """The unified diff of the DSL renderings of running and candidate."""
    old = render_dsl(decode_roots(device.get_config("running"), yang_names=True))
    new = render_dsl(decode_roots(device.get_config("candidate"), yang_names=True))
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), "running", "candidate", n=2, lineterm=""
        )
    )
    return "\n".join(lines) if lines else "no differences"


def changes_text(changes: list) -> str:
    """One line per change of the compare RPC (leaves as ``name: old -> new``)."""
    if not changes:
        return "no differences"
    lines = []
    for change in changes:
        line = f"{change['operation']} {change['target']}"
        if "value" in change:
            line += f" {json.dumps(change['value'], sort_keys=True)}"
        for name, values in change.get("leaves", {}).items():
            line += f"; {name}: {values.get('old') or '-'} -> {values.get('new') or '-'}"
        lines.append(line)
    return "\n".join(lines)


def table(headers: list[str], rows: list[list]) -> str:
    """A plain text table: a header line, then one line per row, columns padded."""
    cells = [
        ["-" if v is None else render_value(v) if isinstance(v, bool) else str(v) for v in row]
        for row in rows
    ]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def history_table(records: list) -> str:
    rows = [
        [
            r.get("rollback"),
            r.get("commit-id"),
            r.get("time"),
            r.get("user"),
            r.get("channel"),
            r.get("comment", ""),
        ]
        for r in records
    ]
    return table(["rollback", "commit", "time", "user", "channel", "comment"], rows)


def show_state(device, modules: list[str], fmt: str) -> str:
    config = decode_roots(device.get(_modules(modules)), state=True, yang_names=True)
    if fmt == "json":
        return json.dumps(rfc7951(config), indent=2)
    if fmt:
        raise CommandError("show state takes '| json' or no format")
    sections: list[str] = []
    for name, value in config.items():
        _collect(ROOTS[name], value, name, sections)
    return "\n\n".join(sections) if sections else "no operational state"


def _collect(node: dict, value: dict, title: str, sections: list[str]) -> None:
    """One table per list whose entries carry a ``state`` container."""
    for name, child in node.get("children", {}).items():
        member = value.get(name) if isinstance(value, dict) else None
        if member is None or child["kind"] not in (LIST, CONTAINER):
            continue
        if child["kind"] == CONTAINER:
            _collect(child, member, f"{title} {name}", sections)
            continue
        rows = [(e, _flat(e["state"])) for e in member if isinstance(e.get("state"), dict)]
        if rows:
            columns = list(dict.fromkeys(c for _entry, flat in rows for c in flat))
            body = [
                [entry.get(k) for k in child["keys"]] + [flat.get(c) for c in columns]
                for entry, flat in rows
            ]
            sections.append(f"{title} {name}\n" + table(list(child["keys"]) + columns, body))
        for entry in member:
            _collect(child, entry, f"{title} {name}", sections)


def _flat(state: dict, prefix: str = "") -> dict:
    out: dict = {}
    for name, value in state.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{name}/"))
        elif not isinstance(value, list):
            out[prefix + name] = value
    return out


def sessions_table(device) -> str:
    """The NETCONF sessions the agent reports in ietf-netconf-monitoring."""
    data = device.get(f'<netconf-state xmlns="{MONITORING_NS}"><sessions/></netconf-state>')
    columns = ["session-id", "username", "transport", "source-host", "login-time"]
    rows = []
    for session in data.iter(f"{{{MONITORING_NS}}}session"):
        rows.append([session.findtext(f"{{{MONITORING_NS}}}{c}") for c in columns])
    return table(columns, rows)
