# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""Which part of the FlyOS models each resource module manages.

A resource is either one YANG list (its module's ``config`` is a list of
entries, e.g. ``static_routes`` is ``/routing/static``) or one top-level
container (its ``config`` is a dict mirroring the container, e.g. ``tunnels``
is ``/tunnels`` with its ``gre``, ``ipip``, ``vxlan`` and ``wireguard``
lists). The argument specs and the XML of every resource module follow from
this table and the schema snapshot in ``schema.py``.
"""

from __future__ import annotations

RESOURCES = {
    "acls": ("acls",),
    "interfaces": ("interfaces", "interface"),
    "nat": ("nat", "rule"),
    "pbr_rules": ("routing", "pbr"),
    "static_routes": ("routing", "static"),
    "system": ("system",),
    "tunnels": ("tunnels",),
    "vrfs": ("vrfs", "vrf"),
}

STATES = ("merged", "replaced", "overridden", "deleted", "gathered", "rendered", "parsed")


def resource_path(name: str) -> tuple[str, ...]:
    """The schema path (top-level container, then the list if any) of a resource."""
    try:
        return RESOURCES[name]
    except KeyError:
        known = ", ".join(sorted(RESOURCES))
        raise ValueError(f"unknown resource '{name}' (known: {known})") from None
