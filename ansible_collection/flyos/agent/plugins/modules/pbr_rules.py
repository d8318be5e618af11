#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.pbr_rules resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: pbr_rules
short_description: Manage the policy-based routing rules of FlyOS agent
description:
  - Manages the policy routing rules (C(ip rule)) of a FlyOS agent
    (C(/flyos-routing:routing/pbr)), one entry per rule priority. Packets that
    match every given selector (source and destination prefix, firewall mark,
    input and output interface) are looked up in another table or VRF, or
    dropped.
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
      - The policy routing rules, one entry per priority.
    type: list
    elements: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      priority:
        description:
          - The rule priority; lower numbers are evaluated first. 0,
            32766 and 32767 are the kernel's own rules (local, main,
            default).
          - The key of the entry.
          - Range C(1..32765).
        type: int
        required: true
      prefix:
        description:
          - Match the source address ('from').
        type: str
      to:
        description:
          - Match the destination address ('to').
        type: str
      fwmark:
        description:
          - Match the firewall mark.
        type: int
      fwmask:
        description:
          - The mask applied to the firewall mark before matching.
        type: int
      iif:
        description:
          - Match the incoming interface.
          - Refers to C(/flyos-interfaces:interfaces/interface/name).
        type: str
      oif:
        description:
          - Match the outgoing interface (locally generated packets
            bound to a device).
          - Refers to C(/flyos-interfaces:interfaces/interface/name).
        type: str
      table:
        description:
          - The table to look up. If neither table nor vrf is set, a
            lookup rule uses the main table.
        type: str
      vrf:
        description:
          - Look up the table of this VRF.
          - Refers to C(/flyos-vrf:vrfs/vrf/name).
        type: str
      action:
        description:
          - What the rule does with a matching packet.
          - The agent's default is C(lookup).
        type: str
        choices:
          - lookup
          - blackhole
          - unreachable
          - prohibit
      description:
        description:
          - Free text describing the rule.
        type: str
      # END GENERATED
"""

EXAMPLES = r"""
- name: Route marked traffic through table 100
  flyos.agent.pbr_rules:
    config:
      - priority: 1000
        fwmark: 100
        table: "100"
      - priority: 1010
        prefix: 10.1.0.0/16
        iif: eth1
        vrf: blue
    state: merged

- name: Keep exactly one rule
  flyos.agent.pbr_rules:
    config:
      - priority: 1000
        fwmark: 100
        table: "100"
    state: overridden

- name: Delete a rule
  flyos.agent.pbr_rules:
    config:
      - priority: 1010
    state: deleted
"""

RETURN = r"""
before:
  description: The policy routing rules before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample:
    - priority: 1000
      fwmark: 100
      table: "100"
after:
  description: The policy routing rules after the change (in check mode, what they would be).
  returned: when changed
  type: list
  elements: dict
  sample:
    - priority: 1000
      fwmark: 100
      table: "200"
commands:
  description: The edit-config C(<config>) sent to the candidate.
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: str
changes:
  description: What the agent's C(compare) RPC reported for the candidate against running.
  returned: when an edit was sent
  type: list
  elements: dict
gathered:
  description: The running policy routing rules.
  returned: when I(state=gathered)
  type: list
  elements: dict
  sample:
    - priority: 1000
      fwmark: 100
      table: "100"
rendered:
  description: I(config) as the XML of the C(routing) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <routing xmlns="urn:flyos:yang:flyos-routing"><pbr><priority>1000</priority>
    <fwmark>100</fwmark><table>100</table></pbr></routing>
parsed:
  description: The policy routing rules in I(running_config).
  returned: when I(state=parsed)
  type: list
  elements: dict
  sample:
    - priority: 1000
      fwmark: 100
      table: "100"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "pbr_rules"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
