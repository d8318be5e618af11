"""Parsing untrusted XML: no entities, no DTDs, no network, bounded size and depth.

Everything a client sends goes through `parse_message` (NETCONF messages and
RESTCONF XML bodies alike). A DOCTYPE (and with it every entity bomb and
external entity) is refused outright, as is nesting deeper than `max_depth`
(MAX_DEPTH unless the caller says otherwise). Messages are read as UTF-8, as
RFC 6241 and RFC 8040 require, whatever encoding they declare, so no other
encoding can smuggle a DOCTYPE past the check. Every refusal is a
MalformedMessage, the RFC 6241 error for a message that is not well-formed XML.
"""

from __future__ import annotations

from lxml import etree

from flyos_agent.errors import MalformedMessage

MAX_DEPTH = 128
_EXCESSIVE_DEPTH = "Excessive depth in document"

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
    encoding="utf-8",  # whatever the document declares: a DOCTYPE cannot hide in UTF-16
)


def parse_message(data: bytes, max_depth: int = MAX_DEPTH) -> etree._Element:
    """The root element of `data`; MalformedMessage for anything unsafe, ill-formed
    or nested deeper than `max_depth` elements."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MalformedMessage("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        if _EXCESSIVE_DEPTH in str(exc):  # libxml2's own bound, beyond any max_depth
            raise MalformedMessage(_too_deep(max_depth)) from None
        raise MalformedMessage(f"not well-formed XML: {exc}") from None
    if root is None:
        raise MalformedMessage("empty message")
    if root.getroottree().docinfo.internalDTD is not None:
        raise MalformedMessage("DOCTYPE and entity declarations are not allowed")
    _check_depth(root, max_depth)
    return root


def _check_depth(root: etree._Element, max_depth: int) -> None:
    depth = 0
    for event, _element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth > max_depth:
                raise MalformedMessage(_too_deep(max_depth))
        else:
            depth -= 1


def _too_deep(max_depth: int) -> str:
    return f"XML nested deeper than {max_depth} elements"
