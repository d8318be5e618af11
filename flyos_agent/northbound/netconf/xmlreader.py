"""edit-config's <config> read straight into tree values, in one pass over the XML.

Each element costs one lookup in its parent's compiled plan (xmlplan) and,
for a leaf, one memoised parser call; list entries become Maps under their
canonical key as they are read, so the Manager gets `Parsed` tree values and
converts nothing again: a 100k-route edit-config is one walk over its
elements, with the cyclic GC paused while it allocates.

The data without an `operation` attribute becomes one Edit at the root with
no operation of its own (the default-operation applies to it). Every element
that carries an `operation` attribute becomes its own Edit at its instance
path and is left out of its parent's data; edits come in document order, an
element's own edit before the edits nested in it. `operation` is read in the
base namespace (RFC 6241) and, leniently, without a namespace.

Errors: structure is checked as it is read (an unknown namespace, an element
the schema does not know there, a missing list key, a leaf given twice or
holding elements, a bad operation) and refuses the whole request. A value
that does not parse, state data, or a list entry or leaf-list value given
twice fails only the edit it belongs to: it rides in `Parsed.error` and is
raised when that edit is applied, so the error-option decides about the rest.
"""

from __future__ import annotations

from typing import Any, cast

from immutables import Map
from lxml import etree

from flyos_agent.datastore.edit import Edit, Operation, Parsed
from flyos_agent.datastore.gc_pause import paused_gc
from flyos_agent.datastore.paths import ROOT, InstancePath, Key
from flyos_agent.errors import (
    BadAttribute,
    BadElement,
    FlyosError,
    MissingElement,
    UnknownElement,
)
from flyos_agent.errors import InvalidValue as InvalidValueError
from flyos_agent.northbound.netconf.namespaces import BASE, qname, split
from flyos_agent.northbound.netconf.xmldata import text_path, unknown_namespace
from flyos_agent.northbound.netconf.xmlplan import ChildSpec, Role, root_specs
from flyos_agent.schema import Schema
from flyos_agent.schema.values import InvalidValue

OPERATION_ATTR = qname(BASE, "operation")
EDIT_OPERATIONS = ("merge", "replace", "create", "delete", "remove")
_REMOVING = (Operation.DELETE, Operation.REMOVE)
_ATTRIBUTES = etree.XPath(".//@*")


def operation_of(element: etree._Element) -> str | None:
    """The edit operation an element carries, if any; bad-attribute for a bad value."""
    value = element.get(OPERATION_ATTR, element.get("operation"))
    if value is None:
        return None
    if value not in EDIT_OPERATIONS:
        raise BadAttribute(
            f"operation '{value}' is not one of {', '.join(EDIT_OPERATIONS)}",
            error_type="protocol",
            info={"bad-attribute": "operation", "bad-element": split(str(element.tag))[1]},
        )
    return value


def _operation_elements(config: etree._Element) -> set[etree._Element]:
    """The elements below `config` that carry an `operation` attribute.

    One XPath over every attribute (a plain bulk edit has none); holding the
    element proxies keeps them alive, so the walk meets the same objects.
    """
    found: set[etree._Element] = set()
    for attribute in cast(list[Any], _ATTRIBUTES(config)):
        if getattr(attribute, "attrname", None) in (OPERATION_ATTR, "operation"):
            parent = attribute.getparent()
            if parent is not None and parent is not config:
                found.add(parent)
    return found


class ConfigReader:
    """Reads edit-config <config> elements into Edits, for one schema."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.namespaces = {info.namespace for info in schema.modules}
        self.roots = root_specs(schema)

    def edits(self, config: etree._Element) -> list[Edit]:
        """The Edits that the children of `config` describe."""
        with paused_gc(long_lived=True):
            return _Run(self, config).read()

    def top(self, element: etree._Element) -> ChildSpec:
        """The top-level node of `element`; unknown-namespace or unknown-element."""
        found = self.roots.get(element.tag)
        if found is not None:
            return found
        namespace, local = split(str(element.tag))
        module = self.schema.module_by_namespace(namespace or "")
        if module is None:
            raise unknown_namespace(local, namespace)
        raise UnknownElement(
            f"unknown element '{local}' in module {module.name}",
            path="/",
            info={"bad-element": local},
        )


class _Run:
    """One <config> being read: the edits so far, and the current edit's first error."""

    def __init__(self, reader: ConfigReader, config: etree._Element) -> None:
        self.reader = reader
        self.schema = reader.schema
        self.config = config
        self.ops = _operation_elements(config)
        self.edits: list[Edit | None] = [None]
        self.failure: FlyosError | None = None

    def read(self) -> list[Edit]:
        top: dict[str, dict[str, Any]] = {}
        specs: dict[str, ChildSpec] = {}
        for element in self.config:
            if not isinstance(element.tag, str):
                continue
            spec = self.reader.top(element)
            if element in self.ops:
                self._split_off(spec, element, ROOT)
                continue
            specs[spec.name] = spec
            out = top.setdefault(spec.name, {})
            self._fill(spec, element, out, ((spec.name, None),), False)
        if top or len(self.edits) == 1:
            root = {}
            for name, out in top.items():
                value = self._finish(specs[name], out)
                if len(value):
                    root[name] = value
            self.edits[0] = Edit(None, ROOT, Parsed(Map(root), self.failure))
        return [edit for edit in self.edits if edit is not None]

    # ------------------------------------------------------------------ reading

    def _fill(
        self,
        owner: ChildSpec,
        element: etree._Element,
        out: dict[str, Any],
        path: InstancePath,
        entry: bool,
    ) -> None:
        """Read the children of `element` (a container, or with `entry` a list entry) into `out`.

        `path` is the instance path of a container element, or the path of an
        entry's parent (the entry's own path needs its key: see `_here`).
        """
        by_tag = owner.plan.by_tag
        ops = self.ops
        here = None if entry else path
        for child in element:
            spec = by_tag.get(child.tag)
            if spec is None:
                if isinstance(child.tag, str):
                    raise self._unknown(owner, child, self._here(owner, element, path, entry))
                continue
            if ops and child in ops:
                self._split_off(spec, child, self._here(owner, element, path, entry))
                continue
            if spec.leaf:
                name = spec.name
                if name in out or (len(child) and _has_elements(child)):
                    raise _bad_leaf(spec, twice=name in out)
                text = child.text or ""
                try:
                    out[name] = spec.parse(text)
                except InvalidValue as exc:
                    out[name] = text  # keeps the entry's key whole for the rest of the walk
                    self._invalid(owner, spec, exc, element, path, entry=entry)
                continue
            if here is None:
                here = self._here(owner, element, path, entry)
            role = spec.role
            if role is Role.LIST:
                entries = out.get(spec.name)
                if entries is None:
                    entries = out[spec.name] = {}
                self._entry(spec, child, here, entries)
            elif role is Role.CONTAINER:
                nested = out.get(spec.name)
                if nested is None:
                    nested = out[spec.name] = {}
                self._fill(spec, child, nested, (*here, (spec.name, None)), False)
            elif role is Role.LEAF_LIST:
                self._leaf_list_value(spec, child, here, out)
            else:
                self._fail(
                    UnknownElement(
                        f"'{spec.name}' is state data",
                        path=text_path(self.schema, here),
                        info={"bad-element": spec.name},
                    )
                )

    def _entry(
        self,
        spec: ChildSpec,
        element: etree._Element,
        parent: InstancePath,
        entries: dict[Key, Map[str, Any]],
    ) -> Key:
        """Read one list entry into `entries` under its key; the key."""
        out: dict[str, Any] = {}
        self._fill(spec, element, out, parent, True)
        plan = spec.plan
        try:
            key = (out[plan.key],) if plan.key else tuple([out[name] for name in plan.keys])
        except KeyError:
            raise self._missing_key(spec, element, parent) from None
        if key in entries:
            self._fail(
                InvalidValueError(
                    f"duplicate entry in list '{spec.name}'",
                    path=text_path(self.schema, (*parent, (spec.name, key))),
                    app_tag="data-not-unique",
                )
            )
        entries[key] = Map(out) if plan.structured.isdisjoint(out) else self._finish(spec, out)
        return key

    def _leaf_list_value(
        self, spec: ChildSpec, child: etree._Element, here: InstancePath, out: dict[str, Any]
    ) -> None:
        """Add one leaf-list value to `out` (kept in order, as the keys of a dict)."""
        if len(child) and _has_elements(child):
            raise _bad_leaf(spec, twice=False)
        values = out.get(spec.name)
        if values is None:
            values = out[spec.name] = {}
        text = child.text or ""
        try:
            value = spec.parse(text)
        except InvalidValue as exc:
            self._fail(_invalid_value(self.schema, spec, exc, here))
            return
        if value in values:
            self._fail(
                InvalidValueError(
                    f"duplicate value '{text}' in leaf-list '{spec.name}'",
                    path=text_path(self.schema, (*here, (spec.name, (value,)))),
                    app_tag="data-not-unique",
                )
            )
        values[value] = None

    def _finish(self, spec: ChildSpec, out: dict[str, Any]) -> Map[str, Any]:
        """The Map of a read container or entry, its nested values in tree form."""
        plan = spec.plan
        if plan.structured.isdisjoint(out):
            return Map(out)
        for name in plan.structured.intersection(out):
            child = plan.by_name[name]
            if child.role is Role.LIST:
                out[name] = Map(out[name])
            elif child.role is Role.LEAF_LIST:
                out[name] = tuple(out[name])
            else:
                nested = self._finish(child, out[name])
                if len(nested) or child.node.presence:
                    out[name] = nested
                else:
                    del out[name]
        return Map(out)

    def _value(self, spec: ChildSpec, element: etree._Element, parent: InstancePath) -> Any:
        """The tree value of one element for `spec` (one entry's Map for a list).

        State data gets None: applying the edit refuses it.
        """
        if spec.role in (Role.LEAF, Role.LEAF_LIST):
            if len(element) and _has_elements(element):
                raise _bad_leaf(spec, twice=False)
            try:
                return spec.parse(element.text or "")
            except InvalidValue as exc:
                self._fail(_invalid_value(self.schema, spec, exc, parent))
                return None
        if spec.role is Role.LIST:
            entries: dict[Key, Map[str, Any]] = {}
            return entries[self._entry(spec, element, parent, entries)]
        if spec.role is Role.STATE:
            return None
        out: dict[str, Any] = {}
        self._fill(spec, element, out, (*parent, (spec.name, None)), False)
        return self._finish(spec, out)

    def _split_off(self, spec: ChildSpec, element: etree._Element, parent: InstancePath) -> None:
        """An element with its own operation: an Edit of its own, in document order."""
        operation = Operation(operation_of(element) or Operation.MERGE)
        if spec.role is Role.LIST:
            step: tuple[str, Key | None] = (spec.name, self._raw_key(spec, element, parent))
        elif spec.role is Role.LEAF_LIST:
            step = (spec.name, (element.text or "",))
        else:
            step = (spec.name, None)
        slot = len(self.edits)
        self.edits.append(None)
        value = None
        if operation not in _REMOVING:
            outer, self.failure = self.failure, None
            value = Parsed(self._value(spec, element, parent), self.failure)
            self.failure = outer
        self.edits[slot] = Edit(operation, (*parent, step), value)

    # ------------------------------------------------------------------ paths and errors

    def _here(
        self, owner: ChildSpec, element: etree._Element, path: InstancePath, entry: bool
    ) -> InstancePath:
        """The instance path of `element` (an entry's with the text of its key leaves)."""
        if not entry:
            return path
        return (*path, (owner.name, self._raw_key(owner, element, path)))

    def _raw_key(self, spec: ChildSpec, element: etree._Element, parent: InstancePath) -> Key:
        """The key of a list entry element: the texts of its key leaves."""
        plan = spec.plan
        values: dict[str, str] = {}
        for child in element:
            found = plan.by_tag.get(child.tag)
            if found is not None and found.name in plan.keys:
                values[found.name] = child.text or ""
        if len(values) < len(plan.keys):
            raise self._missing_key(spec, element, parent)
        return tuple(values[name] for name in plan.keys)

    def _missing_key(
        self, spec: ChildSpec, element: etree._Element, parent: InstancePath
    ) -> MissingElement:
        plan = spec.plan
        present = {found.name for child in element if (found := plan.by_tag.get(child.tag))}
        missing = [name for name in plan.keys if name not in present]
        return MissingElement(
            f"an entry of list '{spec.name}' lacks its key {', '.join(missing)}",
            path=text_path(self.schema, parent),
            info={"bad-element": missing[0] if missing else spec.name},
        )

    def _invalid(
        self,
        owner: ChildSpec,
        spec: ChildSpec,
        exc: InvalidValue,
        element: etree._Element,
        path: InstancePath,
        *,
        entry: bool,
    ) -> None:
        """Fail the current edit for a leaf value that does not parse.

        A bad key is reported at the list's key leaf (/routing/static/prefix),
        any other leaf of an entry below the entry's canonical key.
        """
        if not entry:
            where = path
        elif spec.name in owner.plan.keys:
            where = (*path, (owner.name, None))
        else:
            where = (*path, (owner.name, self._parsed_key(owner, element, path)))
        self._fail(_invalid_value(self.schema, spec, exc, where))

    def _parsed_key(self, owner: ChildSpec, element: etree._Element, parent: InstancePath) -> Key:
        """An entry's key in canonical values (the text of a value that does not parse)."""
        plan = owner.plan
        key = []
        for name, text in zip(plan.keys, self._raw_key(owner, element, parent), strict=True):
            try:
                key.append(plan.by_name[name].parse(text))
            except InvalidValue:
                key.append(text)
        return tuple(key)

    def _fail(self, error: FlyosError) -> None:
        """Remember the first reason the current edit cannot be applied."""
        if self.failure is None:
            self.failure = error

    def _unknown(self, owner: ChildSpec, child: etree._Element, here: InstancePath) -> FlyosError:
        namespace, local = split(str(child.tag))
        if namespace not in self.reader.namespaces:
            return unknown_namespace(local, namespace)
        return UnknownElement(
            f"'{local}' is not a child of '{owner.name}'",
            path=text_path(self.schema, here),
            info={"bad-element": local},
        )


def _has_elements(element: etree._Element) -> bool:
    return any(isinstance(child.tag, str) for child in element)


def _bad_leaf(spec: ChildSpec, *, twice: bool) -> BadElement:
    if twice:
        return BadElement(f"'{spec.name}' appears twice", info={"bad-element": spec.name})
    return BadElement(
        f"leaf '{spec.name}' cannot contain elements", info={"bad-element": spec.name}
    )


def _invalid_value(
    schema: Schema, spec: ChildSpec, exc: InvalidValue, parent: InstancePath
) -> InvalidValueError:
    return InvalidValueError(
        f"invalid value for '{spec.name}': {exc}",
        path=text_path(schema, (*parent, (spec.name, None))),
    )
