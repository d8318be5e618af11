"""RFC 8040 section 3.5.3 resource identifiers <-> instance paths.

`/restconf/data/flyos-routing:routing/static=10.0.0.0%2F24/via` names the leaf
`via` of one static route. Names carry their module on the first step (and
wherever the module changes); list keys follow `=`, separated by `,`, each
percent-encoded. Parsing works on the raw (still encoded) path, so a `/`
inside a key (`%2F`) never splits a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from flyos_agent.datastore.paths import InstancePath, canonical_path, format_path
from flyos_agent.errors import InvalidValue, UnknownElement
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import value_to_text

DATA_PREFIX = "/restconf/data"


@dataclass(frozen=True)
class Target:
    """A RESTCONF data resource: its instance path and schema node (None: the datastore)."""

    path: InstancePath
    node: SchemaNode | None

    @property
    def is_entry(self) -> bool:
        """True for one list entry or one leaf-list value."""
        return bool(self.path) and self.path[-1][1] is not None

    @property
    def is_whole_list(self) -> bool:
        """True for a list or leaf-list named without keys (readable, not writable)."""
        return self.node is not None and self.node.is_list_like and not self.is_entry

    def xpath(self, schema: Schema) -> str:
        """The instance path as the XPath text errors and the Manager use."""
        return format_path(schema, self.path)


def parse_api_path(schema: Schema, raw: str) -> Target:
    """The target named by `raw`, the encoded path after /restconf/data.

    UnknownElement for a name the schema lacks or a first step without its
    module; InvalidValue / MissingElement for bad or missing keys.
    """
    steps: list[tuple[str, tuple[str, ...] | None]] = []
    node: SchemaNode | None = None
    for segment in (s for s in raw.split("/") if s):
        name_part, has_keys, key_part = segment.partition("=")
        module, _, name = unquote(name_part).rpartition(":")
        node = _child(schema, node, module, name)
        keys: tuple[str, ...] | None = None
        if has_keys:
            if not node.is_list_like:
                raise InvalidValue(f"'{name}' is not a list and takes no key")
            keys = tuple(unquote(part) for part in key_part.split(","))
        steps.append((node.name, keys))
    path = canonical_path(schema, tuple(steps))
    return Target(path, node)


def _child(schema: Schema, parent: SchemaNode | None, module: str, name: str) -> SchemaNode:
    if parent is None:
        if not module:
            raise UnknownElement(f"the first step '{name}' needs its module: <module>:{name}")
        node = schema.roots.get(name)
    else:
        node = parent.children.get(name)
    if node is None or (module and node.module != module):
        where = parent.path if parent is not None else "/"
        qualified = f"{module}:{name}" if module else name
        raise UnknownElement(f"no data node '{qualified}' under {where}")
    return node


def format_api_path(schema: Schema, path: InstancePath) -> str:
    """The /restconf/data URI path of an instance path (keys percent-encoded)."""
    parts: list[str] = []
    node: SchemaNode | None = None
    module = ""
    for name, key in path:
        node = schema.roots[name] if node is None else node.children[name]
        label = name if node.module == module else f"{node.module}:{name}"
        module = node.module
        if key is not None:
            label += "=" + ",".join(quote(value_to_text(v), safe="") for v in key)
        parts.append(label)
    return "/".join([DATA_PREFIX, *parts])


def child_path(path: InstancePath, node: SchemaNode, entry: object) -> InstancePath:
    """The instance path of a new child `node` of `path` made from its JSON value
    (the key values of a list entry, or the value of a leaf-list entry)."""
    if node.kind is Kind.LIST:
        if not isinstance(entry, dict):
            raise InvalidValue(f"expected an object for an entry of list '{node.name}'")
        keys = []
        for key in node.keys:
            value = next((v for k, v in entry.items() if k.rpartition(":")[2] == key), None)
            if value is None:
                raise InvalidValue(f"the new '{node.name}' entry lacks its key '{key}'")
            keys.append(value)
        return (*path, (node.name, tuple(keys)))
    if node.kind is Kind.LEAF_LIST:
        return (*path, (node.name, (entry,)))
    return (*path, (node.name, None))
