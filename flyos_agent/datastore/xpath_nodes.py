"""The lazy XPath view over (schema, tree): XNode and its navigation.

XNodes are created only for the nodes an expression touches: a child step
looks up one name, a descendant step skips subtrees that cannot hold the name
it wants, and large lists' key order is cached per Map. The view follows
YANG's accessible tree: leaf and leaf-list defaults are visible where their
parent exists, and non-presence containers always exist, unless their `when`
is false. Nodes inside choices (whose active case is not known here) and state
(config false) nodes are visible only when stored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from immutables import Map

from flyos_agent.datastore.paths import InstancePath, Key
from flyos_agent.datastore.tree import EMPTY, iter_entries
from flyos_agent.datastore.xpath_functions import XPathError, to_boolean
from flyos_agent.datastore.xpath_parse import parse
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import value_to_text

_NO_CHILDREN: Mapping[str, SchemaNode] = {}


class XNode:
    """One node of the XPath view over (schema, tree), created on demand.

    `schema` is None for the root node; `path` is the instance path (a text
    node, the text child of a leaf, shares its leaf's path); `value` is the
    container/entry Map, the leaf value, one leaf-list value, or the whole tree
    for the root. `stored` is False for defaults, implicit non-presence
    containers and absent context nodes created from a path.
    """

    __slots__ = ("_order", "_schemas", "_view", "_within", "is_text", "parent", "path", "schema",
                 "stored", "value")  # fmt: skip

    def __init__(
        self,
        schema: SchemaNode | None,
        path: InstancePath,
        parent: XNode | None,
        value: Any,
        *,
        stored: bool = True,
        is_text: bool = False,
        within: Any = None,
        schemas: Mapping[str, SchemaNode] | None = None,
    ) -> None:
        self.schema = schema
        self.path = path
        self.parent = parent
        self.value = value
        self.stored = stored
        self.is_text = is_text
        self._within = within
        self._order: tuple[Any, ...] | None = None
        self._view: tuple[Schema, set[Any]] | None = None  # on the root only
        if schemas is None:
            schemas = schema.children if schema is not None and not is_text else _NO_CHILDREN
        self._schemas = schemas

    def __repr__(self) -> str:
        return f"XNode({'text() of ' if self.is_text else ''}{self.path!r})"

    @property
    def name(self) -> str:
        """The local name of an element node; "" for the root and text nodes."""
        return self.schema.name if self.schema is not None and not self.is_text else ""

    @property
    def is_element(self) -> bool:
        """True for element nodes (everything but the root and text nodes)."""
        return self.schema is not None and not self.is_text

    @property
    def ident(self) -> tuple[InstancePath, bool]:
        """Node identity: two XNodes with equal idents are the same XPath node."""
        return self.path, self.is_text

    def string_value(self) -> str:
        """XPath string-value: a leaf's text, or the text of all descendant leaves."""
        if self.schema is not None and self.schema.is_leafy:
            return leaf_text(self.schema, self.value)
        return "".join(
            leaf_text(n.schema, n.value)
            for n in _descendants(self, None)
            if n.schema is not None and n.schema.is_leafy and not n.is_text
        )

    def children(self) -> Iterator[XNode]:
        """Element children in document order, or the text node of a leaf."""
        for child_schema in self._schemas.values():
            yield from children_of(self, child_schema)
        leafy = self.schema is not None and self.schema.is_leafy
        if leafy and not self.is_text and self.string_value():
            assert self.schema is not None
            yield XNode(self.schema, self.path, self, self.value, is_text=True)

    def order_key(self) -> tuple[Any, ...]:
        """A key that sorts nodes into document order."""
        if self._order is None:
            parent = self.parent
            if parent is None or self.schema is None:
                self._order = ()
            elif self.is_text:
                self._order = (*parent.order_key(), (-1, 0))
            else:
                index = _child_index(parent._schemas)[self.schema.name]
                self._order = (*parent.order_key(), (index, self._position()))
        return self._order

    def _position(self) -> Any:
        if self._within is None:
            assert self.schema is not None and self.parent is not None
            key = self.path[-1][1]
            if self.schema.kind is Kind.LIST and key is not None:
                self._within = entry_order(key)
            elif self.schema.kind is Kind.LEAF_LIST and key is not None:
                data = self.parent.value
                items = data.get(self.schema.name, ()) if isinstance(data, Map) else ()
                self._within = items.index(key[0]) if key[0] in items else len(items)
            else:
                self._within = 0
        return self._within


def leaf_text(schema: SchemaNode, value: Any) -> str:
    """The XPath text of a leaf value ("" for an empty-type leaf or no value)."""
    if value is None or (schema.type is not None and schema.type.base == "empty"):
        return ""
    return value_to_text(value)


def entry_order(key: Key) -> tuple[Any, ...]:
    """A sort key for list entries: the order of tree.iter_entries (numbers
    before text, each in natural order)."""
    return tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in key)


_SORTED: dict[int, tuple[Map[Key, Any], list[tuple[Key, Any]]]] = {}
_SORTED_LOCK = threading.Lock()
_INDEX: dict[int, tuple[Mapping[str, SchemaNode], dict[str, int]]] = {}


def _sorted_entries(entries: Map[Key, Any] | None) -> list[tuple[Key, Any]]:
    """List entries in key order; large lists' orders are cached per Map object."""
    if not entries:
        return []
    hit = _SORTED.get(id(entries))
    if hit is not None and hit[0] is entries:
        return hit[1]
    items = list(entries.items())
    first = tuple(map(type, items[0][0]))
    if set(first) <= {int, str} and all(tuple(map(type, k)) == first for k, _ in items):
        items.sort(key=_first)  # homogeneous int/str keys: natural order is key order
    else:
        items = list(iter_entries(entries))
    if len(items) > 64:
        with _SORTED_LOCK:
            while len(_SORTED) >= 8:
                del _SORTED[next(iter(_SORTED))]
            _SORTED[id(entries)] = (entries, items)
    return items


def _first(item: tuple[Key, Any]) -> Key:
    return item[0]


def _child_index(schemas: Mapping[str, SchemaNode]) -> dict[str, int]:
    hit = _INDEX.get(id(schemas))
    if hit is None or hit[0] is not schemas:
        hit = (schemas, {name: i for i, name in enumerate(schemas)})
        _INDEX[id(schemas)] = hit
    return hit[1]


@cache
def _below(schema: SchemaNode) -> frozenset[str]:
    """Names of every data node below `schema`."""
    names: set[str] = set()
    for child in schema.children.values():
        names.add(child.name)
        names.update(_below(child))
    return frozenset(names)


def children_of(node: XNode, schema: SchemaNode) -> Iterator[XNode]:
    """The XNodes of child `schema` of `node`: stored data, defaults, implicit containers."""
    data = node.value
    value = data.get(schema.name) if isinstance(data, Map) else None
    name, path = schema.name, node.path
    if schema.kind is Kind.LIST:
        for key, entry in _sorted_entries(value):
            yield XNode(schema, (*path, (name, key)), node, entry)
    elif value is not None and schema.kind is Kind.LEAF_LIST:
        for index, item in enumerate(value):
            yield XNode(schema, (*path, (name, (item,))), node, item, within=index)
    elif value is not None:
        yield XNode(schema, (*path, (name, None)), node, value)
    elif schema.choice is None and schema.config:
        implicit = _implicit(node, schema)
        if implicit and _when_holds(implicit[0]):
            yield from implicit


def _implicit(node: XNode, schema: SchemaNode) -> list[XNode]:
    """The default values or the empty non-presence container YANG adds for `schema`."""
    path = (*node.path, (schema.name, None))
    if schema.kind is Kind.LEAF_LIST and schema.default:
        return [
            XNode(schema, (*node.path, (schema.name, (v,))), node, v, stored=False, within=i)
            for i, v in enumerate(schema.default)
        ]
    if schema.kind is Kind.LEAF and schema.default is not None:
        return [XNode(schema, path, node, schema.default, stored=False)]
    if schema.kind is Kind.CONTAINER and not schema.presence:
        return [XNode(schema, path, node, EMPTY, stored=False)]
    return []


def _when_holds(node: XNode) -> bool:
    """The `when` of an implicit node (False while that very `when` is being evaluated)."""
    assert node.schema is not None
    if node.schema.when is None:
        return True
    root = node
    while root.parent is not None:
        root = root.parent
    if root._view is None:
        return True
    schema, busy = root._view
    mark = (id(node.schema), node.path)
    if mark in busy:
        return False
    busy.add(mark)
    # The evaluator walks this view, so it is imported where a `when` needs it.
    from flyos_agent.datastore.xpath import Evaluator, prefix_map

    try:
        evaluator = Evaluator(schema, root, node, prefix_map(schema, None), False)
        return to_boolean(evaluator.eval(parse(node.schema.when), node, 1, 1))
    except XPathError:
        return True
    finally:
        busy.discard(mark)


def _descendants(node: XNode, want: str | None) -> Iterator[XNode]:
    """Descendants in document order; with `want`, only subtrees that can hold it."""
    for schema in node._schemas.values():
        if want is not None and schema.name != want and want not in _below(schema):
            continue
        for child in children_of(node, schema):
            yield child
            if schema.is_leafy:
                if want is None:
                    yield from child.children()
            else:
                yield from _descendants(child, want)


def _subtree(node: XNode) -> Iterator[XNode]:
    """`node` and its descendants, in document order."""
    yield node
    if node.schema is not None and node.schema.is_leafy:
        yield from node.children()
    else:
        yield from _descendants(node, None)


def hosts_of(node: XNode, want: str) -> Iterator[XNode]:
    """Descendant-or-self nodes that may have a child named `want`, in document order."""
    if want in node._schemas:
        yield node
    for schema in node._schemas.values():
        if want in _below(schema):
            for child in children_of(node, schema):
                yield from hosts_of(child, want)


def doc_order(nodes: list[XNode]) -> list[XNode]:
    """`nodes` without duplicates, sorted into document order."""
    unique: dict[tuple[InstancePath, bool], XNode] = {}
    for node in nodes:
        unique.setdefault(node.ident, node)
    return sorted(unique.values(), key=XNode.order_key)


def node_at(root: XNode, path: InstancePath) -> XNode:
    """The XNode at `path`, created virtually (stored=False) where the tree lacks it."""
    node = root
    for index, (name, key) in enumerate(path):
        schema = node._schemas.get(name)
        if schema is None:
            raise XPathError(f"context path: unknown node '{name}'")
        data = node.value if isinstance(node.value, Map) else EMPTY
        value, here = data.get(name), path[: index + 1]
        if schema.kind is Kind.LIST:
            if key is None:
                raise XPathError(f"context path: list '{name}' needs a key")
            entry = value.get(key) if value is not None else None
            stored = entry is not None
            if entry is None:
                entry = Map(zip(schema.keys, key, strict=False))
            node = XNode(schema, here, node, entry, stored=stored)
        elif schema.kind is Kind.LEAF_LIST:
            item = key[0] if key is not None else None
            node = XNode(schema, here, node, item, stored=value is not None and item in value)
        elif schema.kind is Kind.LEAF:
            node = XNode(schema, here, node, schema.default if value is None else value,
                         stored=value is not None)  # fmt: skip
        else:
            stored = value is not None
            node = XNode(schema, here, node, EMPTY if value is None else value, stored=stored)
    return node


def along_axis(node: XNode, axis: str, test: Any) -> Iterator[XNode]:
    """The nodes along `axis` from `node`, in axis order (nearest first on reverse
    axes); a name `test` narrows descendant walks to subtrees that can hold it."""
    if axis == "child":
        yield from node.children()
    elif axis == "self":
        yield node
    elif axis in ("parent", "ancestor", "ancestor-or-self"):
        up = node if axis == "ancestor-or-self" else node.parent
        while up is not None:
            yield up
            up = up.parent if axis != "parent" else None
    elif axis in ("descendant", "descendant-or-self"):
        if axis == "descendant-or-self":
            yield node
        want = test[2] if isinstance(test, tuple) and test[0] == "name" else None
        leafy = node.schema is not None and node.schema.is_leafy
        yield from node.children() if leafy else _descendants(node, want)
    elif axis in ("following-sibling", "preceding-sibling"):
        before, after = _siblings(node)
        yield from (after if axis == "following-sibling" else reversed(before))
    elif axis == "following":
        while node.parent is not None:
            for sibling in _siblings(node)[1]:
                yield from _subtree(sibling)
            node = node.parent
    elif axis == "preceding":
        found: list[XNode] = []
        chain = [node]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)
        for ancestor in reversed(chain):
            for sibling in _siblings(ancestor)[0]:
                found.extend(_subtree(sibling))
        yield from reversed(found)
    elif axis not in ("attribute", "namespace"):
        raise XPathError(f"unsupported XPath axis {axis}")


def _siblings(node: XNode) -> tuple[list[XNode], list[XNode]]:
    """(preceding, following) siblings of `node`, both in document order."""
    if node.parent is None or node.is_text:
        return [], []
    siblings = list(node.parent.children())
    index = next(i for i, s in enumerate(siblings) if s.ident == node.ident)
    return siblings[:index], siblings[index + 1 :]
