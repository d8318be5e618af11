#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.vrfs resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: vrfs
short_description: Manage the VRFs of FlyOS agent
description:
  - Manages the VRF instances of a FlyOS agent (C(/flyos-vrf:vrfs/vrf)); each is a
    Linux C(vrf) device bound to its own routing table.
  - Interfaces join a VRF with the C(vrf) option of M(flyos.agent.interfaces);
    static routes and policy rules point into a VRF by name.
  - The options follow the YANG model C(flyos-vrf) node for node.
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The VRFs, one entry per name.
    type: list
    elements: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      name:
        description:
          - The name of the VRF device. It is a network device name,
            so it must not clash with the name of an interface.
          - The key of the entry.
        type: str
        required: true
      table:
        description:
          - The routing table of the VRF. The reserved tables 253 (default),
            254 (main) and 255 (local) cannot be used.
          - Mandatory when the entry is created.
          - Range C(1..252), C(256..4294967295).
        type: int
      description:
        description:
          - Free text describing the VRF.
        type: str
      # END GENERATED
"""

EXAMPLES = r"""
- name: Two VRFs
  flyos.agent.vrfs:
    config:
      - name: blue
        table: 100
      - name: red
        table: 200
        description: customer red
    state: merged

- name: Keep only blue
  flyos.agent.vrfs:
    config:
      - name: blue
        table: 100
    state: overridden

- name: Delete every VRF
  flyos.agent.vrfs:
    state: deleted
"""

RETURN = r"""
before:
  description: The VRFs before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample:
    - name: blue
      table: 100
after:
  description: The VRFs after the change (in check mode, what they would be).
  returned: when changed
  type: list
  elements: dict
  sample:
    - name: blue
      table: 100
      description: tenant blue
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
  description: The running VRFs.
  returned: when I(state=gathered)
  type: list
  elements: dict
  sample:
    - name: blue
      table: 100
rendered:
  description: I(config) as the XML of the C(vrfs) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <vrfs xmlns="urn:flyos:yang:flyos-vrf"><vrf><name>blue</name><table>100</table></vrf></vrfs>
parsed:
  description: The VRFs in I(running_config).
  returned: when I(state=parsed)
  type: list
  elements: dict
  sample:
    - name: blue
      table: 100
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "vrfs"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
