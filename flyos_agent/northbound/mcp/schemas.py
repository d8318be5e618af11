"""YANG -> JSON Schema for the MCP tools' inputs, built from the compiled schema.

Leaf types use the same mapping as the REST channel's OpenAPI document
(`rest.openapi_schema.type_schema`: integer ranges, string lengths, patterns
as anchored ECMA-262 regexes, enumerations, unions, leafrefs as their
target's type). Here the pieces are assembled inline, with no `$ref`, so a
model reads each tool's input in one piece:

- `entry_schema`: a list entry or container as sent in an edit (configuration
  only; list keys and unconditional mandatory leaves required; nothing else
  allowed);
- `keys_schema`: just the keys of a list entry (what a delete names);
- descriptions, units, defaults and an example value come from the YANG text.
"""

from __future__ import annotations

from typing import Any

from flyos_agent.northbound.rest.openapi_schema import example_of, type_schema
from flyos_agent.schema import Kind, SchemaNode
from flyos_agent.schema.values import value_to_json


def describe(node: SchemaNode) -> str:
    """The node's YANG description on one line, with its units."""
    text = " ".join(node.description.split())
    if node.units:
        text = f"{text} (units: {node.units})".strip()
    return text


def leaf_schema(node: SchemaNode) -> dict[str, Any]:
    """The JSON Schema of a leaf's value: type, default, example, description."""
    assert node.type is not None
    out = dict(type_schema(node.type))
    if node.default is not None:
        out["default"] = value_to_json(node.type, node.default)
    example = example_of(node.type)
    if example is not None:
        out["examples"] = [example]
    notes = [describe(node)]
    if node.type.leafref_path:
        notes.append(f"Refers to an existing {node.type.leafref_path}.")
    return _with_description(out, notes)


def value_schema(node: SchemaNode) -> dict[str, Any]:
    """The JSON Schema of the RFC 7951 value of `node` (a list as an array of entries)."""
    if node.kind is Kind.LEAF:
        return leaf_schema(node)
    if node.kind is Kind.LEAF_LIST:
        assert node.type is not None
        array = {"type": "array", "items": type_schema(node.type), "uniqueItems": True}
        return _cardinality(_with_description(array, [describe(node)]), node)
    if node.kind is Kind.LIST:
        array = {"type": "array", "items": entry_schema(node)}
        return _cardinality(_with_description(array, [describe(node)]), node)
    return entry_schema(node)


def entry_schema(node: SchemaNode, *, require: bool = True) -> dict[str, Any]:
    """The object schema of a list entry or container in an edit.

    With `require`, list keys and the mandatory leaves that no choice or
    `when` makes conditional are required.
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for child in node.children.values():
        if not child.config:
            continue
        properties[child.name] = value_schema(child)
        unconditional = child.mandatory and child.choice is None and child.when is None
        if require and (child.name in node.keys or unconditional):
            required.append(child.name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return _with_description(out, [describe(node)])


def keys_schema(node: SchemaNode) -> dict[str, Any]:
    """The object schema naming one entry of list `node`: its keys only."""
    properties = {key: leaf_schema(node.children[key]) for key in node.keys}
    out = {
        "type": "object",
        "properties": properties,
        "required": list(node.keys),
        "additionalProperties": False,
    }
    return _with_description(out, [f"the keys of the {node.name} entry"])


def _with_description(out: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Put the YANG text first, the type's own description (if any) after it in brackets."""
    text = " ".join(note for note in notes if note)
    existing = out.get("description")
    if existing:
        text = f"{text} [{existing}]" if text else existing
    if text:
        out["description"] = text
    return out


def _cardinality(out: dict[str, Any], node: SchemaNode) -> dict[str, Any]:
    if node.min_elements:
        out["minItems"] = node.min_elements
    if node.max_elements is not None:
        out["maxItems"] = node.max_elements
    return out
