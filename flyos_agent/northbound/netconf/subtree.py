"""RFC 6241 section 6 subtree filtering over XML data.

A filter node is a *selection* node (empty: select the whole subtree), a
*content match* node (a leaf with text: the data must hold that leaf with that
value) or a *containment* node (has children: descend). Content match nodes
of one sibling set must all match for anything in it to be selected; a sibling
set with only content match nodes selects all of the parent's children. A
filter element without a namespace matches that name in any namespace. List
entries selected through containment keep their key leaves, so every entry in
the output says which one it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from lxml import etree

from flyos_agent.northbound.netconf.namespaces import shallow_copy, split

# The tags of the key leaves of a data element if it is a list entry, else nothing.
KeysOf = Callable[[etree._Element], frozenset[str]]


def apply(
    filter_nodes: Iterable[etree._Element], data: Iterable[etree._Element], keys_of: KeysOf
) -> list[etree._Element]:
    """The top-level data elements selected by the top-level `filter_nodes`."""
    filters = [f for f in filter_nodes if isinstance(f.tag, str)]
    out: list[etree._Element] = []
    for element in data:
        for node in filters:
            if not _same_name(node, element):
                continue
            selected = _select(node, element, keys_of)
            if selected is not None:
                out.append(selected)
                break
    return out


def _elements(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _same_name(node: etree._Element, element: etree._Element) -> bool:
    node_ns, node_local = split(str(node.tag))
    data_ns, data_local = split(str(element.tag))
    return node_local == data_local and (node_ns is None or node_ns == data_ns)


def _content(node: etree._Element) -> str | None:
    """The text a content match node asks for; None for other filter nodes."""
    if _elements(node):
        return None
    text = (node.text or "").strip()
    return text or None


def _matches(node: etree._Element, element: etree._Element, want: str) -> bool:
    return _same_name(node, element) and (element.text or "").strip() == want


def _select(
    node: etree._Element, element: etree._Element, keys_of: KeysOf
) -> etree._Element | None:
    """`element` as `node` filters it (a new element), or None if nothing is selected."""
    children = _elements(node)
    if not children:
        want = _content(node)
        if want is not None and (element.text or "").strip() != want:
            return None
        return copy.deepcopy(element)
    contents = [(c, text) for c in children if (text := _content(c)) is not None]
    data = _elements(element)
    for content_node, want in contents:
        if not any(_matches(content_node, item, want) for item in data):
            return None
    others = [c for c in children if _content(c) is None]
    out = shallow_copy(element)
    if not others:
        out.extend(copy.deepcopy(item) for item in data)
        return out
    keys = keys_of(element)
    selected = False
    for item in data:
        if item.tag in keys or any(_matches(c, item, w) for c, w in contents):
            out.append(copy.deepcopy(item))
            continue
        for other in others:
            if _same_name(other, item):
                picked = _select(other, item, keys_of)
                if picked is not None:
                    out.append(picked)
                    selected = True
                    break
    if not selected and not contents:
        return None
    return out
