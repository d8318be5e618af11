"""XML namespaces and capability URIs of the NETCONF channel, and element helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from lxml import etree

BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIFICATION = "urn:ietf:params:xml:ns:netconf:notification:1.0"
NETCONF_NOTIFICATIONS = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
MONITORING = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
YANG_LIBRARY = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
WITH_DEFAULTS = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"
WITH_DEFAULTS_ATTR = "urn:ietf:params:xml:ns:netconf:default:1.0"
NOTIFICATION_STREAMS = "urn:ietf:params:xml:ns:netmod:notification"
DATASTORES = "urn:ietf:params:xml:ns:yang:ietf-datastores"
FLYOS_OPS = "urn:flyos:yang:flyos-agent-ops"
FLYOS_NETCONF = "urn:flyos:yang:flyos-agent-netconf"

BASE_1_0 = "urn:ietf:params:netconf:base:1.0"
BASE_1_1 = "urn:ietf:params:netconf:base:1.1"
CAPABILITY = "urn:ietf:params:netconf:capability:"


def qname(namespace: str, name: str) -> str:
    """Clark notation `{namespace}name` as lxml spells tags."""
    return f"{{{namespace}}}{name}"


def split(tag: str) -> tuple[str | None, str]:
    """(namespace or None, local name) of an lxml tag."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def sub(
    parent: etree._Element, namespace: str, name: str, text: str | None = None
) -> etree._Element:
    """Append element `name` in `namespace` (with `text`) to `parent` and return it."""
    element = etree.SubElement(parent, qname(namespace, name))
    element.text = text
    return element


def default_ns(namespace: str, prefixes: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """An nsmap declaring `namespace` as the default namespace (plus `prefixes`)."""
    nsmap: dict[str | None, str] = {None: namespace}
    nsmap.update(prefixes or {})
    return cast(Mapping[str, str], nsmap)  # lxml-stubs types nsmap keys as str only


def new_element(namespace: str, name: str) -> etree._Element:
    """A new root element `name` with `namespace` as its default namespace."""
    return etree.Element(qname(namespace, name), nsmap=default_ns(namespace))


def shallow_copy(original: etree._Element) -> etree._Element:
    """A new element with the tag and namespace declarations of `original`, no content."""
    return etree.Element(original.tag, nsmap=cast(Mapping[str, str], original.nsmap))
