#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.static_routes resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: static_routes
short_description: Manage the static routes of FlyOS agent
description:
  - Manages the static routes of a FlyOS agent (C(/flyos-routing:routing/static)),
    one entry per destination prefix, with a gateway, an outgoing interface, or
    several weighted next hops (ECMP).
  - The options follow the YANG model C(flyos-routing) node for node (C(-) in a
    YANG name is C(_) here).
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The static routes, one entry per destination prefix.
    type: list
    elements: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      prefix:
        description:
          - The destination prefix (IPv4 or IPv6).
          - The key of the entry.
        type: str
        required: true
      via:
        description:
          - The gateway address.
        type: str
      dev:
        description:
          - The outgoing interface.
          - Refers to C(/flyos-interfaces:interfaces/interface/name).
        type: str
      nexthop:
        description:
          - One next hop of a multipath (ECMP) route.
        type: list
        elements: dict
        suboptions:
          via:
            description:
              - The gateway address of this next hop.
              - The key of the entry.
            type: str
            required: true
          dev:
            description:
              - The outgoing interface of this next hop.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
          weight:
            description:
              - The relative weight of this next hop.
              - Range C(1..256).
              - The agent's default is C(1).
            type: int
      type:
        description:
          - The route type.
          - The agent's default is C(unicast).
        type: str
        choices:
          - unicast
          - blackhole
          - unreachable
          - prohibit
      metric:
        description:
          - The route metric (kernel priority); lower is preferred.
        type: int
      table:
        description:
          - The routing table. If neither table nor vrf is set, the
            route goes into the main table.
        type: str
      vrf:
        description:
          - The VRF whose table the route goes into.
          - Refers to C(/flyos-vrf:vrfs/vrf/name).
        type: str
      onlink:
        description:
          - Pretend the gateway is directly attached to the link even
            if no prefix on the link covers it.
          - The agent's default is C(false).
        type: bool
      track:
        description:
          - Track the reachability of the next hop and withdraw the
            route while the next hop is unreachable.
          - The agent's default is C(false).
        type: bool
      description:
        description:
          - Free text describing the route.
        type: str
      # END GENERATED
"""

EXAMPLES = r"""
- name: Add two routes (others are kept)
  flyos.agent.static_routes:
    config:
      - prefix: 10.0.0.0/24
        via: 192.0.2.1
        metric: 10
      - prefix: 10.1.0.0/16
        nexthop:
          - via: 192.0.2.1
            weight: 2
          - via: 192.0.2.2
    state: merged

- name: Replace one route entirely (its metric goes, the other routes stay)
  flyos.agent.static_routes:
    config:
      - prefix: 10.0.0.0/24
        via: 192.0.2.254
    state: replaced

- name: Keep exactly these routes
  flyos.agent.static_routes:
    config:
      - prefix: 0.0.0.0/0
        via: 192.0.2.1
      - prefix: 198.51.100.0/24
        type: blackhole
    state: overridden

- name: Delete one route
  flyos.agent.static_routes:
    config:
      - prefix: 198.51.100.0/24
    state: deleted

- name: Delete every static route
  flyos.agent.static_routes:
    state: deleted

- name: Read the routes
  flyos.agent.static_routes:
    state: gathered
  register: routes

- name: The XML the agent would get, offline
  flyos.agent.static_routes:
    config:
      - prefix: 10.0.0.0/24
        via: 192.0.2.1
    state: rendered

- name: Routes out of get-config XML, offline
  flyos.agent.static_routes:
    running_config: "{{ lookup('ansible.builtin.file', 'routing.xml') }}"
    state: parsed
"""

RETURN = r"""
before:
  description: The static routes before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample:
    - prefix: 10.0.0.0/24
      via: 192.0.2.1
after:
  description: The static routes after the change (in check mode, what they would be).
  returned: when changed
  type: list
  elements: dict
  sample:
    - prefix: 10.0.0.0/24
      via: 192.0.2.254
commands:
  description: The edit-config C(<config>) sent to the candidate.
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: str
  sample:
    - >-
      <nc:config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><routing
      xmlns="urn:flyos:yang:flyos-routing"><static
      nc:operation="replace"><prefix>10.0.0.0/24</prefix>
      <via>192.0.2.254</via></static></routing></nc:config>
changes:
  description: What the agent's C(compare) RPC reported for the candidate against running.
  returned: when an edit was sent
  type: list
  elements: dict
  sample:
    - operation: modify
      target: /flyos-routing:routing/static[prefix='10.0.0.0/24']
      leaves:
        via:
          old: 192.0.2.1
          new: 192.0.2.254
gathered:
  description: The running static routes.
  returned: when I(state=gathered)
  type: list
  elements: dict
  sample:
    - prefix: 10.0.0.0/24
      via: 192.0.2.1
rendered:
  description: I(config) as the XML of the C(routing) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <routing xmlns="urn:flyos:yang:flyos-routing"><static><prefix>10.0.0.0/24</prefix>
    <via>192.0.2.1</via></static></routing>
parsed:
  description: The static routes in I(running_config).
  returned: when I(state=parsed)
  type: list
  elements: dict
  sample:
    - prefix: 10.0.0.0/24
      via: 192.0.2.1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "static_routes"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
