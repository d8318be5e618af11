"""The original FlyOS module verbs (`route add static {...}`) as datastore edits.

Shared by every channel that speaks them: IPC (`{"command": "route add", ...}`),
REST /api/v1/<module>/<verb>, MCP/JSON-RPC `<module>.<verb>` and the DSL.
A module is a top-level container; its "kind" is one of its lists (`static`,
`pbr`, `bgp`, `ospf` for routing). `add` creates an entry (error if it exists),
`set` replaces that entry, `delete` deletes it, `sync` replaces the whole
module's configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flyos_agent.datastore.edit import Edit, Operation
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.errors import InvalidValue, MissingElement, UnknownElement
from flyos_agent.schema import Kind, Schema, SchemaNode

MODULE_ALIASES = {
    "route": "routing",
    "routing": "routing",
    "nic": "interfaces",
    "interface": "interfaces",
    "interfaces": "interfaces",
    "acl": "acls",
    "acls": "acls",
    "nat": "nat",
    "tunnel": "tunnels",
    "tunnels": "tunnels",
    "vrf": "vrfs",
    "vrfs": "vrfs",
    "system": "system",
}
DEFAULT_KIND = {
    "routing": "static",
    "interfaces": "interface",
    "acls": "acl",
    "nat": "rule",
    "vrfs": "vrf",
}
VERBS = {
    "add": Operation.CREATE,
    "set": Operation.REPLACE,
    "delete": Operation.DELETE,
    "sync": Operation.REPLACE,
}
TRUE_WORDS = {"yes", "on", "true", "enable", "enabled"}
FALSE_WORDS = {"no", "off", "false", "disable", "disabled"}


def module_root(schema: Schema, module: str) -> SchemaNode:
    """The top-level container a module word names (`route` -> routing)."""
    name = MODULE_ALIASES.get(module.replace("_", "-"), module)
    root = schema.roots.get(name)
    if root is None:
        known = ", ".join(sorted(MODULE_ALIASES))
        raise UnknownElement(f"unknown module '{module}' (known: {known})")
    return root


def kind_node(root: SchemaNode, kind: str | None) -> SchemaNode | None:
    """The list a kind word names in `root`; the module's default list if None."""
    name = kind or DEFAULT_KIND.get(root.name)
    if name is None:
        return None
    node = root.child(name)
    if node is None or node.kind is not Kind.LIST:
        kinds = ", ".join(n for n, c in root.children.items() if c.kind is Kind.LIST)
        raise UnknownElement(f"'{name}' is not a kind of {root.name} (kinds: {kinds})")
    return node


def verb_edits(
    schema: Schema, module: str, verb: str, kind: str | None, args: Mapping[str, Any]
) -> list[Edit]:
    """The edits one module verb means."""
    operation = VERBS.get(verb)
    if operation is None:
        raise InvalidValue(f"unknown verb '{verb}' (add, set, delete, sync)")
    root = module_root(schema, module)
    top: InstancePath = ((root.name, None),)
    if verb == "sync":
        return [Edit(Operation.REPLACE, top, coerce(root, args))]
    node = kind_node(root, kind)
    if node is None:
        value = coerce(root, args)
        if verb == "delete":
            return [Edit(Operation.REMOVE, (*top, (name, None))) for name in value]
        merge = Operation.CREATE if verb == "add" else Operation.MERGE
        return [Edit(merge, top, value)]
    entry = coerce(node, args)
    missing = [k for k in node.keys if k not in entry]
    if missing:
        raise MissingElement(
            f"{root.name} {node.name} needs {', '.join(missing)}", info={"missing": missing}
        )
    key = tuple(entry[k] for k in node.keys)
    return [Edit(operation, (*top, (node.name, key)), None if verb == "delete" else entry)]


def parse_arg_list(args: Iterable[str]) -> dict[str, str]:
    """`["prefix=10.0.0.0/24", "via=192.168.1.1"]` -> a dict; InvalidValue otherwise."""
    out: dict[str, str] = {}
    for arg in args:
        name, sep, value = str(arg).partition("=")
        if not sep or not name.strip():
            raise InvalidValue(f"argument '{arg}' is not of the form key=value")
        out[name.strip()] = value.strip()
    return out


def coerce(node: SchemaNode, data: Mapping[str, Any]) -> dict[str, Any]:
    """Make operator spellings fit the schema: `local_pref` -> `local-pref`,
    yes/no for booleans, "a, b" for leaf-lists; nested objects recursively."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        child = node.child(name.rpartition(":")[2])
        if child is None:
            out[name] = value
            continue
        out[child.name] = _coerce_value(child, value)
    return out


def _coerce_value(node: SchemaNode, value: Any) -> Any:
    if node.kind is Kind.LEAF:
        return _coerce_scalar(node, value)
    if node.kind is Kind.LEAF_LIST:
        items = value if isinstance(value, list) else str(value).replace(",", " ").split()
        return [_coerce_scalar(node, v) for v in items]
    if node.kind is Kind.LIST:
        items = value if isinstance(value, list) else [value]
        return [coerce(node, v) if isinstance(v, Mapping) else v for v in items]
    return coerce(node, value) if isinstance(value, Mapping) else value


def _coerce_scalar(node: SchemaNode, value: Any) -> Any:
    if node.type is None or not isinstance(value, str):
        return value
    if node.type.base == "boolean":
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return value
