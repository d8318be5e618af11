"""XPath 1.0 over configuration trees: YANG `must`/`when` and NETCONF XPath filters.

The public API and the evaluator. Expressions are parsed once (xpath_parse)
and evaluated over the lazy view of (schema, tree) in xpath_nodes, so
`../type = 'vlan'` costs O(depth) whatever the size of the tree, and
`list[key = value]` (all keys compared with `=` to a literal, `current()`-based
or absolute expression) is a keyed lookup, not a scan.

Values follow xpath_functions: bool, float, str, or a node-set (a list of
XNodes in document order; list entries are in key order, as the tree keeps
them). Not supported: variables; attribute and namespace axes are empty;
literals cannot span lines (pyang's lexer).
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping
from typing import Any

from immutables import Map

from flyos_agent.datastore.paths import InstancePath, Key
from flyos_agent.datastore.xpath_functions import (
    Call,
    Value,
    XPathError,
    arithmetic,
    call_function,
    compare,
    nodeset,
    text_number,
    to_boolean,
    to_number,
)
from flyos_agent.datastore.xpath_nodes import (
    XNode,
    along_axis,
    children_of,
    doc_order,
    entry_order,
    hosts_of,
    leaf_text,
    node_at,
)
from flyos_agent.datastore.xpath_parse import Expr, conjuncts, independent, parse, with_key_hint
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import INTEGER_BOUNDS, parse_value

__all__ = ["XNode", "XPathError", "evaluate", "evaluate_boolean", "select", "validate"]

_REVERSE = frozenset({"parent", "ancestor", "ancestor-or-self", "preceding", "preceding-sibling"})
_DESC_OR_SELF: Expr = ("step", "descendant-or-self", ("node_type", "node"), [])


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
    text = leaf_text(key_schema, stored)
    return text == want if isinstance(want, str) else text_number(text) == want


def prefix_map(schema: Schema, namespaces: Mapping[str, str] | None) -> dict[str, str]:
    """Prefix -> module name: every module's name and prefix, then `namespaces`
    (whose values may be module names or XML namespaces)."""
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


class Evaluator:
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
            return doc_order([n for part in parts for n in part])
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
        sub = Evaluator(self.schema, self.root, node, prefix_map(self.schema, None), False)
        if leaf_type.base == "leafref" and leaf_type.leafref_path:
            ast = with_key_hint(parse(leaf_type.leafref_path), text)
            found = nodeset(sub.eval(ast, node, 1, 1), "a leafref path")
            return [n for n in found if n.string_value() == text]
        if leaf_type.base == "instance-identifier":
            sub.current = self.root
            return nodeset(sub.eval(parse(text), self.root, 1, 1), "an instance-identifier")
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
                hosts = [h for n in nodes for h in hosts_of(n, following[2][2])]
                nodes = self._step(doc_order(hosts) if len(nodes) > 1 else hosts, following)
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
                return doc_order(out)
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
            return list(children_of(node, schema)), preds
        return [n for n in along_axis(node, axis, test) if self._matches(n, test)], preds

    def _keyed(
        self, parent: XNode, schema: SchemaNode, preds: list[Expr]
    ) -> tuple[list[XNode], int] | None:
        """`list[k1 = v1 and k2 = v2]...` covering every key: a keyed lookup, or None."""
        wanted: dict[str, Expr] = {}
        used = 0
        for pred in preds:
            pairs = [self._key_equality(c, schema) for c in conjuncts(pred)]
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
        ordered = sorted(found.items(), key=lambda item: entry_order(item[0]))
        return [XNode(schema, (*path, (name, k)), parent, e) for k, e in ordered], used

    def _key_equality(self, expr: Expr, schema: SchemaNode) -> tuple[str, Expr] | None:
        if not (isinstance(expr, tuple) and expr[0] == "comp" and expr[1] == "="):
            return None
        for mine, other in ((expr[2], expr[3]), (expr[3], expr[2])):
            if isinstance(mine, tuple) and mine[0] == "relative" and independent(other):
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


# --------------------------------------------------------------------------- public API


def _setup(
    schema: Schema, tree: Map[str, Any], context: InstancePath, namespaces: Mapping[str, str] | None
) -> tuple[Evaluator, XNode]:
    root = XNode(None, (), None, tree, schemas=schema.roots)
    root._view = (schema, set())
    node = node_at(root, context)
    prefixes = prefix_map(schema, namespaces)
    evaluator = Evaluator(schema, root, node, prefixes, namespaces is not None)
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
    return evaluator.eval(parse(expression), node, 1, 1)


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
    result = evaluator.eval(parse(expression), root, 1, 1)
    nodes = nodeset(result, "an XPath filter")
    return list(dict.fromkeys(n.path for n in nodes))


def validate(expression: str) -> None:
    """Raise XPathError if `expression` does not parse or calls an unknown function."""
    parse(expression)
