# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""XML <-> dicts for the FlyOS models, driven by the schema snapshot.

Dicts use the modules' option names (``prefix_length``) or, with
``yang_names``, the YANG names; values are typed (int, bool, str). XML is
what NETCONF carries: each model's top-level container declares its own
namespace, list keys come first, then schema order. An ``Op`` marks an
element with an ``nc:operation`` (replace, remove, create, delete, merge).
Only the standard library is used, so the modules need nothing beyond
ansible.netcommon and ncclient.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.flyos.agent.plugins.module_utils.schema import ROOTS
from ansible_collections.flyos.agent.plugins.module_utils.tree import (
    CONTAINER,
    LEAF,
    LEAF_LIST,
    LIST,
    config_children,
    option_name,
    yang_name,
)

NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
OPERATION = f"{{{NC_NS}}}operation"
TRUE_WORDS = ("true", "yes", "on", "enable", "enabled")
FALSE_WORDS = ("false", "no", "off", "disable", "disabled")


class Op:
    """A value with an ``nc:operation`` on its element: ``Op("replace", entry)``."""

    __slots__ = ("operation", "value")

    def __init__(self, operation: str, value: object = None) -> None:
        self.operation = operation
        self.value = value

    def __repr__(self) -> str:
        return f"Op({self.operation!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Op) and (other.operation, other.value) == (
            self.operation,
            self.value,
        )

    __hash__ = None  # type: ignore[assignment]


class XmlDataError(ValueError):
    """XML that does not fit the models, or data that cannot become XML."""


# ---------------------------------------------------------------------- values


def scalar_text(node: dict, value: object) -> str:
    """The XML text of one leaf value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if node.get("type") == "bool" and isinstance(value, str):
        word = value.lower()
        if word in TRUE_WORDS:
            return "true"
        if word in FALSE_WORDS:
            return "false"
    return str(value)


def scalar_value(node: dict, text: str | None, rfc7951: bool = False) -> object:
    """The typed value of one leaf's XML text: as the modules' options take it, or
    with ``rfc7951`` as RFC 7951 JSON has it (64-bit integers as strings, a
    union's number as a number, empty as ``[null]``)."""
    text = (text or "").strip() if node.get("type") != "str" else (text or "")
    kind = node.get("type")
    if kind == "empty":
        return [None] if rfc7951 else True
    if kind == "bool":
        return text == "true"
    if kind == "int" and not (rfc7951 and node.get("wide")):
        try:
            return int(text)
        except ValueError:
            return text
    if rfc7951 and node.get("numeric") and text.isdigit():
        return int(text)
    return text


def same_key(node: dict, left: dict, right: dict) -> bool:
    """True if two entries of list ``node`` have the same key values."""
    return key_of(node, left) == key_of(node, right)


def key_of(node: dict, entry: dict) -> tuple[str, ...]:
    """The key of a list entry, as XML texts (so 10 and "10" are one key)."""
    out = []
    for key in node["keys"]:
        value = entry.get(key, entry.get(option_name(key)))
        out.append(scalar_text(node["children"][key], value))
    return tuple(out)


def key_fields(node: dict, entry: dict) -> dict:
    """Only the key leaves of a list entry."""
    return {option_name(k): entry.get(k, entry.get(option_name(k))) for k in node["keys"]}


# ---------------------------------------------------------------------- dict -> XML


def encode(root_name: str, value: object) -> ET.Element:
    """The XML element of top-level container ``root_name`` holding ``value``."""
    node = ROOTS[root_name]
    holder = ET.Element("holder")
    _member(holder, root_name, node, value, ns=node["namespace"], path="/" + root_name)
    return holder[0]


def _member(
    parent: ET.Element, name: str, node: dict, value: object, *, ns: str, path: str
) -> None:
    kind = node["kind"]
    if kind == LIST:
        entries = value.value if isinstance(value, Op) else value
        if not isinstance(entries, list):
            raise XmlDataError(f"{path}: a list of entries is expected")
        for entry in entries:
            _element(parent, name, node, entry, ns=ns, path=path)
    elif kind == LEAF_LIST:
        operation = value.operation if isinstance(value, Op) else None
        items = value.value if isinstance(value, Op) else value
        if not isinstance(items, list):
            items = [items]
        for item in items:
            marked = Op(operation, item) if operation else item
            _element(parent, name, node, marked, ns=ns, path=path)
    else:
        _element(parent, name, node, value, ns=ns, path=path)


def _element(
    parent: ET.Element, name: str, node: dict, value: object, *, ns: str, path: str
) -> None:
    operation = None
    if isinstance(value, Op):
        operation, value = value.operation, value.value
    if node.get("type") == "empty" and value is False and operation is None:
        return
    element = ET.SubElement(parent, f"{{{ns}}}{name}")
    if operation:
        element.set(OPERATION, operation)
    if node["kind"] in (CONTAINER, LIST):
        if value is None:
            return
        if not isinstance(value, dict):
            raise XmlDataError(f"{path}: a dict is expected, not {value!r}")
        _children(element, node, value, ns, path)
    elif value is not None and node.get("type") != "empty":
        element.text = scalar_text(node, value)


def _children(element: ET.Element, node: dict, value: dict, ns: str, path: str) -> None:
    for given in value:
        if yang_name(node, given) is None or not node["children"][yang_name(node, given)].get(
            "config", True
        ):
            known = ", ".join(option_name(name) for name, _child in config_children(node))
            raise XmlDataError(f"{path}: unknown option '{given}' (known: {known})")
    for name, child in config_children(node):
        member = value.get(option_name(name), value.get(name))
        if member is not None:
            _member(element, name, child, member, ns=ns, path=f"{path}/{name}")


def serialize(element: ET.Element, parent_ns: str | None = None) -> str:
    """``element`` as XML text: a default namespace declared where it changes,
    ``nc:operation`` attributes with the ``nc`` prefix (declared by ``config_xml``)."""
    ns, local = split_tag(element.tag)
    attributes = ""
    if ns != (parent_ns or ""):
        attributes += f" xmlns={quoteattr(ns)}"
    for key, value in element.attrib.items():
        shown = "nc:operation" if key == OPERATION else key
        attributes += f" {shown}={quoteattr(value)}"
    inner = escape(element.text or "") + "".join(serialize(child, ns) for child in element)
    if not inner:
        return f"<{local}{attributes}/>"
    return f"<{local}{attributes}>{inner}</{local}>"


def config_xml(elements: list[ET.Element]) -> str:
    """An edit-config ``<config>`` holding ``elements``."""
    body = "".join(serialize(element) for element in elements)
    return f'<nc:config xmlns:nc="{NC_NS}">{body}</nc:config>'


def filter_xml(root_name: str, list_name: str | None = None) -> str:
    """A subtree filter selecting a top-level container (or one list of it)."""
    node = ROOTS[root_name]
    inner = f"<{list_name}/>" if list_name else ""
    return f'<{root_name} xmlns="{node["namespace"]}">{inner}</{root_name}>'


# ---------------------------------------------------------------------- XML -> dict


def parse(text: str | bytes) -> ET.Element:
    """Parse XML text; XmlDataError with the parser's message if it is not XML."""
    if isinstance(text, str):
        text = text.strip().encode("utf-8")
    if b"<!DOCTYPE" in text.upper():
        raise XmlDataError("XML with a DOCTYPE is not accepted")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise XmlDataError(f"not well-formed XML: {exc}") from None


def split_tag(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element tag."""
    if tag.startswith("{"):
        ns, local = tag[1:].split("}", 1)
        return ns, local
    return "", tag


def find_roots(element: ET.Element) -> list[tuple[str, ET.Element]]:
    """Every top-level container of our models in ``element`` (itself included),
    outermost first: by namespace, or by name alone when it has none."""
    found: list[tuple[str, ET.Element]] = []

    def visit(current: ET.Element) -> None:
        if not isinstance(current.tag, str):
            return
        ns, local = split_tag(current.tag)
        node = ROOTS.get(local)
        if node is not None and ns in ("", node["namespace"]):
            found.append((local, current))
            return
        for inner in current:
            visit(inner)

    visit(element)
    return found


def root_elements(element: ET.Element) -> list[ET.Element]:
    """The elements of ``find_roots``."""
    return [found for _name, found in find_roots(element)]


def decode(
    node: dict,
    element: ET.Element,
    *,
    state: bool = False,
    yang_names: bool = False,
    strict: bool = False,
    path: str = "",
) -> dict:
    """The dict of a container or list entry element: option names and values, or
    with ``yang_names`` RFC 7951 JSON (YANG names and values).

    State nodes are left out unless ``state``; elements the snapshot does not
    know are skipped (an agent newer than the collection), or with ``strict``
    (text a user gave) an XmlDataError.
    """
    out: dict = {}
    for item in element:
        if not isinstance(item.tag, str):
            continue
        name = split_tag(item.tag)[1]
        child = node.get("children", {}).get(name)
        if child is None:
            if strict:
                raise XmlDataError(f"{path or '/'}: unknown element '{name}'")
            continue
        if child.get("config", True) is False and not state:
            continue
        key = name if yang_names else option_name(name)
        inner_path = f"{path}/{name}"
        if child["kind"] == LIST:
            entry = decode(
                child, item, state=state, yang_names=yang_names, strict=strict, path=inner_path
            )
            out.setdefault(key, []).append(entry)
        elif child["kind"] == LEAF_LIST:
            out.setdefault(key, []).append(scalar_value(child, item.text, yang_names))
        elif child["kind"] == CONTAINER:
            out[key] = decode(
                child, item, state=state, yang_names=yang_names, strict=strict, path=inner_path
            )
        elif child["kind"] == LEAF:
            out[key] = scalar_value(child, item.text, yang_names)
    return out


def decode_roots(
    element: ET.Element, *, state: bool = False, yang_names: bool = False, strict: bool = False
) -> dict:
    """{root name: dict} of every top-level container of our models in ``element``."""
    out: dict = {}
    for name, found in find_roots(element):
        value = decode(
            ROOTS[name], found, state=state, yang_names=yang_names, strict=strict, path="/" + name
        )
        key = name if yang_names else option_name(name)
        if key in out:
            raise XmlDataError(f"/{name}: given twice")
        out[key] = value
    return out


def strip_none(value: object) -> object:
    """``value`` without the None members Ansible fills in for options not given."""
    if isinstance(value, dict):
        return {k: strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_none(v) for v in value if v is not None]
    return value
