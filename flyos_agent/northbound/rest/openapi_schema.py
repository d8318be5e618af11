"""YANG -> JSON Schema (the OpenAPI 3.0 dialect) from the compiled schema.

Each container and list entry becomes a component in two variants: the
data a client sends (configuration only, list keys and unconditional
mandatory leaves required, no other members) and the data the agent returns
(configuration and state, nothing required, annotations allowed). Leaf types
carry what YANG says: integer ranges, string lengths and patterns (XSD
regular expressions translated to anchored ECMA-262 ones; JSON Schema takes
one pattern per string, so further and inverted ones are described in
words, and the agent checks them all), enumerations,
unions as anyOf, leafrefs as their target's type, 64-bit numbers as strings
(RFC 7951), descriptions, units and defaults.
"""

from __future__ import annotations

from typing import Any

from flyos_agent.schema import Kind, LeafType, Schema, SchemaNode
from flyos_agent.schema.values import INTEGER_BOUNDS, JSON_STRING_INTEGERS, value_to_json

REF = "#/components/schemas/"
EDIT_SUFFIX = "__edit"
EXAMPLES = {
    "ietf-inet-types:ip-prefix": "10.0.0.0/24",
    "ietf-inet-types:ipv4-prefix": "10.0.0.0/24",
    "ietf-inet-types:ipv6-prefix": "2001:db8::/32",
    "ietf-inet-types:ip-address": "192.168.1.1",
    "ietf-inet-types:ipv4-address": "192.168.1.1",
    "ietf-inet-types:ipv6-address": "2001:db8::1",
}
_CATEGORIES = {"L": "a-zA-Z", "Lu": "A-Z", "Ll": "a-z", "N": "0-9", "Nd": "0-9"}


def xsd_to_ecma(regex: str) -> str | None:
    """An anchored ECMA-262 / Python regex matching what XSD regex `regex` matches.

    `\\p{L}` and `\\p{N}` become their ASCII ranges (a subset: documentation
    may be narrower than the agent, never wider); None for XSD features with
    no translation (other categories, `\\i`, `\\c`, class subtraction).
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(regex):
        char = regex[index]
        if char == "\\" and index + 1 < len(regex):
            escaped = regex[index + 1]
            if escaped in "pP":
                end = regex.find("}", index)
                chars = _CATEGORIES.get(regex[index + 3 : end]) if end > 0 else None
                if chars is None or escaped == "P" or regex[index + 2] != "{":
                    return None
                out.append(chars if in_class else f"[{chars}]")
                index = end + 1
                continue
            if escaped in "iIcC":
                return None
            out.append(regex[index : index + 2])
            index += 2
            continue
        if char == "[" and in_class:
            return None
        if char in "[]":
            in_class = char == "["
        elif char in "^$" and not in_class:
            char = "\\" + char
        out.append(char)
        index += 1
    return "^(?:" + "".join(out) + ")$"


def example_of(leaf_type: LeafType) -> str | None:
    """An example value for the address and prefix types (a union: its first member's)."""
    for name in (leaf_type.name, *leaf_type.typedefs):
        if name in EXAMPLES:
            return EXAMPLES[name]
    if leaf_type.members and leaf_type.base in ("union", "leafref"):
        return example_of(leaf_type.members[0])
    return None


def type_schema(leaf_type: LeafType) -> dict[str, Any]:
    """The JSON Schema of one RFC 7951 leaf value of `leaf_type`."""
    base = leaf_type.base
    if base == "leafref":
        return type_schema(leaf_type.members[0]) if leaf_type.members else {"type": "string"}
    if base == "union":
        return {"anyOf": [type_schema(member) for member in leaf_type.members]}
    if base in INTEGER_BOUNDS and base not in JSON_STRING_INTEGERS:
        return _integer(leaf_type)
    if base in JSON_STRING_INTEGERS:
        return {"type": "string", "pattern": "^[-+]?[0-9]+$", "format": base}
    if base == "decimal64":
        return {"type": "string", "pattern": r"^[-+]?[0-9]+(\.[0-9]+)?$", "format": "decimal64"}
    if base == "boolean":
        return {"type": "boolean"}
    if base == "enumeration":
        return {"type": "string", "enum": list(leaf_type.enums)}
    if base == "empty":
        item = {"nullable": True, "enum": [None]}
        return {"type": "array", "items": item, "minItems": 1, "maxItems": 1}
    if base == "bits":
        return {
            "type": "string",
            "description": "space-separated bits: " + " ".join(leaf_type.bits),
        }
    return _string(leaf_type)


def _integer(leaf_type: LeafType) -> dict[str, Any]:
    low, high = INTEGER_BOUNDS[leaf_type.base]
    intervals = leaf_type.ranges or ((low, high),)
    options = [
        {"type": "integer", "minimum": max(low, int(a)), "maximum": min(high, int(b))}
        for a, b in intervals
    ]
    return options[0] if len(options) == 1 else {"anyOf": options}


def _string(leaf_type: LeafType) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if len(leaf_type.lengths) == 1:
        low, high = leaf_type.lengths[0]
        out["minLength"] = int(low)
        if high < 2**31:
            out["maxLength"] = int(high)
    notes = [f"YANG type {leaf_type.name}"] if leaf_type.name != leaf_type.base else []
    for index, yang_pattern in enumerate(leaf_type.patterns):
        pattern = None if yang_pattern.invert else xsd_to_ecma(yang_pattern.regex)
        if index == 0 and pattern is not None:
            out["pattern"] = pattern
        else:
            verb = "must not match" if yang_pattern.invert else "must also match"
            notes.append(f"{verb} the XSD pattern {yang_pattern.regex}")
    if notes:
        out["description"] = "; ".join(notes)
    return out


class SchemaBuilder:
    """Builds the component schemas of the data nodes as they are referenced."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.components: dict[str, dict[str, Any]] = {}

    def value(self, node: SchemaNode, *, edit: bool) -> dict[str, Any]:
        """The schema of the JSON value of `node` (a list as an array of entries)."""
        if node.kind is Kind.LEAF:
            return self.leaf(node)
        if node.kind is Kind.LEAF_LIST:
            assert node.type is not None
            out = _described({"type": "array", "items": type_schema(node.type)}, node)
            out["uniqueItems"] = True
            return _cardinality(out, node)
        if node.kind is Kind.LIST:
            array = {"type": "array", "items": self.ref(node, edit=edit)}
            return _cardinality(_described(array, node), node)
        return self.ref(node, edit=edit)

    def leaf(self, node: SchemaNode) -> dict[str, Any]:
        """The schema of a leaf's value, with description, units and default."""
        assert node.type is not None
        out = dict(type_schema(node.type))
        if node.default is not None:
            out["default"] = value_to_json(node.type, node.default)
        example = example_of(node.type)
        if example is not None:
            out["example"] = example
        return _described(out, node)

    def ref(self, node: SchemaNode, *, edit: bool) -> dict[str, Any]:
        """A $ref to the component of a container or list entry (built on first use)."""
        name = component_name(node, edit=edit)
        if name not in self.components:
            self.components[name] = {}
            self.components[name] = self.object(node, edit=edit)
        return {"$ref": REF + name}

    def object(
        self, node: SchemaNode, *, edit: bool, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The object schema of a container or list entry (plus `extra` properties)."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for child in node.children.values():
            if edit and not child.config:
                continue
            properties[child.name] = self.value(child, edit=edit)
            mandatory = child.mandatory and child.choice is None and child.when is None
            if edit and (child.name in node.keys or mandatory):
                required.append(child.name)
        properties.update(extra or {})
        out = _described({"type": "object", "properties": properties}, node)
        if edit:
            out["additionalProperties"] = False
            if required:
                out["required"] = required
        return out


def component_name(node: SchemaNode, *, edit: bool) -> str:
    """`flyos-routing.routing.static` (returned data) or `...static__edit` (sent data)."""
    name = node.path.strip("/").replace(":", ".").replace("/", ".")
    return name + EDIT_SUFFIX if edit else name


def _described(out: dict[str, Any], node: SchemaNode) -> dict[str, Any]:
    text = " ".join(node.description.split())
    if node.units:
        text = f"{text} (units: {node.units})".strip()
    if not node.config:
        out["readOnly"] = True
    if text:
        existing = out.get("description")
        out["description"] = f"{text} [{existing}]" if existing else text
    return out


def _cardinality(out: dict[str, Any], node: SchemaNode) -> dict[str, Any]:
    if node.min_elements:
        out["minItems"] = node.min_elements
    if node.max_elements is not None:
        out["maxItems"] = node.max_elements
    return out
