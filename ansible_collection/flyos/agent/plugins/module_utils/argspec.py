# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""Argument specs of the resource modules, generated from the schema snapshot.

Every configuration node under a resource becomes an option: a container a
``dict``, a list a ``list`` of ``dict`` (its keys required), a leaf-list a
``list`` of its value type, a leaf its value type (``int``, ``bool``,
``str``) with ``choices`` for an enumeration; a secret (a private key) is
``no_log``. Names are the YANG names with
``_`` for ``-``. Nothing has a default: an option not given is not sent, so
``merged`` never resets what the play does not mention. The DOCUMENTATION of
each module carries the same tree (tools/generate.py writes it), ansible-test
validate-modules checks that the two agree, and the collection's tests check
both against the agent's compiled schema.
"""

from __future__ import annotations

import re

from ansible_collections.flyos.agent.plugins.module_utils.resources import STATES, resource_path
from ansible_collections.flyos.agent.plugins.module_utils.tree import (
    CONTAINER,
    LEAF_LIST,
    LIST,
    config_children,
    option_name,
    resource_node,
)

# option names ansible-test and AnsibleModule take for possible secrets (no_log must be explicit)
SECRET_LOOKING = re.compile(r"pass(?!ive)|secret|token|key", re.IGNORECASE)
VALUE_TYPES = {"int": "int", "bool": "bool", "empty": "bool", "float": "float", "str": "str"}


def option_spec(name: str, node: dict) -> dict:
    """The argument spec entry of one schema node."""
    kind = node["kind"]
    if kind == CONTAINER:
        spec: dict = {"type": "dict", "options": options(node)}
    elif kind == LIST:
        spec = {"type": "list", "elements": "dict", "options": options(node)}
    elif kind == LEAF_LIST:
        spec = {"type": "list", "elements": VALUE_TYPES[node["type"]]}
    else:
        spec = {"type": VALUE_TYPES[node["type"]]}
    if node.get("enums"):
        spec["choices"] = list(node["enums"])
    if node.get("secret"):
        spec["no_log"] = True
    elif kind not in (CONTAINER, LIST) and SECRET_LOOKING.search(name):
        spec["no_log"] = False
    return spec


def options(node: dict) -> dict:
    """The options of a container or list entry: its configuration children."""
    out = {}
    for name, child in config_children(node):
        spec = option_spec(name, child)
        if name in node.get("keys", ()):
            spec["required"] = True
        out[option_name(name)] = spec
    return out


def config_spec(resource: str) -> dict:
    """The ``config`` option of a resource module."""
    node = resource_node(resource)
    if len(resource_path(resource)) > 1:
        return {"type": "list", "elements": "dict", "options": options(node)}
    return {"type": "dict", "options": options(node)}


def resource_argument_spec(resource: str) -> dict:
    """The whole argument spec of a resource module."""
    return {
        "config": config_spec(resource),
        "running_config": {"type": "str"},
        "state": {"type": "str", "default": "merged", "choices": list(STATES)},
    }


def resource_module_kwargs(resource: str) -> dict:
    """Keyword arguments of AnsibleModule for a resource module."""
    return {
        "argument_spec": resource_argument_spec(resource),
        "required_if": [
            ("state", "merged", ("config",)),
            ("state", "replaced", ("config",)),
            ("state", "overridden", ("config",)),
            ("state", "rendered", ("config",)),
            ("state", "parsed", ("running_config",)),
        ],
        "mutually_exclusive": [("config", "running_config")],
        "supports_check_mode": True,
    }
