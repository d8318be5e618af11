"""Immutable schema nodes: what every layer knows about a YANG data node."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Kind(enum.Enum):
    """The YANG statement a schema node comes from."""

    CONTAINER = "container"
    LIST = "list"
    LEAF = "leaf"
    LEAF_LIST = "leaf-list"
    CHOICE = "choice"
    CASE = "case"

    @property
    def is_data(self) -> bool:
        """True for kinds that appear in instance data (not choice/case)."""
        return self not in (Kind.CHOICE, Kind.CASE)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A YANG pattern: an XSD regular expression, possibly inverted."""

    regex: str
    invert: bool = False
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class LeafType:
    """A resolved leaf type: base type plus every restriction along its typedef chain.

    `name` is the most derived typedef name ("inet:ipv4-prefix"), or the base
    type's name when the leaf uses a built-in type directly.
    """

    base: str
    name: str
    typedefs: tuple[str, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()
    lengths: tuple[tuple[int, int], ...] = ()
    patterns: tuple[Pattern, ...] = ()
    enums: tuple[str, ...] = ()
    bits: tuple[str, ...] = ()
    members: tuple[LeafType, ...] = ()
    leafref_path: str | None = None
    leafref_target: str | None = None
    require_instance: bool = True
    fraction_digits: int | None = None

    def derives_from(self, typedef: str) -> bool:
        """True if this type is, or derives from, the typedef named `prefix:name`."""
        return typedef in self.typedefs


@dataclass(frozen=True, slots=True)
class Must:
    """A `must` constraint with its optional error-message and error-app-tag."""

    expression: str
    error_message: str | None = None
    error_app_tag: str | None = None


@dataclass(frozen=True, eq=False, slots=True)
class SchemaNode:
    """One node of the compiled schema tree.

    `path` is the schema path with the module prefix on the top-level node only
    ("/flyos-routing:routing/static/prefix"), the form used in error messages.
    `children` holds data children in schema order (the data nodes of a choice
    appear as children of the choice's parent). `nested_lists` names the
    children that are lists, or containers with lists somewhere inside: what
    a walk looking for list entries must descend into. `nacm_default_deny` is
    "write" or "all" when the node carries RFC 8341's nacm:default-deny-write
    or nacm:default-deny-all extension (else None). `case` names the case of a
    choice the node belongs to directly (its mandatory-ness holds only while
    that case is the one in use).
    """

    name: str
    module: str
    namespace: str
    kind: Kind
    path: str
    description: str = ""
    config: bool = True
    mandatory: bool = False
    presence: bool = False
    keys: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    min_elements: int = 0
    max_elements: int | None = None
    type: LeafType | None = None
    default: Any = None
    units: str | None = None
    must: tuple[Must, ...] = ()
    when: str | None = None
    choice: str | None = None
    case: str | None = None
    children: Mapping[str, SchemaNode] = field(default_factory=dict)
    parent_path: str | None = None
    nested_lists: tuple[str, ...] = ()
    nacm_default_deny: str | None = None

    @property
    def is_list_like(self) -> bool:
        """True for list and leaf-list nodes."""
        return self.kind in (Kind.LIST, Kind.LEAF_LIST)

    @property
    def is_leafy(self) -> bool:
        """True for leaf and leaf-list nodes."""
        return self.kind in (Kind.LEAF, Kind.LEAF_LIST)

    def child(self, name: str) -> SchemaNode | None:
        """The data child called `name` (with `_` accepted for `-`), or None."""
        found = self.children.get(name)
        if found is None and "_" in name:
            found = self.children.get(name.replace("_", "-"))
        return found

    def walk(self) -> Iterator[SchemaNode]:
        """This node and every descendant, depth first in schema order."""
        yield self
        for child in self.children.values():
            yield from child.walk()

    def __repr__(self) -> str:
        return f"SchemaNode({self.kind.value} {self.path})"


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """A loaded YANG module: identity and where its text lives."""

    name: str
    prefix: str
    namespace: str
    revision: str | None
    description: str
    source: str
    imports: tuple[str, ...] = ()
    top_nodes: tuple[str, ...] = ()
