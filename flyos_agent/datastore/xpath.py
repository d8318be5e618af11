"""XPath 1.0 over configuration trees: YANG `must`/`when` and NETCONF XPath filters.

Expressions are parsed by pyang (cached per expression string) and evaluated
over a lazy view of (schema, tree): XNodes are created only for the nodes an
expression touches, so `../type = 'vlan'` costs O(depth) whatever the size of
the tree, and `list[key = value]` (all keys compared with `=` to a literal,
`current()`-based or absolute expression) is a keyed lookup, not a scan.

The view follows YANG's accessible tree: leaf and leaf-list defaults are
visible where their parent exists, and non-presence containers always exist,
unless their `when` is false. Nodes inside choices (whose active case is not
known here) and state (config false) nodes are visible only when stored.

Values follow xpath_functions: bool, float, str, or a node-set (a list of
XNodes in document order; list entries are in key order, as the tree keeps
them). Not supported: variables; attribute and namespace axes are empty;
literals cannot span lines (pyang's lexer).
"""

from __future__ import annotations

import copy
import itertools
import threading
import weakref
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from typing import Any, TypeAlias

from immutables import Map
from pyang import xpath_lexer, xpath_parser

from flyos_agent.datastore.paths import InstancePath, Key
from flyos_agent.datastore.tree import EMPTY, iter_entries
from flyos_agent.datastore.xpath_functions import (
    Call,
    Value,
    XPathError,
    arithmetic,
    call_function,
    check_call,
    compare,
    nodeset,
    text_number,
    to_boolean,
    to_number,
)
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import INTEGER_BOUNDS, parse_value, value_to_text

__all__ = ["XNode", "XPathError", "evaluate", "evaluate_boolean", "select", "validate"]

Expr: TypeAlias = Any
_NO_CHILDREN: Mapping[str, SchemaNode] = {}
_REVERSE = frozenset({"parent", "ancestor", "ancestor-or-self", "preceding", "preceding-sibling"})
_DESC_OR_SELF: Expr = ("step", "descendant-or-self", ("node_type", "node"), [])
# Functions that read no context when given arguments.
_PURE = frozenset(
    {
        "concat", "string", "number", "normalize-space", "translate", "substring",
        "substring-before", "substring-after", "string-length", "deref", "boolean", "not",
        "count", "sum", "floor", "ceiling", "round", "contains", "starts-with", "re-match",
        "enum-value", "bit-is-set",
    }
)  # fmt: skip


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
            return _leaf_text(self.schema, self.value)
        return "".join(
            _leaf_text(n.schema, n.value)
            for n in _descendants(self, None)
            if n.schema is not None and n.schema.is_leafy and not n.is_text
        )

    def children(self) -> Iterator[XNode]:
        """Element children in document order, or the text node of a leaf."""
        for child_schema in self._schemas.values():
            yield from _children_of(self, child_schema)
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
                self._within = _entry_order(key)
            elif self.schema.kind is Kind.LEAF_LIST and key is not None:
                data = self.parent.value
                items = data.get(self.schema.name, ()) if isinstance(data, Map) else ()
                self._within = items.index(key[0]) if key[0] in items else len(items)
            else:
                self._within = 0
        return self._within


# --------------------------------------------------------------------------- the lazy view


def _leaf_text(schema: SchemaNode, value: Any) -> str:
    if value is None or (schema.type is not None and schema.type.base == "empty"):
        return ""
    return value_to_text(value)


def _entry_order(key: Key) -> tuple[Any, ...]:
    # The order of tree.iter_entries: numbers before text, each in natural order.
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


def _children_of(node: XNode, schema: SchemaNode) -> Iterator[XNode]:
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
    try:
        evaluator = _Evaluator(schema, root, node, _prefix_map(schema, None), False)
        return to_boolean(evaluator.eval(_parse(node.schema.when), node, 1, 1))
    except XPathError:
        return True
    finally:
        busy.discard(mark)


def _descendants(node: XNode, want: str | None) -> Iterator[XNode]:
    """Descendants in document order; with `want`, only subtrees that can hold it."""
    for schema in node._schemas.values():
        if want is not None and schema.name != want and want not in _below(schema):
            continue
        for child in _children_of(node, schema):
            yield child
            if schema.is_leafy:
                if want is None:
                    yield from child.children()
            else:
                yield from _descendants(child, want)


def _subtree(node: XNode) -> Iterator[XNode]:
    yield node
    if node.schema is not None and node.schema.is_leafy:
        yield from node.children()
    else:
        yield from _descendants(node, None)


def _hosts(node: XNode, want: str) -> Iterator[XNode]:
    """Descendant-or-self nodes that may have a child named `want`, in document order."""
    if want in node._schemas:
        yield node
    for schema in node._schemas.values():
        if want in _below(schema):
            for child in _children_of(node, schema):
                yield from _hosts(child, want)


def _doc_order(nodes: list[XNode]) -> list[XNode]:
    unique: dict[tuple[InstancePath, bool], XNode] = {}
    for node in nodes:
        unique.setdefault(node.ident, node)
    return sorted(unique.values(), key=XNode.order_key)


def _node_at(root: XNode, path: InstancePath) -> XNode:
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


# --------------------------------------------------------------------------- parsing


class _Lexer(xpath_lexer.XPathLexer):  # type: ignore[misc]
    """pyang's lexer, fixing `*` and operator names at the start or after a comma.

    Like pyang's, it does not accept literals spanning lines.
    """

    def input(self, s: str) -> None:
        super().input(s)
        previous = None
        for token in self.toks:
            if token.type == "_whitespace":
                continue
            if previous is None or previous.type == "COMMA":
                if token.type == "STAR":
                    token.type = "wildcard"
                elif token.type in ("AND", "OR", "MOD", "DIV"):
                    token.type = "name"
            previous = token


def _union(p: Any) -> None:
    """`UnionExpr : UnionExpr BAR PathExpr`; pyang's own action mangles a third member."""
    left, right = p[1], p[3]
    members = left[1] if left[0] == "union" else [left]
    p[0] = ("union", [*members, right])


def _make_parser() -> Any:
    """A private copy of pyang's XPath parser (same tables) with the union action fixed."""
    parser = copy.copy(xpath_parser.parser)
    parser.productions = [copy.copy(p) for p in parser.productions]
    for production in parser.productions:
        if production.func == "p_union_expr_2":
            production.callable = _union
    return parser


_PARSER = _make_parser()
_PARSE_LOCK = threading.Lock()


def _check(ast: Expr) -> None:
    if isinstance(ast, list):
        for item in ast:
            _check(item)
    elif isinstance(ast, tuple) and ast:
        if ast[0] == "function_call":
            check_call(ast[1], len(ast[2]))
        elif ast[0] == "variable":
            raise XPathError(f"XPath variables are not supported (${ast[1]})")
        for item in ast[1:]:
            _check(item)


@lru_cache(maxsize=4096)  # bounded: NETCONF clients choose filter expressions
def _parse(expression: str) -> Expr:
    with _PARSE_LOCK:
        try:
            ast = _PARSER.parse(expression, lexer=_Lexer(), debug=False)
        except xpath_lexer.XPathError as exc:
            reason = f"{exc.msg} (column {exc.pos})"
            raise XPathError(f"invalid XPath {expression!r}: {reason}") from None
        except SyntaxError as exc:
            raise XPathError(f"invalid XPath {expression!r}: {exc.msg or exc}") from None
    if ast is None:
        raise XPathError(f"invalid XPath {expression!r}: empty expression")
    _check(ast)
    return ast


def validate(expression: str) -> None:
    """Raise XPathError if `expression` does not parse or calls an unknown function."""
    _parse(expression)


# --------------------------------------------------------------------------- evaluation


def _conjuncts(expr: Expr) -> list[Expr]:
    if isinstance(expr, tuple) and expr[0] == "bool" and expr[1] == "and":
        return _conjuncts(expr[2]) + _conjuncts(expr[3])
    return [expr]


def _independent(expr: Expr) -> bool:
    """True if `expr` does not depend on its context node, position or size."""
    if isinstance(expr, list):
        return _independent(expr[0])
    tag = expr[0]
    if tag in ("literal", "number", "$const", "absolute"):
        return True
    if tag == "path_expr":
        return _independent(expr[1])
    if tag == "path":
        return _independent(expr[2])
    if tag == "function_call":
        name, args = expr[1], expr[2]
        return name == "current" or (name in _PURE and bool(args) and all(map(_independent, args)))
    if tag in ("comp", "arith", "bool"):
        return _independent(expr[2]) and _independent(expr[3])
    if tag == "negative":
        return _independent(expr[1])
    return tag == "union" and all(map(_independent, expr[1]))


def _with_key_hint(ast: Expr, text: str) -> Expr:
    """`a/list/key` -> `a/list[key = text]/key`, so deref() can use a keyed lookup."""
    if not (isinstance(ast, tuple) and ast[0] in ("absolute", "relative") and len(ast[1]) > 1):
        return ast
    prev, last = ast[1][-2], ast[1][-1]
    if not (_is_name_step(prev) and _is_name_step(last)) or last[3]:
        return ast
    hint: Expr = ("comp", "=", ("relative", [("step", "child", last[2], [])]), ("$const", text))
    return (ast[0], [*ast[1][:-2], ("step", "child", prev[2], [hint, *prev[3]]), last])


def _key_candidates(key_schema: SchemaNode, value: Value) -> list[tuple[Any, str | float]] | None:
    """(parsed key value, what its text must equal) for each value a key is compared to."""
    leaf_type = key_schema.type
    assert leaf_type is not None
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        members = leaf_type.members
        base = members[0].base if leaf_type.base == "leafref" and members else leaf_type.base
        if base not in INTEGER_BOUNDS or not value.is_integer():
            return None
        raws: list[Any] = [int(value)]
        expected: list[str | float] = [value]
    else:
        expected = [n.string_value() for n in value] if isinstance(value, list) else [value]
        raws = list(expected)
    out: list[tuple[Any, str | float]] = []
    for raw, want in zip(raws, expected, strict=True):
        try:
            out.append((parse_value(leaf_type, raw), want))
        except ValueError:
            continue
    return out


def _key_matches(key_schema: SchemaNode, stored: Any, want: str | float) -> bool:
    text = _leaf_text(key_schema, stored)
    return text == want if isinstance(want, str) else text_number(text) == want


def _prefix_map(schema: Schema, namespaces: Mapping[str, str] | None) -> dict[str, str]:
    defaults = _PREFIXES.get(schema)
    if defaults is None:
        defaults = {info.name: info.name for info in schema.modules}
        defaults.update({info.prefix: info.name for info in schema.modules})
        _PREFIXES[schema] = defaults
    if not namespaces:
        return defaults
    merged = dict(defaults)
    for prefix, module in namespaces.items():
        by_uri = schema.module_by_namespace(module)
        merged[prefix] = by_uri.name if by_uri is not None else module
    return merged


_PREFIXES: weakref.WeakKeyDictionary[Schema, dict[str, str]] = weakref.WeakKeyDictionary()


class _Evaluator:
    """Evaluates parsed expressions against one view; also the functions' Env."""

    __slots__ = ("current", "prefixes", "root", "schema", "strict")

    def __init__(
        self, schema: Schema, root: XNode, current: XNode, prefixes: dict[str, str], strict: bool
    ) -> None:
        self.schema, self.root, self.current = schema, root, current
        self.prefixes, self.strict = prefixes, strict

    def eval(self, expr: Expr, node: XNode, pos: int, size: int) -> Value:
        """The value of `expr` with context node `node`, position `pos` of `size`."""
        if isinstance(expr, list):
            start = nodeset(self.eval(expr[0], node, pos, size), "a location step")
            return self._steps(start, expr[1:])
        tag = expr[0]
        if tag == "relative":
            return self._steps([node], expr[1])
        if tag == "absolute":
            return self._steps([self.root], expr[1])
        if tag == "path_expr":
            return self.eval(expr[1], node, pos, size)
        if tag == "comp":
            return compare(expr[1], self.eval(expr[2], node, pos, size),
                           self.eval(expr[3], node, pos, size))  # fmt: skip
        if tag == "bool":
            first = to_boolean(self.eval(expr[2], node, pos, size))
            if first == bool(expr[1] == "or"):  # true for `or`, false for `and`: decided
                return first
            return to_boolean(self.eval(expr[3], node, pos, size))
        if tag == "function_call":
            if expr[1] == "current":
                return [self.current]
            args = [self.eval(arg, node, pos, size) for arg in expr[2]]
            return call_function(expr[1], Call(node, pos, size, self), args)
        if tag == "literal":
            return str(expr[1][1:-1])
        if tag == "number":
            return float(expr[1])
        if tag == "$const":
            return str(expr[1])
        if tag == "arith":
            left = to_number(self.eval(expr[2], node, pos, size))
            return arithmetic(expr[1], left, to_number(self.eval(expr[3], node, pos, size)))
        if tag == "negative":
            return -to_number(self.eval(expr[1], node, pos, size))
        if tag == "union":
            parts = [nodeset(self.eval(p, node, pos, size), "'|'") for p in expr[1]]
            return _doc_order([n for part in parts for n in part])
        if tag == "path":
            nodes = nodeset(self.eval(expr[2], node, pos, size), "a predicate")
            return self._filter(nodes, expr[3])
        raise XPathError(f"unsupported XPath construct {tag!r}")

    def deref(self, node: XNode) -> list[XNode]:
        """The nodes a leafref (or instance-identifier) node refers to."""
        leaf_type = node.schema.type if node.schema is not None else None
        text = node.string_value()
        if leaf_type is None or not text:
            return []
        sub = _Evaluator(self.schema, self.root, node, _prefix_map(self.schema, None), False)
        if leaf_type.base == "leafref" and leaf_type.leafref_path:
            ast = _with_key_hint(_parse(leaf_type.leafref_path), text)
            found = nodeset(sub.eval(ast, node, 1, 1), "a leafref path")
            return [n for n in found if n.string_value() == text]
        if leaf_type.base == "instance-identifier":
            sub.current = self.root
            return nodeset(sub.eval(_parse(text), self.root, 1, 1), "an instance-identifier")
        return []

    def _module(self, prefix: str | None) -> str | None:
        if prefix is None:
            return None
        module = self.prefixes.get(prefix)
        if module is None and self.strict:
            raise XPathError(f"unknown namespace prefix '{prefix}'")
        return module

    def _matches(self, node: XNode, test: Any) -> bool:
        if test == "wildcard":
            return node.is_element
        kind = test[0]
        if kind in ("name", "has_namespace"):
            if node.schema is None or node.is_text:
                return False
            if kind == "name" and node.schema.name != test[2]:
                return False
            module = self._module(test[1] if kind == "name" else test[1].partition(":")[0])
            return module is None or node.schema.module == module
        return kind == "node_type" and (test[1] == "node" or (test[1] == "text" and node.is_text))

    def _steps(self, nodes: list[XNode], steps: list[Expr]) -> list[XNode]:
        index = 0
        while index < len(steps) and nodes:
            step = steps[index]
            following = steps[index + 1] if index + 1 < len(steps) else None
            if (step == _DESC_OR_SELF and following is not None and following[1] == "child"
                    and isinstance(following[2], tuple) and following[2][0] == "name"):  # fmt: skip
                hosts = [h for n in nodes for h in _hosts(n, following[2][2])]
                nodes = self._step(_doc_order(hosts) if len(nodes) > 1 else hosts, following)
                index += 2
            else:
                nodes = self._step(nodes, step)
                index += 1
        return nodes

    def _step(self, nodes: list[XNode], step: Expr) -> list[XNode]:
        _, axis, test, preds = step
        out: list[XNode] = []
        for node in nodes:
            found, rest = self._candidates(node, axis, test, preds)
            for pred in rest:
                found = self._filter(found, pred)
            if axis in _REVERSE:
                found.reverse()
            out.extend(found)
        if len(nodes) > 1:
            same_depth = len({len(n.path) + n.is_text for n in nodes}) == 1
            if not (same_depth and axis in ("child", "self")):
                return _doc_order(out)
        return out

    def _filter(self, nodes: list[XNode], pred: Expr) -> list[XNode]:
        if pred[0] == "path_expr" and isinstance(pred[1], tuple) and pred[1][0] == "number":
            wanted = float(pred[1][1])
            ok = wanted.is_integer() and 1 <= wanted <= len(nodes)
            return [nodes[int(wanted) - 1]] if ok else []
        out = []
        for position, node in enumerate(nodes, 1):
            result = self.eval(pred, node, position, len(nodes))
            if result == position if isinstance(result, float) else to_boolean(result):
                out.append(node)
        return out

    def _candidates(
        self, node: XNode, axis: str, test: Any, preds: list[Expr]
    ) -> tuple[list[XNode], list[Expr]]:
        """Nodes of `axis` matching `test` in axis order, and the predicates still to apply."""
        if axis == "child" and isinstance(test, tuple) and test[0] == "name":
            schema = node._schemas.get(test[2])
            module = self._module(test[1])
            if schema is None or (module is not None and schema.module != module):
                return [], []
            if preds and schema.kind is Kind.LIST:
                keyed = self._keyed(node, schema, preds)
                if keyed is not None:
                    return keyed[0], preds[keyed[1] :]
            return list(_children_of(node, schema)), preds
        return [n for n in self._axis(node, axis, test) if self._matches(n, test)], preds

    def _axis(self, node: XNode, axis: str, test: Any) -> Iterator[XNode]:
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

    def _keyed(
        self, parent: XNode, schema: SchemaNode, preds: list[Expr]
    ) -> tuple[list[XNode], int] | None:
        """`list[k1 = v1 and k2 = v2]...` covering every key: a keyed lookup, or None."""
        wanted: dict[str, Expr] = {}
        used = 0
        for pred in preds:
            pairs = [self._key_equality(c, schema) for c in _conjuncts(pred)]
            if any(p is None for p in pairs):
                break
            for key_name, side in pairs:  # type: ignore[misc]
                if key_name in wanted:
                    return None
                wanted[key_name] = side
            used += 1
            if len(wanted) == len(schema.keys):
                break
        if len(wanted) != len(schema.keys) or not schema.keys:
            return None
        data = parent.value
        entries = data.get(schema.name) if isinstance(data, Map) else None
        if not entries:
            return [], used
        choices = []
        for key_name in schema.keys:
            value = self.eval(wanted[key_name], parent, 1, 1)
            candidates = _key_candidates(schema.children[key_name], value)
            if candidates is None:
                return None
            choices.append(candidates)
        found: dict[Key, Any] = {}
        for combo in itertools.product(*choices):
            key = tuple(parsed for parsed, _ in combo)
            entry = entries.get(key)
            if entry is not None and all(
                _key_matches(schema.children[k], entry.get(k), want)
                for k, (_, want) in zip(schema.keys, combo, strict=True)
            ):
                found[key] = entry
        path, name = parent.path, schema.name
        ordered = sorted(found.items(), key=lambda item: _entry_order(item[0]))
        return [XNode(schema, (*path, (name, k)), parent, e) for k, e in ordered], used

    def _key_equality(self, expr: Expr, schema: SchemaNode) -> tuple[str, Expr] | None:
        if not (isinstance(expr, tuple) and expr[0] == "comp" and expr[1] == "="):
            return None
        for mine, other in ((expr[2], expr[3]), (expr[3], expr[2])):
            if isinstance(mine, tuple) and mine[0] == "relative" and _independent(other):
                steps = mine[1]
                if len(steps) == 2 and steps[0] == ("step", "self", ("node_type", "node"), []):
                    steps = steps[1:]
                if len(steps) != 1 or steps[0][1] != "child" or steps[0][3]:
                    continue
                test = steps[0][2]
                if isinstance(test, tuple) and test[0] == "name" and test[2] in schema.keys:
                    module = self._module(test[1])
                    if module is None or module == schema.module:
                        return test[2], other
        return None


def _is_name_step(step: Expr) -> bool:
    return bool(step[1] == "child" and isinstance(step[2], tuple) and step[2][0] == "name")


def _siblings(node: XNode) -> tuple[list[XNode], list[XNode]]:
    """(preceding, following) siblings of `node`, both in document order."""
    if node.parent is None or node.is_text:
        return [], []
    siblings = list(node.parent.children())
    index = next(i for i, s in enumerate(siblings) if s.ident == node.ident)
    return siblings[:index], siblings[index + 1 :]


# --------------------------------------------------------------------------- public API


def _setup(
    schema: Schema, tree: Map[str, Any], context: InstancePath, namespaces: Mapping[str, str] | None
) -> tuple[_Evaluator, XNode]:
    root = XNode(None, (), None, tree, schemas=schema.roots)
    root._view = (schema, set())
    node = _node_at(root, context)
    prefixes = _prefix_map(schema, namespaces)
    evaluator = _Evaluator(schema, root, node, prefixes, namespaces is not None)
    return evaluator, node


def evaluate(
    schema: Schema,
    tree: Map[str, Any],
    expression: str,
    context: InstancePath,
    *,
    namespaces: Mapping[str, str] | None = None,
) -> bool | float | str | list[XNode]:
    """Evaluate `expression` with `context` as context node and current().

    `context` may address a node absent from `tree` (a `when` on a node not yet
    created): it is then created virtually. `namespaces` maps prefixes to
    module names (or XML namespaces) on top of the modules' own prefixes; with
    it, unknown prefixes are errors, without it they match any module.
    Raises XPathError for syntax errors, unknown functions and type errors.
    """
    evaluator, node = _setup(schema, tree, context, namespaces)
    return evaluator.eval(_parse(expression), node, 1, 1)


def evaluate_boolean(
    schema: Schema, tree: Map[str, Any], expression: str, context: InstancePath
) -> bool:
    """The boolean value of `expression` (a `must` or `when`) at `context`."""
    return to_boolean(evaluate(schema, tree, expression, context))


def select(
    schema: Schema,
    tree: Map[str, Any],
    expression: str,
    *,
    namespaces: Mapping[str, str] | None = None,
) -> list[InstancePath]:
    """Instance paths of the nodes a NETCONF XPath filter selects, in document order.

    The root is the context node. Selected text nodes give their leaf's path.
    Defaults and implicit non-presence containers can be selected; their paths
    are not stored in `tree` (tree.get returns None for them).
    """
    evaluator, root = _setup(schema, tree, (), namespaces)
    result = evaluator.eval(_parse(expression), root, 1, 1)
    nodes = nodeset(result, "an XPath filter")
    return list(dict.fromkeys(n.path for n in nodes))
