# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""Lookups in the schema snapshot (schema.py): roots, children, keys, names.

A node is a dict of the snapshot: ``kind`` (container, list, leaf,
leaf-list), ``keys``, ``type`` (int, bool, empty, float, str), ``enums``,
``config`` (False for state) and ``children`` in schema order. Option names
are YANG names with ``-`` written ``_``; both spellings are accepted.
"""

from __future__ import annotations

from ansible_collections.flyos.agent.plugins.module_utils.resources import resource_path
from ansible_collections.flyos.agent.plugins.module_utils.schema import ROOTS

CONTAINER = "container"
LIST = "list"
LEAF = "leaf"
LEAF_LIST = "leaf-list"


def option_name(name: str) -> str:
    """The Ansible spelling of a YANG node name (``prefix-length`` -> ``prefix_length``)."""
    return name.replace("-", "_")


def root(name: str) -> dict:
    """The top-level container called ``name``; KeyError if there is none."""
    return ROOTS[name.replace("_", "-")]


def child(node: dict, name: str) -> dict | None:
    """The child of ``node`` called ``name`` (``_`` and ``-`` alike), or None."""
    children = node.get("children", {})
    return children.get(name) or children.get(name.replace("_", "-"))


def yang_name(node: dict, name: str) -> str | None:
    """The YANG spelling of child ``name`` of ``node``, or None if it has no such child."""
    children = node.get("children", {})
    for candidate in (name, name.replace("_", "-")):
        if candidate in children:
            return candidate
    return None


def config_children(node: dict) -> list[tuple[str, dict]]:
    """(name, node) of the configuration children: list keys first, then schema order."""
    keys = node.get("keys", [])
    children = [(n, c) for n, c in node.get("children", {}).items() if c.get("config", True)]
    return sorted(children, key=lambda item: item[0] not in keys)


def is_leafy(node: dict) -> bool:
    return node["kind"] in (LEAF, LEAF_LIST)


def resource_node(resource: str) -> dict:
    """The container or list a resource module manages."""
    path = resource_path(resource)
    node = root(path[0])
    for step in path[1:]:
        node = node["children"][step]
    return node
