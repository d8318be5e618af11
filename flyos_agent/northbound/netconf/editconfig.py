"""edit-config's <config> flattened into the Manager's list of Edits.

The data without an operation attribute becomes one Edit at the root with no
operation of its own, so the default-operation applies to it. Every element
that carries an `operation` attribute becomes its own Edit at its instance
path (keys taken from its key leaves) and is left out of its parent's edit;
edits come in document order, an element's own edit before the edits nested
in it. `operation` is read in the base namespace (RFC 6241) and, leniently,
without a namespace as some clients send it.
"""

from __future__ import annotations

from lxml import etree

from flyos_agent.datastore.edit import Edit, Operation
from flyos_agent.datastore.paths import ROOT, InstancePath
from flyos_agent.errors import BadAttribute
from flyos_agent.northbound.netconf.namespaces import BASE, qname, split
from flyos_agent.northbound.netconf.xmldata import Walker, XmlCodec
from flyos_agent.schema import SchemaNode

OPERATION_ATTR = qname(BASE, "operation")
EDIT_OPERATIONS = ("merge", "replace", "create", "delete", "remove")


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


def flatten(codec: XmlCodec, config: etree._Element) -> list[Edit]:
    """The Edits that the children of `config` describe."""
    edits: list[Edit | None] = [None]

    def split_off(
        element: etree._Element, node: SchemaNode, path: InstancePath, walker: Walker
    ) -> None:
        operation = Operation(operation_of(element) or Operation.MERGE)
        slot = len(edits)
        edits.append(None)
        value = None
        if operation not in (Operation.DELETE, Operation.REMOVE):
            value = walker.value(element, node, path)
        edits[slot] = Edit(operation, path, value)

    children = [child for child in config if isinstance(child.tag, str)]
    plain = codec.from_xml(children, operation_of=operation_of, on_operation=split_off)
    if plain or len(edits) == 1:
        edits[0] = Edit(None, ROOT, plain)
    return [edit for edit in edits if edit is not None]
