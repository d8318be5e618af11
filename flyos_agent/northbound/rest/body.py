"""Request bodies of RESTCONF data resources: one data node, or the whole datastore.

A body names the node it carries (`{"flyos-routing:static": [{...}]}` or
`<static xmlns="urn:flyos:yang:flyos-routing">`); it comes back as the
node's local name and its RFC 7951 JSON value, whatever the encoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from lxml import etree

from flyos_agent.errors import InvalidValue, UnknownElement
from flyos_agent.northbound.rest.context import state
from flyos_agent.northbound.rest.media import is_xml, json_body, xml_body
from flyos_agent.northbound.rest.xml_codec import (
    RESTCONF_NS,
    children_value,
    document_member,
    local_name,
)
from flyos_agent.schema import Kind, SchemaNode

DATASTORE_MEMBER = "ietf-restconf:data"


def member(candidates: Mapping[str, SchemaNode]) -> tuple[str, Any]:
    """The body's one data node, which must be one of `candidates`: (local name, value).

    A list or leaf-list always comes back as an array.
    """
    if is_xml(request.mimetype):
        return xml_member(xml_body(), candidates)
    return json_member(json_body(), candidates)


def xml_member(element: etree._Element, candidates: Mapping[str, SchemaNode]) -> tuple[str, Any]:
    """The data node an XML element encodes, one of `candidates`: (local name, value)."""
    qualified, value = document_member(state().schema, element, candidates)
    return qualified.rpartition(":")[2], value


def json_member(document: Any, candidates: Mapping[str, SchemaNode]) -> tuple[str, Any]:
    """The one member of a JSON object, one of `candidates`: (local name, value)."""
    if not isinstance(document, dict) or len(document) != 1:
        expected = " or ".join(sorted(candidates)) or "nothing"
        raise InvalidValue(f"the body must be a JSON object with one member: {expected}")
    ((name, value),) = document.items()
    module, _, local = name.rpartition(":")
    node = candidates.get(local)
    if node is None or (module and module != node.module):
        raise UnknownElement(
            f"unexpected member '{name}' (expected: {', '.join(sorted(candidates))})",
            info={"bad-element": name},
        )
    if node.kind in (Kind.LIST, Kind.LEAF_LIST) and not isinstance(value, list):
        value = [value]
    return local, value


def datastore() -> dict[str, Any]:
    """The body of a whole-datastore PUT/PATCH: top-level members by qualified name."""
    schema = state().schema
    if is_xml(request.mimetype):
        element = xml_body()
        namespace, name = local_name(element)
        if (namespace, name) != (RESTCONF_NS, "data"):
            raise UnknownElement(f'expected <data xmlns="{RESTCONF_NS}">, not <{name}>')
        return children_value(schema.roots, element, "/")
    document = json_body()
    if not isinstance(document, dict) or set(document) != {DATASTORE_MEMBER}:
        raise InvalidValue(f'the body must be {{"{DATASTORE_MEMBER}": {{...}}}}')
    content = document[DATASTORE_MEMBER]
    if not isinstance(content, dict):
        raise InvalidValue(f"'{DATASTORE_MEMBER}' must be an object")
    return content
