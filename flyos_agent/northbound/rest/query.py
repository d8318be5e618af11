"""RFC 8040 section 4.8 query parameters: parsing, and applying them to RFC 7951 data.

`content`, `depth`, `fields` and `with-defaults` shape a GET reply; `insert`
and `point` order entries of `ordered-by user` lists, which the FlyOS models
do not have, so they are refused with a message that says so. Unknown
parameters, and parameters on a method they do not apply to, are 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flyos_agent.errors import InvalidValue, UnknownElement
from flyos_agent.schema import Kind, SchemaNode
from flyos_agent.schema.values import value_to_json

READ_PARAMETERS = ("content", "depth", "fields", "with-defaults")
WRITE_PARAMETERS = ("insert", "point")
STREAM_PARAMETERS = ("filter", "start-time", "stop-time")
CONTENT_VALUES = ("config", "nonconfig", "all")
WITH_DEFAULTS_VALUES = ("report-all", "trim", "explicit", "report-all-tagged")
MAX_DEPTH = 65535
DEFAULT_TAG = {"ietf-netconf-with-defaults:default": True}

Fields = dict[str, "Fields | None"]


@dataclass(frozen=True)
class ReadOptions:
    """The parsed read parameters of one GET/HEAD request."""

    content: str = "all"
    depth: int | None = None
    fields: Fields | None = None
    with_defaults: str = "explicit"


def check_parameters(args: Mapping[str, str], method: str) -> None:
    """400 for an unknown parameter, a repeated one, or one the method does not take."""
    allowed: tuple[str, ...] = READ_PARAMETERS if method in ("GET", "HEAD") else ()
    if method in ("POST", "PUT"):
        allowed = WRITE_PARAMETERS
    for name in args:
        if name in STREAM_PARAMETERS:
            raise InvalidValue(f"query parameter '{name}' applies to event streams only")
        if name not in (*READ_PARAMETERS, *WRITE_PARAMETERS):
            raise InvalidValue(f"unknown query parameter '{name}'")
        if name not in allowed:
            raise InvalidValue(f"query parameter '{name}' is not allowed with {method}")
    for name in ("insert", "point"):
        if name in args:
            raise InvalidValue(
                f"query parameter '{name}' applies only to 'ordered-by user' lists and "
                "leaf-lists; the FlyOS models have none (entries are ordered by their keys)"
            )


def read_options(
    args: Mapping[str, str], target: SchemaNode | None, roots: Mapping[str, SchemaNode]
) -> ReadOptions:
    """The read parameters, checked (400 on a bad value); `target` None is the datastore."""
    content = args.get("content", "all")
    if content not in CONTENT_VALUES:
        raise InvalidValue(f"content must be one of {', '.join(CONTENT_VALUES)}")
    with_defaults = args.get("with-defaults", "explicit")
    if with_defaults not in WITH_DEFAULTS_VALUES:
        raise InvalidValue(f"with-defaults must be one of {', '.join(WITH_DEFAULTS_VALUES)}")
    depth: int | None = None
    text = args.get("depth", "unbounded")
    if text != "unbounded":
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_DEPTH:
            raise InvalidValue(f"depth must be 1..{MAX_DEPTH} or 'unbounded', not '{text}'")
        depth = int(text)
    fields = None
    if "fields" in args:
        if target is not None and target.is_leafy:
            raise InvalidValue("fields does not apply to a leaf or leaf-list")
        fields = parse_fields(args["fields"], target.children if target is not None else roots)
    return ReadOptions(content, depth, fields, with_defaults)


# --------------------------------------------------------------------------- fields


def parse_fields(text: str, children: Mapping[str, SchemaNode]) -> Fields:
    """Parse a fields-expr (`a(b;c/d);e`) into nested selections, checked against the
    schema: `children` are the nodes the expression starts from."""
    parser = _FieldsParser(text)
    selection = parser.expression(children)
    if parser.position != len(text):
        raise InvalidValue(f"fields: unexpected '{text[parser.position :]}'")
    return selection


class _FieldsParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def expression(self, children: Mapping[str, SchemaNode]) -> Fields:
        selection: Fields = {}
        while True:
            self._path(children, selection)
            if not self._take(";"):
                return selection

    def _path(self, children: Mapping[str, SchemaNode], selection: Fields) -> None:
        node = self._identifier(children)
        if self._take("/"):
            inner = selection.get(node.name) or {}
            self._path(node.children, inner)
            selection[node.name] = inner
        elif self._take("("):
            inner = selection.get(node.name) or {}
            inner.update(self.expression(node.children))
            if not self._take(")"):
                raise InvalidValue("fields: missing ')'")
            selection[node.name] = inner
        else:
            selection[node.name] = None

    def _identifier(self, children: Mapping[str, SchemaNode]) -> SchemaNode:
        start = self.position
        while self.position < len(self.text) and self.text[self.position] not in "/();":
            self.position += 1
        word = self.text[start : self.position]
        module, _, name = word.rpartition(":")
        if not name:
            raise InvalidValue(f"fields: expected a node name at position {start}")
        node = children.get(name)
        if node is None or (module and node.module != module):
            raise UnknownElement(f"fields: no data node '{word}' here")
        return node

    def _take(self, char: str) -> bool:
        if self.text.startswith(char, self.position):
            self.position += 1
            return True
        return False


# --------------------------------------------------------------------------- shaping


def shape(
    children: Mapping[str, SchemaNode], keys: tuple[str, ...], value: Any, options: ReadOptions
) -> Any:
    """Apply content, fields, depth and the report-all-tagged tags to an object (container,
    list entry or datastore) whose members are `children`, or to an array of entries."""
    if isinstance(value, list):
        return [shape(children, keys, item, options) for item in value]
    if not isinstance(value, dict):
        return value
    return _Shaper(options).object(children, keys, value, options.fields, 1)


class _Shaper:
    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def object(
        self,
        children: Mapping[str, SchemaNode],
        keys: tuple[str, ...],
        value: dict[str, Any],
        fields: Fields | None,
        level: int,
    ) -> dict[str, Any]:
        options = self.options
        out: dict[str, Any] = {}
        if options.depth is not None and level >= options.depth:
            return out
        for member, raw in value.items():
            child = children.get(member.rpartition(":")[2])
            if child is None or not _wanted(child, keys, options.content):
                continue
            if fields is not None and child.name not in fields:
                continue
            shaped = self._child(child, raw, fields.get(child.name) if fields else None, level)
            if shaped is None:
                continue
            out[member] = shaped
            if options.with_defaults == "report-all-tagged" and _is_default(child, shaped):
                out[f"@{member}"] = DEFAULT_TAG
        return out

    def _child(self, child: SchemaNode, raw: Any, fields: Fields | None, level: int) -> Any:
        """The shaped value of one member; None when it is to be left out."""
        nonconfig = self.options.content == "nonconfig"
        if child.kind is Kind.LIST:
            entries = [
                self.object(child.children, child.keys, entry, fields, level + 1) for entry in raw
            ]
            if nonconfig:
                entries = [entry for entry in entries if set(entry) - set(child.keys)]
            return entries or None
        if child.kind is Kind.CONTAINER:
            inner = self.object(child.children, (), raw, fields, level + 1)
            return None if not inner and nonconfig else inner
        return raw


def _wanted(child: SchemaNode, keys: tuple[str, ...], content: str) -> bool:
    """Containers and lists are walked into; leaves follow `content` (list keys stay)."""
    if content == "all" or child.kind in (Kind.CONTAINER, Kind.LIST):
        return True
    if content == "config":
        return child.config
    return not child.config or child.name in keys


def _is_default(node: SchemaNode, value: Any) -> bool:
    if node.kind is not Kind.LEAF or node.default is None or node.type is None:
        return False
    return bool(value_to_json(node.type, node.default) == value)
