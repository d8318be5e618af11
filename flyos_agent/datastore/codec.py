"""Journal encoding: instance paths, change records and whole trees as compact JSON.

Everything is RFC 7951 JSON, so any JSON reader can inspect a journal:

- a path is a list of steps `[name, key]`, `key` null or the list of the key
  values in their RFC 7951 form (`[["routing", null], ["static", ["10.0.0.0/24"]]]`);
- a change record is `[op, path, value]`: for "create" the unit's whole
  subtree, for "modify" the unit's own content without its nested lists, for
  "delete" null;
- a tree is the RFC 7951 document with module-qualified top-level names.

Decoding has two modes. Validating decoding goes through `tree.from_plain`
and `parse_value`, as for data from a client. Trusted decoding is for data this
codec wrote under the same schema: leaf types whose JSON form is their
canonical value (strings, enumerations, 8..32-bit integers, booleans and unions
of those) are taken as they are and whole entries become Maps in one call, so
a 100k-route snapshot loads at the speed of `json.loads`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change, ChangeOp
from flyos_agent.datastore.gc_pause import paused_gc
from flyos_agent.datastore.paths import InstancePath, Key, format_path
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Kind, LeafType, Schema, SchemaNode, parse_value, value_to_json
from flyos_agent.schema.values import INTEGER_BOUNDS, JSON_STRING_INTEGERS

Record = list[Any]
_AS_IS = frozenset({"string", "enumeration", "bits", "boolean", "identityref", "binary"})
_CONTAINERS = (Kind.CONTAINER, Kind.LIST, Kind.LEAF_LIST)
_DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, zlib.error, FlyosError)


class RecordError(ValueError):
    """A record or tree that does not decode or does not apply to the tree."""


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces, UTF-8 kept) of acyclic data."""
    return _ENCODER.encode(value)


def _json_is_canonical(lt: LeafType) -> bool:
    """True when the RFC 7951 value of `lt` is its canonical Python value."""
    if lt.base in _AS_IS or (lt.base in INTEGER_BOUNDS and lt.base not in JSON_STRING_INTEGERS):
        return True
    if lt.base in ("leafref", "union"):
        return bool(lt.members) and all(_json_is_canonical(m) for m in lt.members)
    return False


class _Plan:
    """How the values of one schema node convert; built once per node."""

    __slots__ = ("node", "special", "to_json", "to_value")

    def __init__(self, node: SchemaNode) -> None:
        self.node = node
        lt = node.type
        self.to_json: Callable[[Any], Any] | None = None
        self.to_value: Callable[[Any], Any] | None = None
        if lt is not None and not _json_is_canonical(lt):
            self.to_json = lambda value: value_to_json(lt, value)
            self.to_value = lambda raw: parse_value(lt, raw)
        self.special = frozenset(
            name
            for name, child in node.children.items()
            if child.kind in _CONTAINERS
            or (child.type is not None and not _json_is_canonical(child.type))
        )


class Codec:
    """Encode and decode paths, change records and trees for one schema."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._plans: dict[int, _Plan] = {}

    def _plan(self, node: SchemaNode) -> _Plan:
        plan = self._plans.get(id(node))
        if plan is None:
            plan = self._plans[id(node)] = _Plan(node)
        return plan

    # ----------------------------------------------------------------- paths

    def encode_path(self, path: InstancePath) -> list[list[Any]]:
        """The JSON form of an instance path."""
        out: list[list[Any]] = []
        node: SchemaNode | None = None
        for name, key in path:
            node = self._child(node, name)
            out.append([name, None if key is None else self._key_to_json(node, key)])
        return out

    def decode_path(self, data: Any) -> InstancePath:
        """The instance path of `data`, key values parsed to their canonical form."""
        steps: list[tuple[str, Key | None]] = []
        node: SchemaNode | None = None
        try:
            for name, raw in data:
                node = self._child(node, name)
                steps.append((name, None if raw is None else self._key_from_json(node, raw)))
        except (TypeError, ValueError) as exc:
            raise RecordError(f"bad path {data!r}: {exc}") from None
        return tuple(steps)

    def _child(self, node: SchemaNode | None, name: str) -> SchemaNode:
        child = self.schema.roots.get(name) if node is None else node.children.get(name)
        if child is None:
            raise RecordError(f"unknown element '{name}'")
        return child

    def _key_types(self, node: SchemaNode) -> list[LeafType]:
        names = node.keys if node.kind is Kind.LIST else ()
        types = [node.children[k].type for k in names] if names else [node.type]
        if any(t is None for t in types):
            raise RecordError(f"'{node.name}' takes no key")
        return [t for t in types if t is not None]

    def _key_to_json(self, node: SchemaNode, key: Key) -> list[Any]:
        return [value_to_json(t, v) for t, v in zip(self._key_types(node), key, strict=True)]

    def _key_from_json(self, node: SchemaNode, raw: Sequence[Any]) -> Key:
        return tuple(parse_value(t, v) for t, v in zip(self._key_types(node), raw, strict=True))

    # ----------------------------------------------------------------- values

    def to_json(self, node: SchemaNode, value: Any) -> Any:
        """The RFC 7951 form of `value` (a leaf, leaf-list, list, container or entry)."""
        plan = self._plan(node)
        if node.kind is Kind.LEAF:
            return value if plan.to_json is None else plan.to_json(value)
        if node.kind is Kind.LEAF_LIST:
            return list(value) if plan.to_json is None else [plan.to_json(v) for v in value]
        if node.kind is Kind.LIST:
            special = plan.special
            return [
                out if special.isdisjoint(out := dict(entry.items())) else self._special(plan, out)
                for entry in value.values()
            ]
        return self._children_to_json(plan, value)

    def _children_to_json(self, plan: _Plan, value: Map[str, Any]) -> dict[str, Any]:
        out = dict(value.items())
        return out if plan.special.isdisjoint(out) else self._special(plan, out)

    def _special(self, plan: _Plan, out: dict[str, Any]) -> dict[str, Any]:
        """`out` (a container's or entry's members) with its non-canonical members converted."""
        for name in plan.special.intersection(out):
            out[name] = self.to_json(plan.node.children[name], out[name])
        return out

    def from_json(self, node: SchemaNode, raw: Any, path: InstancePath, *, trusted: bool) -> Any:
        """The tree value of RFC 7951 `raw` at `node` (a list entry when `path` ends in a key)."""
        is_entry = node.kind is Kind.LIST and bool(path) and path[-1][1] is not None
        if not trusted:
            if is_entry:
                return trees.list_entry_from_plain(self.schema, node, raw, path)[1]
            return trees.from_plain(self.schema, node, raw, path)
        return self._entry_from_json(self._plan(node), raw) if is_entry else self._fast(node, raw)

    def _fast(self, node: SchemaNode, raw: Any) -> Any:
        plan = self._plan(node)
        if node.kind is Kind.LEAF:
            return raw if plan.to_value is None else plan.to_value(raw)
        if node.kind is Kind.LEAF_LIST:
            return tuple(raw) if plan.to_value is None else tuple(map(plan.to_value, raw))
        if node.kind is Kind.LIST:
            keys = node.keys
            entries = [self._entry_from_json(plan, item) for item in raw]
            if len(keys) == 1:
                (name,) = keys
                return Map({(entry[name],): entry for entry in entries})
            return Map({tuple(entry[k] for k in keys): entry for entry in entries})
        return self._entry_from_json(plan, raw)

    def _entry_from_json(self, plan: _Plan, raw: dict[str, Any]) -> Map[str, Any]:
        if plan.special.isdisjoint(raw):
            return Map(raw)
        out = dict(raw)
        for name in plan.special.intersection(raw):
            out[name] = self._fast(plan.node.children[name], out[name])
        return Map(out)

    # ----------------------------------------------------------------- trees

    def encode_tree(self, tree: Map[str, Any]) -> bytes:
        """The whole tree as zlib-compressed compact RFC 7951 JSON."""
        with paused_gc():
            doc = {
                f"{self.schema.roots[name].module}:{name}": self.to_json(
                    self.schema.roots[name], value
                )
                for name, value in tree.items()
            }
            return zlib.compress(dumps(doc).encode(), 1)

    def decode_tree(self, data: bytes, digest: str | None) -> Map[str, Any]:
        """The tree of `encode_tree` output written under the schema with `digest`.

        Data written under another schema is validated like client input.
        """
        try:
            with paused_gc(long_lived=True):
                doc = json.loads(zlib.decompress(data))
                if digest != self.schema.digest:
                    return trees.tree_from_plain(self.schema, doc)
                out = {}
                for member, raw in doc.items():
                    name = member.rpartition(":")[2]
                    out[name] = self._fast(self._child(None, name), raw)
                return Map(out)
        except _DECODE_ERRORS as exc:
            raise RecordError(f"bad tree: {exc}") from None

    # ----------------------------------------------------------------- records

    def encode_changes(self, changes: Iterable[Change]) -> list[Record]:
        """The records of one commit; changes inside a created/deleted unit are omitted.

        The diff reports the list entries inside a created or deleted unit
        right after it, so one comparison with the last covering unit finds
        them; out of that order a nested change is merely written twice,
        which replays to the same tree.
        """
        records: list[Record] = []
        cover_op: ChangeOp | None = None
        covering: InstancePath = ()
        depth = 0
        with paused_gc():
            for change in changes:
                op = change.op
                if op is cover_op and change.path[:depth] == covering:
                    continue
                records.append(self._record(change))
                if op is not ChangeOp.MODIFY:
                    cover_op, covering, depth = op, change.path, len(change.path)
        return records

    def _record(self, change: Change) -> Record:
        value: Any = None
        if change.op is ChangeOp.CREATE:
            assert change.new is not None
            value = self._children_to_json(self._plan(change.node), change.new)
        elif change.op is ChangeOp.MODIFY:
            assert change.new is not None
            value = self._own_content(change.node, change.new)
        return [change.op.value, self.encode_path(change.path), value]

    def _own_content(self, node: SchemaNode, value: Map[str, Any]) -> dict[str, Any]:
        """A unit's content without its nested lists (at any container depth)."""
        out: dict[str, Any] = {}
        for name, child_value in value.items():
            child = node.children[name]
            if child.kind is Kind.LIST:
                continue
            if child.kind is Kind.CONTAINER:
                nested = self._own_content(child, child_value)
                if nested or child.presence:
                    out[name] = nested
            else:
                out[name] = self.to_json(child, child_value)
        return out

    def replay(self, tree: Map[str, Any], records: str, *, trusted: bool) -> Map[str, Any]:
        """`tree` with the records of one commit (JSON text) replayed in order."""
        with paused_gc(long_lived=True):
            try:
                decoded = json.loads(records)
            except ValueError as exc:
                raise RecordError(f"bad records: {exc}") from None
            if not isinstance(decoded, list):
                raise RecordError("records are not a list")
            for record in decoded:
                tree = self.apply_record(tree, record, trusted=trusted)
            return tree

    def apply_record(self, tree: Map[str, Any], record: Record, *, trusted: bool) -> Map[str, Any]:
        """`tree` with one record replayed; RecordError if it does not apply."""
        try:
            op, raw_path, raw = ChangeOp(record[0]), record[1], record[2]
        except (TypeError, ValueError, IndexError):
            raise RecordError(f"malformed record {record!r}") from None
        path = self.decode_path(raw_path)
        if not path:
            raise RecordError("a record needs a non-empty path")
        current = trees.get(tree, path)
        where = format_path(self.schema, path)
        if op is ChangeOp.DELETE:
            if current is None:
                raise RecordError(f"delete of missing {where}")
            return trees.delete_at(tree, path, self.schema)
        node = self._node_of(path)
        try:
            value = self.from_json(node, raw, path, trusted=trusted)
        except _DECODE_ERRORS as exc:
            raise RecordError(f"bad value for {where}: {exc}") from None
        if op is ChangeOp.CREATE:
            if current is not None:
                raise RecordError(f"create of existing {where}")
        elif current is not None:
            value = self._graft_lists(node, current, value)
        elif len(path) > 1:
            # a top-level container may be gone: deleting its last list entries pruned it
            raise RecordError(f"modify of missing {where}")
        return trees.set_at(tree, path, value, self.schema)

    def _node_of(self, path: InstancePath) -> SchemaNode:
        node: SchemaNode | None = None
        for name, _key in path:
            node = self._child(node, name)
        assert node is not None
        return node

    def _graft_lists(
        self, node: SchemaNode, old: Map[str, Any], new: Map[str, Any]
    ) -> Map[str, Any]:
        """`new` with the nested lists of `old` put back (containers recreated as needed)."""
        with new.mutate() as out:
            for name, old_value in old.items():
                child = node.children[name]
                if child.kind is Kind.LIST:
                    out[name] = old_value
                elif child.kind is Kind.CONTAINER:
                    merged = self._graft_lists(child, old_value, new.get(name, trees.EMPTY))
                    if len(merged) or name in new:
                        out[name] = merged
            result: Map[str, Any] = out.finish()
        return result
