"""The compiled YANG schema: the single source of truth every layer reads."""

from flyos_agent.schema.nodes import Kind, LeafType, ModuleInfo, Must, Pattern, SchemaNode
from flyos_agent.schema.schema import Schema, build_schema, default_schema, load_schema
from flyos_agent.schema.values import InvalidValue, parse_value, value_to_json, value_to_text

__all__ = [
    "InvalidValue",
    "Kind",
    "LeafType",
    "ModuleInfo",
    "Must",
    "Pattern",
    "Schema",
    "SchemaNode",
    "build_schema",
    "default_schema",
    "load_schema",
    "parse_value",
    "value_to_json",
    "value_to_text",
]
