#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.system resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: system
short_description: Manage the system settings of FlyOS agent
description:
  - Manages the system-wide settings of a FlyOS agent (C(/flyos-system:system)) -
    host name, IPv4 and IPv6 forwarding, description, contact and location.
  - With I(state=replaced) or I(state=overridden) the settings are exactly
    I(config); a setting not given is removed (and the agent's default, if the
    model has one, applies again). I(state=deleted) removes the settings given,
    or all of them.
  - The options follow the YANG model C(flyos-system) node for node (C(-) in a
    YANG name is C(_) here).
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The system settings.
    type: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      hostname:
        description:
          - 'The host name (kernel hostname / UTS name): dot-separated
            labels of letters, digits and inner hyphens, 64 characters
            at most.'
        type: str
      ipv4_forwarding:
        description:
          - Forward IPv4 packets between interfaces (net.ipv4.ip_forward).
          - The agent's default is C(true).
        type: bool
      ipv6_forwarding:
        description:
          - Forward IPv6 packets between interfaces (net.ipv6.conf.all.forwarding).
          - The agent's default is C(true).
        type: bool
      description:
        description:
          - Free text describing the device.
        type: str
      contact:
        description:
          - The administrative contact of the device.
        type: str
      location:
        description:
          - The physical location of the device.
        type: str
      # END GENERATED
"""

EXAMPLES = r"""
- name: Name the box and say where it is
  flyos.agent.system:
    config:
      hostname: edge1
      location: rack 4, Frankfurt
    state: merged

- name: Exactly these settings (contact and description go)
  flyos.agent.system:
    config:
      hostname: edge1
      ipv6_forwarding: false
    state: replaced

- name: Forget the location
  flyos.agent.system:
    config:
      location: ""
    state: deleted
"""

RETURN = r"""
before:
  description: The system settings before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: dict
  sample:
    hostname: edge1
    location: rack 4
after:
  description: The system settings after the change (in check mode, what they would be).
  returned: when changed
  type: dict
  sample:
    hostname: edge1
    ipv6_forwarding: false
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
  description: The running system settings.
  returned: when I(state=gathered)
  type: dict
  sample:
    hostname: edge1
    location: rack 4
rendered:
  description: I(config) as the XML of the C(system) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <system xmlns="urn:flyos:yang:flyos-system"><hostname>edge1</hostname></system>
parsed:
  description: The system settings in I(running_config).
  returned: when I(state=parsed)
  type: dict
  sample:
    hostname: edge1
    location: rack 4
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "system"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
