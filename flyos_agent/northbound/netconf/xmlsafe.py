"""Parsing untrusted XML: no entities, no DTDs, no network, bounded size and depth.

Everything a client sends goes through `parse_message`. A DOCTYPE (and with
it every entity bomb) is refused outright, as is nesting deeper than
MAX_DEPTH; every refusal is a MalformedMessage, the RFC 6241 error for a
message that is not well-formed XML.
"""

from __future__ import annotations

from lxml import etree

from flyos_agent.errors import MalformedMessage

MAX_DEPTH = 128

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


def parse_message(data: bytes) -> etree._Element:
    """The root element of `data`; MalformedMessage for anything unsafe or ill-formed."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MalformedMessage("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MalformedMessage(f"not well-formed XML: {exc}") from None
    if root is None:
        raise MalformedMessage("empty message")
    if root.getroottree().docinfo.internalDTD is not None:
        raise MalformedMessage("DOCTYPE and entity declarations are not allowed")
    _check_depth(root)
    return root


def _check_depth(root: etree._Element) -> None:
    depth = 0
    for event, _element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth > MAX_DEPTH:
                raise MalformedMessage(f"XML nested deeper than {MAX_DEPTH} elements")
        else:
            depth -= 1
