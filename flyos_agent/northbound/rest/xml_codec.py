"""RFC 7950 XML <-> RFC 7951 JSON for RESTCONF bodies.

The REST channel works on RFC 7951 JSON throughout; XML is translated at the
edge. Reading XML needs the schema (a repeated element is a list entry or a
leaf-list value only the schema can tell); writing needs only the module
namespaces, so documents that are not configuration (yang-library, errors,
YANG Patch status) go through the same writer. No shared XML codec existed
in the tree when this was written (northbound/netconf had none), so this one
lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from flyos_agent.errors import BadElement, UnknownElement, UnknownNamespace
from flyos_agent.schema import Kind, Schema, SchemaNode

RESTCONF_NS = "urn:ietf:params:xml:ns:yang:ietf-restconf"
WITH_DEFAULTS_NS = "urn:ietf:params:xml:ns:netconf:default:1.0"
IETF_NAMESPACES: Mapping[str, str] = {
    "ietf-restconf": RESTCONF_NS,
    "ietf-yang-library": "urn:ietf:params:xml:ns:yang:ietf-yang-library",
    "ietf-restconf-monitoring": "urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring",
    "ietf-yang-patch": "urn:ietf:params:xml:ns:yang:ietf-yang-patch",
    "ietf-netconf-with-defaults": WITH_DEFAULTS_NS,
    "ietf-netconf": "urn:ietf:params:xml:ns:netconf:base:1.0",
}


def namespace_of(schema: Schema, module: str) -> str:
    """The XML namespace of `module` (a schema module or one the channel speaks)."""
    for info in schema.modules:
        if info.name == module:
            return info.namespace
    found = IETF_NAMESPACES.get(module)
    if found is None:
        raise UnknownNamespace(f"no namespace known for module '{module}'")
    return found


def element(namespace: str, name: str) -> etree._Element:
    """A new element `name` whose default namespace is `namespace`."""
    nsmap: Any = {None: namespace}
    return etree.Element(f"{{{namespace}}}{name}", nsmap=nsmap)


def local_name(element: etree._Element) -> tuple[str | None, str]:
    """(namespace, local name) of an element."""
    qname = etree.QName(element)
    return qname.namespace, qname.localname


# --------------------------------------------------------------------------- reading


def node_value(node: SchemaNode, element: etree._Element) -> Any:
    """The RFC 7951 JSON value of one element that encodes `node`.

    A list entry comes back as one object and a leaf-list value as one
    scalar: callers that hold several elements collect them in an array.
    """
    if node.kind is Kind.LEAF or node.kind is Kind.LEAF_LIST:
        text = element.text or ""
        if node.type is not None and node.type.base == "empty":
            return [None]
        return text
    return children_value(node.children, element, node.name)


def children_value(
    children: Mapping[str, SchemaNode], element: etree._Element, where: str
) -> dict[str, Any]:
    """The JSON object for the child elements of `element` (a container, entry or root)."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        namespace, name = local_name(child)
        node = children.get(name)
        if node is None:
            raise UnknownElement(
                f"'{name}' is not a child of '{where}'", info={"bad-element": name}
            )
        if namespace != node.namespace:
            raise UnknownNamespace(
                f"element '{name}' must be in namespace {node.namespace}, not {namespace}",
                info={"bad-element": name},
            )
        key = name if where != "/" else f"{node.module}:{name}"
        value = node_value(node, child)
        if node.kind in (Kind.LIST, Kind.LEAF_LIST):
            out.setdefault(key, []).append(value)
        elif key in out:
            raise BadElement(f"'{name}' appears more than once", info={"bad-element": name})
        else:
            out[key] = value
    return out


def document_member(
    schema: Schema, element: etree._Element, candidates: Mapping[str, SchemaNode]
) -> tuple[str, Any]:
    """A body element that encodes one of `candidates` as (qualified name, JSON value).

    Lists and leaf-lists give a one-item array, as in an RFC 7951 body.
    """
    namespace, name = local_name(element)
    node = candidates.get(name)
    if node is None or node.namespace != namespace:
        expected = ", ".join(sorted(candidates)) or "nothing"
        raise UnknownElement(
            f"unexpected element '{name}' in namespace {namespace} (expected: {expected})",
            info={"bad-element": name},
        )
    value = node_value(node, element)
    if node.kind in (Kind.LIST, Kind.LEAF_LIST):
        value = [value]
    return f"{node.module}:{node.name}", value


def plain_children(element: etree._Element) -> dict[str, Any]:
    """Schema-less reading of simple inputs (operation input): name -> text or object."""
    out: dict[str, Any] = {}
    for child in element:
        if isinstance(child.tag, str):
            _ns, name = local_name(child)
            out[name] = plain_children(child) if len(child) else (child.text or "")
    return out


# --------------------------------------------------------------------------- writing


def document_to_xml(schema: Schema, document: Mapping[str, Any]) -> bytes:
    """An RFC 7951 JSON document as XML; several top-level elements are wrapped in
    `ietf-restconf:data`."""
    elements: list[etree._Element] = []
    for member, value in document.items():
        module, _, name = member.rpartition(":")
        elements.extend(_elements(schema, namespace_of(schema, module), name, value))
    if len(elements) == 1:
        root = elements[0]
    else:
        root = element(RESTCONF_NS, "data")
        root.extend(elements)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _elements(schema: Schema, namespace: str, name: str, value: Any) -> list[etree._Element]:
    if isinstance(value, list) and value != [None]:
        return [e for item in value for e in _elements(schema, namespace, name, item)]
    new = element(namespace, name)
    _fill(schema, new, namespace, value)
    return [new]


def _fill(schema: Schema, element: etree._Element, namespace: str, value: Any) -> None:
    if isinstance(value, Mapping):
        annotations = {k[1:]: v for k, v in value.items() if k.startswith("@")}
        for member, item in value.items():
            if member.startswith("@"):
                continue
            module, _, name = member.rpartition(":")
            child_ns = namespace_of(schema, module) if module else namespace
            for child in _elements(schema, child_ns, name, item):
                _annotate(schema, child, annotations.get(member))
                element.append(child)
    elif value == [None] or value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def _annotate(schema: Schema, element: etree._Element, annotation: Any) -> None:
    """RFC 7952 annotations (`"@leaf": {"module:name": value}`) as XML attributes."""
    if not isinstance(annotation, Mapping):
        return
    for member, value in annotation.items():
        module, _, name = member.rpartition(":")
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        element.set(f"{{{namespace_of(schema, module)}}}{name}", text)
