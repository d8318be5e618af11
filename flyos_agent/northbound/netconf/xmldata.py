"""XML <-> RFC 7951 JSON, driven by the compiled schema.

The Manager speaks RFC 7951 JSON ("plain" data); NETCONF speaks XML. Output
puts each node in its module's namespace (declared once, as the default
namespace, where it changes), list keys first in key order and the other
children in schema order, so the same configuration always renders to the same
bytes. Input checks every element against the schema: an element in a
namespace no module owns is `unknown-namespace`, a name the schema does not
know there is `unknown-element`, a key missing where a nested operation needs
the entry's path is `missing-element`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from flyos_agent.datastore.paths import InstancePath, Key, format_path, parse_path
from flyos_agent.errors import (
    BadElement,
    FlyosError,
    MissingElement,
    UnknownElement,
    UnknownNamespace,
)
from flyos_agent.northbound.netconf.namespaces import WITH_DEFAULTS_ATTR, default_ns, qname, split
from flyos_agent.schema import Kind, Schema, SchemaNode

DEFAULT_ATTR = qname(WITH_DEFAULTS_ATTR, "default")
_ABSENT: Any = object()


def leaf_text(value: Any) -> str | None:
    """The XML text of an RFC 7951 leaf value (None for an `empty` leaf)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None or value == [None]:
        return None
    return str(value)


class XmlCodec:
    """Converts between the schema's RFC 7951 JSON and NETCONF XML."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.prefixes = {info.name: info.prefix for info in schema.modules}

    # ------------------------------------------------------------------ JSON -> XML

    def to_xml(
        self,
        plain: Mapping[str, Any],
        parent: etree._Element,
        *,
        explicit: Mapping[str, Any] | None = None,
    ) -> None:
        """Append the data of `plain` (RFC 7951, module-qualified tops) to `parent`.

        With `explicit` (the same data without defaults), every leaf that is
        not in `explicit` gets wd:default="true" (with-defaults report-all-tagged).
        """
        for member, value in plain.items():
            node = self.schema.roots[member.rpartition(":")[2]]
            if explicit is None:
                self._emit(parent, node, value, None)
                continue
            nsmap = default_ns(node.namespace, {"wd": WITH_DEFAULTS_ATTR})
            top = etree.SubElement(parent, qname(node.namespace, node.name), nsmap=nsmap)
            self._entry(top, node, value, explicit.get(member, _ABSENT))

    def _emit(self, parent: etree._Element, node: SchemaNode, value: Any, explicit: Any) -> None:
        kind = node.kind
        if kind is Kind.LEAF:
            self._leaf(parent, node, value, explicit)
        elif kind is Kind.LEAF_LIST:
            present = explicit if isinstance(explicit, list) else []
            for item in value:
                tag = None if explicit is None else (item if item in present else _ABSENT)
                self._leaf(parent, node, item, tag)
        elif kind is Kind.LIST:
            index = self._entries_by_key(node, explicit)
            for entry in value:
                other = None if index is None else index.get(self._key(node, entry), _ABSENT)
                self._entry(self._element(parent, node), node, entry, other)
        else:
            self._entry(self._element(parent, node), node, value, explicit)

    def _entry(
        self, element: etree._Element, node: SchemaNode, value: Mapping[str, Any], explicit: Any
    ) -> None:
        nested = explicit if isinstance(explicit, Mapping) else None
        tagging = explicit is not None
        for name in (*node.keys, *(n for n in value if n not in node.keys)):
            child_value = value.get(name)
            if child_value is None:
                continue
            local = name.rpartition(":")[2]
            other = (
                (nested.get(name, _ABSENT) if nested is not None else _ABSENT) if tagging else None
            )
            self._emit(element, node.children[local], child_value, other)

    def _leaf(self, parent: etree._Element, node: SchemaNode, value: Any, explicit: Any) -> None:
        element = self._element(parent, node)
        element.text = leaf_text(value)
        if explicit is _ABSENT:
            element.set(DEFAULT_ATTR, "true")

    @staticmethod
    def _element(parent: etree._Element, node: SchemaNode) -> etree._Element:
        tag = qname(node.namespace, node.name)
        if split(parent.tag)[0] == node.namespace:
            return etree.SubElement(parent, tag)
        return etree.SubElement(parent, tag, nsmap=default_ns(node.namespace))

    @staticmethod
    def _key(node: SchemaNode, entry: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(str(entry.get(k)) for k in node.keys)

    def _entries_by_key(
        self, node: SchemaNode, explicit: Any
    ) -> dict[tuple[Any, ...], Mapping[str, Any]] | None:
        if explicit is None:
            return None
        entries = explicit if isinstance(explicit, list) else []
        return {self._key(node, entry): entry for entry in entries}

    # ------------------------------------------------------------------ XML -> JSON

    def from_xml(self, elements: list[etree._Element]) -> dict[str, Any]:
        """RFC 7951 JSON for top-level data `elements` (the children of an inline <config>).

        edit-config reads its <config> with xmlreader instead, straight into tree values.
        """
        walker = Walker(self.schema)
        out: dict[str, Any] = {}
        for element in elements:
            node = walker.top_node(element)
            path: InstancePath = ((node.name, None),)
            _put(out, f"{node.module}:{node.name}", walker.container(element, node, path))
        return out

    # ------------------------------------------------------------------ paths

    def xml_path(self, text: str) -> tuple[str, dict[str, str]]:
        """An instance path in XML form (a prefix on every step) and its prefix map.

        `text` is the JSON-style path the Manager reports
        ("/flyos-routing:routing/static[prefix='10.0.0.0/24']"); text that does
        not parse is returned as it is.
        """
        try:
            path = parse_path(self.schema, text)
        except FlyosError:
            return text, {}
        if not path:
            return "/", {}
        nsmap: dict[str, str] = {}
        parts: list[str] = []
        node: SchemaNode | None = None
        for name, key in path:
            node = self.schema.roots[name] if node is None else node.children[name]
            prefix = self.prefixes[node.module]
            nsmap[prefix] = node.namespace
            step = f"{prefix}:{name}"
            if key is not None:
                names = node.keys if node.kind is Kind.LIST else (".",)
                for key_name, key_value in zip(names, key, strict=True):
                    label = key_name if key_name == "." else f"{prefix}:{key_name}"
                    step += f"[{label}={_quote(leaf_text(key_value) or '')}]"
            parts.append(step)
        return "/" + "/".join(parts), nsmap


def _quote(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


class Walker:
    """One XML -> JSON conversion."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.namespaces = {info.namespace for info in schema.modules}

    def top_node(self, element: etree._Element) -> SchemaNode:
        namespace, local = _name(element)
        module = self.schema.module_by_namespace(namespace or "")
        if module is None:
            raise unknown_namespace(local, namespace)
        node = self.schema.roots.get(local)
        if node is None or node.module != module.name:
            raise UnknownElement(
                f"unknown element '{local}' in module {module.name}",
                path="/",
                info={"bad-element": local},
            )
        return node

    def container(
        self, element: etree._Element, node: SchemaNode, path: InstancePath
    ) -> dict[str, Any]:
        """The JSON object for a container or list entry element."""
        out: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_node = self._child(node, child, path)
            kind = child_node.kind
            if kind is Kind.LIST:
                key = self._entry_key(child_node, child, path)
                child_path = (*path, (child_node.name, key))
            elif kind is Kind.LEAF_LIST:
                child_path = (*path, (child_node.name, (child.text or "",)))
            else:
                child_path = (*path, (child_node.name, None))
            value = self.value(child, child_node, child_path)
            if child_node.is_list_like:
                out.setdefault(child_node.name, []).append(value)
            else:
                _put(out, child_node.name, value)
        return out

    def value(self, element: etree._Element, node: SchemaNode, path: InstancePath) -> Any:
        """The JSON value of one element for `node` (one entry for a list)."""
        if node.is_leafy:
            if any(isinstance(c.tag, str) for c in element):
                raise BadElement(
                    f"leaf '{node.name}' cannot contain elements", info={"bad-element": node.name}
                )
            text = element.text
            assert node.type is not None
            if node.type.base == "empty":
                return [None]
            return text if text is not None else ""
        return self.container(element, node, path)

    def _child(self, node: SchemaNode, child: etree._Element, path: InstancePath) -> SchemaNode:
        namespace, local = _name(child)
        found = node.children.get(local)
        if found is not None and found.namespace == namespace:
            return found
        if namespace not in self.namespaces:
            raise unknown_namespace(local, namespace)
        raise UnknownElement(
            f"'{local}' is not a child of '{node.name}'",
            path=text_path(self.schema, path),
            info={"bad-element": local},
        )

    def _entry_key(self, node: SchemaNode, element: etree._Element, path: InstancePath) -> Key:
        values: dict[str, str] = {}
        for child in element:
            if isinstance(child.tag, str):
                namespace, local = _name(child)
                if local in node.keys and namespace == node.namespace:
                    values[local] = child.text or ""
        missing = [k for k in node.keys if k not in values]
        if missing:
            raise MissingElement(
                f"an entry of list '{node.name}' lacks its key {', '.join(missing)}",
                path=text_path(self.schema, path),
                info={"bad-element": missing[0]},
            )
        return tuple(values[k] for k in node.keys)


def _put(out: dict[str, Any], name: str, value: Any) -> None:
    """Set `name`; a container given twice is merged, a leaf given twice is bad-element."""
    existing = out.get(name)
    if existing is None:
        out[name] = value
    elif isinstance(existing, dict) and isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list) and isinstance(existing.get(key), list):
                existing[key].extend(item)
            else:
                _put(existing, key, item)
    else:
        local = name.rpartition(":")[2]
        raise BadElement(f"'{local}' appears twice", info={"bad-element": local})


def _name(element: etree._Element) -> tuple[str | None, str]:
    return split(str(element.tag))


def unknown_namespace(local: str, namespace: str | None) -> UnknownNamespace:
    """The unknown-namespace error for element `local` in `namespace`."""
    return UnknownNamespace(
        f"no module has namespace '{namespace or ''}' (element '{local}')",
        info={"bad-element": local, "bad-namespace": namespace or ""},
    )


def text_path(schema: Schema, path: InstancePath) -> str:
    """`path` as error-path text ("/" when it does not format)."""
    try:
        return format_path(schema, path)
    except FlyosError:
        return "/"
