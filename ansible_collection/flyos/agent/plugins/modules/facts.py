#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.facts module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: facts
short_description: Gather facts from FlyOS agent
description:
  - Collects facts from a FlyOS agent over NETCONF - the device, its running
    configuration, its operational state, and the configuration of each
    resource in the structure of the resource modules.
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
options:
  gather_subset:
    description:
      - What to collect. C(min) is the device facts only (always collected);
        C(config) adds the running configuration (I(ansible_net_config));
        C(state) adds the operational data (I(ansible_net_state));
        C(all) is both. A subset prefixed with C(!) is left out.
    type: list
    elements: str
    default: [config]
  gather_network_resources:
    description:
      - The resources to collect in I(ansible_network_resources), each in the
        structure of its resource module's I(config); C(all) for every one.
    type: list
    elements: str
    choices:
      - all
      - acls
      - interfaces
      - nat
      - pbr_rules
      - static_routes
      - system
      - tunnels
      - vrfs
  available_network_resources:
    description:
      - Also return the names of the resources in I(available_network_resources).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description:
      - Gathering changes nothing.
  diff_mode:
    support: none
    description:
      - Nothing changes, so there is no difference to show.
  facts:
    support: full
    description:
      - Returns the facts in I(ansible_facts).
  platform:
    support: full
    platforms: flyos
    description:
      - FlyOS agent over NETCONF.
notes:
  - Needs C(ansible_connection=ansible.netcommon.netconf) and
    C(ansible_network_os=flyos.agent.flyos).
"""

EXAMPLES = r"""
- name: Device facts and the running configuration
  flyos.agent.facts:

- name: The static routes and interfaces, as the resource modules see them
  flyos.agent.facts:
    gather_subset: [min]
    gather_network_resources: [static_routes, interfaces]

- name: Everything
  flyos.agent.facts:
    gather_subset: [all]
    gather_network_resources: [all]
"""

RETURN = r"""
ansible_facts:
  description: The facts.
  returned: always
  type: dict
  contains:
    ansible_net_api:
      description: How the facts were read.
      returned: always
      type: str
      sample: netconf
    ansible_net_system:
      description: The network OS.
      returned: always
      type: str
      sample: flyos
    ansible_net_hostname:
      description: The configured host name, if one is set.
      returned: when set
      type: str
      sample: edge1
    ansible_net_gather_subset:
      description: The subsets collected.
      returned: always
      type: list
      elements: str
      sample: [min, config]
    ansible_net_modules:
      description: The YANG modules the agent implements (name, revision).
      returned: always
      type: list
      elements: str
      sample: [flyos-routing@2026-11-26]
    ansible_net_config:
      description: The running configuration, one key per top-level container,
        in the structure of the resource modules' options.
      returned: when the config subset is collected
      type: dict
      sample:
        routing:
          static:
            - prefix: 10.0.0.0/24
              via: 192.0.2.1
    ansible_net_state:
      description: The configuration with the operational state (C(get)), in the
        same structure.
      returned: when the state subset is collected
      type: dict
    ansible_net_gather_network_resources:
      description: The resources collected.
      returned: when I(gather_network_resources) is given
      type: list
      elements: str
    ansible_network_resources:
      description: The configuration of each resource collected.
      returned: when I(gather_network_resources) is given
      type: dict
      sample:
        static_routes:
          - prefix: 10.0.0.0/24
            via: 192.0.2.1
available_network_resources:
  description: The resources I(gather_network_resources) takes.
  returned: when I(available_network_resources) is true
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.facts import (
    FACTS_ARGUMENT_SPEC,
    gather_facts,
)
from ansible_collections.flyos.agent.plugins.module_utils.netconf import Device, DeviceError
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import XmlDataError


def main():
    """Run the module."""
    module = AnsibleModule(argument_spec=FACTS_ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = gather_facts(Device(module), module.params)
    except (DeviceError, XmlDataError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
