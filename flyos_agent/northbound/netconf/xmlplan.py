"""How the XML children of each container and list are read, compiled once per schema.

For every container and list the plan maps each child's lxml tag
(`{namespace}name`) to a `ChildSpec`: what the child is and, for a leaf or
leaf-list, its memoised value parser. Reading an element is then one dict
lookup and, for a leaf, one parser call (see xmlreader).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from flyos_agent.northbound.netconf.namespaces import qname
from flyos_agent.schema import Kind, Schema, SchemaNode
from flyos_agent.schema.values import leaf_parser


class Role(enum.Enum):
    """What a child element stands for in configuration data."""

    LEAF = 1
    LEAF_LIST = 2
    LIST = 3
    CONTAINER = 4
    STATE = 5  # config false: not allowed in edit data


class ChildSpec:
    """One schema node as an element is read: its role, parser, and the plan
    of its own children (empty for a leaf or leaf-list)."""

    __slots__ = ("leaf", "name", "node", "parse", "plan", "role")

    def __init__(self, node: SchemaNode) -> None:
        self.node = node
        self.name = node.name
        self.plan = NodePlan(node)
        self.parse: Callable[[str], Any] = _no_value
        if not node.config:
            self.role = Role.STATE
        elif node.kind is Kind.LIST:
            self.role = Role.LIST
        elif node.kind is Kind.CONTAINER:
            self.role = Role.CONTAINER
        else:
            self.role = Role.LEAF if node.kind is Kind.LEAF else Role.LEAF_LIST
            assert node.type is not None
            self.parse = _present if node.type.base == "empty" else leaf_parser(node.type)
        self.leaf = self.role is Role.LEAF  # the hot case, tested first


class NodePlan:
    """The children of one container or list node, by lxml tag and by name."""

    __slots__ = ("by_name", "by_tag", "key", "keys", "structured")

    def __init__(self, node: SchemaNode) -> None:
        self.keys = node.keys
        self.key = node.keys[0] if len(node.keys) == 1 else ""  # the common single key
        self.by_tag = {
            qname(child.namespace, child.name): ChildSpec(child) for child in node.children.values()
        }
        self.by_name = {spec.name: spec for spec in self.by_tag.values()}
        self.structured = frozenset(
            spec.name
            for spec in self.by_tag.values()
            if spec.role in (Role.LIST, Role.CONTAINER, Role.LEAF_LIST)
        )


def root_specs(schema: Schema) -> dict[str, ChildSpec]:
    """The top-level nodes of `schema` by lxml tag, with every plan below them."""
    return {qname(node.namespace, node.name): ChildSpec(node) for node in schema.roots.values()}


def _no_value(text: str) -> Any:
    raise AssertionError("only leaves and leaf-lists parse values")


def _present(text: str) -> bool:
    """An `empty` leaf is there, whatever text it holds."""
    return True
