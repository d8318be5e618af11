"""<rpc-reply> documents: <ok/>, data, and one <rpc-error> per FlyosError.

Every error class names its RFC 6241 error-tag and error-type; this module
only spells them in XML: error-severity is always `error`, error-path is
rewritten with a namespace prefix on every step (declared on the element), and
each error-info item becomes an element (session-id, bad-element, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from flyos_agent.errors import FlyosError
from flyos_agent.northbound.netconf.namespaces import BASE, new_element, qname, sub

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_INFO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")

# Turns the Manager's JSON-style path into (XML path, prefix -> namespace).
PathRenderer = Callable[[str], tuple[str, dict[str, str]]]


def reply(attributes: Mapping[str, str]) -> etree._Element:
    """An empty <rpc-reply> carrying the <rpc>'s attributes (message-id and any other)."""
    element = new_element(BASE, "rpc-reply")
    for name, value in attributes.items():
        element.set(name, value)
    return element


def ok(attributes: Mapping[str, str]) -> etree._Element:
    """<rpc-reply><ok/></rpc-reply>."""
    element = reply(attributes)
    etree.SubElement(element, qname(BASE, "ok"))
    return element


def errors(
    attributes: Mapping[str, str], error: FlyosError, xml_path: PathRenderer | None = None
) -> etree._Element:
    """<rpc-reply> with one <rpc-error> for each error `error` holds."""
    element = reply(attributes)
    for item in error.errors:
        element.append(rpc_error(item, xml_path))
    return element


def rpc_error(error: FlyosError, xml_path: PathRenderer | None = None) -> etree._Element:
    """One <rpc-error> element for `error`."""
    element = new_element(BASE, "rpc-error")
    sub(element, BASE, "error-type", error.error_type)
    sub(element, BASE, "error-tag", error.tag)
    sub(element, BASE, "error-severity", "error")
    if error.app_tag:
        sub(element, BASE, "error-app-tag", error.app_tag)
    if error.path:
        text, nsmap = xml_path(error.path) if xml_path is not None else (error.path, {})
        path = etree.SubElement(element, qname(BASE, "error-path"), nsmap=nsmap)
        path.text = text
    message = sub(element, BASE, "error-message", error.message)
    message.set(XML_LANG, "en")
    if error.info:
        info = etree.SubElement(element, qname(BASE, "error-info"))
        for name, value in error.info.items():
            if _INFO_NAME.fullmatch(name) is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                sub(info, BASE, name, _info_text(item))
    return element


def _info_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
