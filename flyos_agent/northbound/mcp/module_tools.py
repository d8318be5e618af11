"""Five tools per configuration module, generated from the compiled schema.

A module is a top-level configuration container of yang/. Its tools are
named after its FlyOS word, the first of its words in `verbs.MODULE_ALIASES`
(route, nic, acl, nat, tunnel, vrf, system; a module without one uses its
container name), so the tool `route_add` is the JSON-RPC method `route.add`
and the IPC command `route add`:

- `<word>_add`, `<word>_set`, `<word>_delete`: one entry of one of the
  module's lists (its "kinds"), given as `{"<kind>": {<entry>}}`, e.g.
  `route_add {"static": {"prefix": "10.0.0.0/24", "via": "192.168.1.1"}}`.
  add creates the entry (error if it exists), set creates or replaces it,
  delete names it by its keys. A module without lists (system) takes its
  leaves directly; its delete takes `{"<leaf>": true}`.
- `<word>_sync`: replace the whole module with the given content.
- `<word>_get`: the module's configuration in a datastore.

Edits go to the session's private candidate through `verbs.verb_edits`,
the same edits every channel makes of a module verb.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import BadElement
from flyos_agent.northbound.ipc.protocol import Args
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.northbound.mcp.schemas import describe, entry_schema, keys_schema
from flyos_agent.northbound.mcp.session_tools import SOURCE, WITH_DEFAULTS_ARG
from flyos_agent.northbound.mcp.spec import ToolRun, ToolSpec
from flyos_agent.northbound.verbs import MODULE_ALIASES, verb_edits
from flyos_agent.schema import Kind, Schema, SchemaNode

NEXT = "compare shows the whole pending diff; commit applies it (a confirmed commit)"
ENTRY_TEXT = {
    "add": "Add one new {root} entry to this session's private candidate (error if it exists).",
    "set": "Create or replace one {root} entry in this session's private candidate.",
    "delete": "Delete one {root} entry (named by its keys) from this session's private candidate.",
}
LEAVES_TEXT = {
    "add": "Create the {root} settings with the given leaves in this session's private "
    "candidate (error if they exist).",
    "set": "Set the given {root} leaves in this session's private candidate (others stay).",
    "delete": 'Remove {root} leaves ({{"<leaf>": true}}) from this session\'s private candidate.',
}


def module_tools(schema: Schema) -> list[ToolSpec]:
    """The add/set/delete/sync/get tools of every configuration module of `schema`."""
    return [
        tool
        for root in schema.roots.values()
        if root.config
        for tool in _tools_of(schema, root, tool_word(root))
    ]


def tool_word(root: SchemaNode) -> str:
    """The word a module's tools start with: its first FlyOS alias, else its name."""
    word = next((alias for alias, name in MODULE_ALIASES.items() if name == root.name), root.name)
    return word.replace("-", "_")


def _kinds(root: SchemaNode) -> dict[str, SchemaNode]:
    return {c.name: c for c in root.children.values() if c.kind is Kind.LIST and c.config}


def _tools_of(schema: Schema, root: SchemaNode, word: str) -> list[ToolSpec]:
    kinds = _kinds(root)
    about = f"{root.name} ({root.module}): {describe(root)}"
    given = f' Input: {{"<kind>": {{entry}}}}, kind one of {", ".join(kinds)}.' if kinds else ""
    texts = ENTRY_TEXT if kinds else LEAVES_TEXT
    tools = [
        ToolSpec(
            f"{word}_{verb}",
            f"{texts[verb].format(root=root.name)}{given} Module {about} "
            "Nothing changes running until commit.",
            _edit_schema(root, kinds, verb),
            _edit_run(schema, root, f"{word}_{verb}", verb),
        )
        for verb in ("add", "set", "delete")
    ]
    tools.append(
        ToolSpec(
            f"{word}_sync",
            f"Replace the whole {root.name} configuration in this session's private candidate "
            f"with the given content (what is not given is deleted). Module {about}",
            entry_schema(root),
            _edit_run(schema, root, f"{word}_sync", "sync"),
        )
    )
    tools.append(
        ToolSpec(
            f"{word}_get",
            f"The {root.name} configuration of a datastore (default running) as RFC 7951 "
            f"JSON. Module {about}",
            {
                "type": "object",
                "properties": {"source": SOURCE, "with_defaults": WITH_DEFAULTS_ARG},
                "additionalProperties": False,
            },
            _get_run(root, f"{word}_get"),
            read_only=True,
        )
    )
    return tools


def _edit_schema(root: SchemaNode, kinds: Mapping[str, SchemaNode], verb: str) -> dict[str, Any]:
    """The input of add/set/delete: `{kind: entry}` for a module with lists, else its leaves."""
    if not kinds:
        if verb != "delete":
            return entry_schema(root, require=False)
        removable = {
            name: {"const": True, "description": f"true: remove {name}"}
            for name, child in root.children.items()
            if child.config
        }
        return _object(removable, f"the {root.name} leaves to remove", min_properties=1)
    entries = {
        name: keys_schema(node) if verb == "delete" else entry_schema(node)
        for name, node in kinds.items()
    }
    text = f"exactly one of {', '.join(kinds)}: the kind of {root.name} entry, and the entry"
    out = _object(entries, text, min_properties=1)
    out["maxProperties"] = 1
    return out


def _object(properties: dict[str, Any], description: str, *, min_properties: int) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "minProperties": min_properties,
        "additionalProperties": False,
    }


def _edit_run(schema: Schema, root: SchemaNode, tool: str, verb: str) -> ToolRun:
    kinds = _kinds(root)

    def run(session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        kind, values = (None, arguments) if verb == "sync" else _entry(tool, kinds, arguments)
        edits = verb_edits(schema, root.name, verb, kind, values)
        session.ops.edit_candidate(edits)
        done = [{"operation": str(e.operation), "path": format_path(schema, e.path)} for e in edits]
        return {"candidate": done, "next": NEXT}

    return run


def _entry(
    tool: str, kinds: Mapping[str, SchemaNode], arguments: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """(kind, entry) from `{kind: entry}`; (None, arguments) for a module without lists."""
    if not kinds:
        return None, arguments
    if len(arguments) == 1:
        ((name, value),) = arguments.items()
        kind = name.replace("_", "-")
        if kind in kinds and isinstance(value, dict):
            return kind, value
    raise BadElement(
        f"'{tool}' takes exactly one of {', '.join(kinds)} (the kind of entry), "
        "whose value is the entry as an object",
        info={"bad-element": ", ".join(arguments) or tool},
    )


def _get_run(root: SchemaNode, tool: str) -> ToolRun:
    def run(session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        args = Args(tool, arguments, ("source", "with-defaults"))
        return session.ops.get_config(
            args.text("source", "running") or "running",
            path=f"/{root.name}",
            xpath=None,
            with_defaults=args.text("with-defaults", "explicit") or "explicit",
        )

    return run
