#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.interfaces resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: interfaces
short_description: Manage the network interfaces of FlyOS agent
description:
  - Manages the interfaces of a FlyOS agent (C(/flyos-interfaces:interfaces/interface)) -
    physical ports, veth pairs, dummies, bridges, VLANs, loopbacks and tunnel
    devices, their MTU, MAC address, bridge and VRF membership and their IPv4
    and IPv6 addresses.
  - Tunnel parameters are managed by M(flyos.agent.tunnels); VRFs by M(flyos.agent.vrfs).
  - The options follow the YANG model C(flyos-interfaces) node for node (C(-) in a
    YANG name is C(_) here).
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The interfaces, one entry per interface name.
    type: list
    elements: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      name:
        description:
          - The Linux device name of the interface.
          - The key of the entry.
        type: str
        required: true
      type:
        description:
          - The kind of the interface.
          - Mandatory when the entry is created.
        type: str
        choices:
          - ethernet
          - veth
          - dummy
          - bridge
          - vlan
          - loopback
          - gre
          - ipip
          - vxlan
          - wireguard
      enabled:
        description:
          - Whether the interface is administratively up.
          - The agent's default is C(true).
        type: bool
      mtu:
        description:
          - The maximum transmission unit. If not set, the kernel default
            of the device is kept.
          - Range C(68..65535).
          - In octets.
        type: int
      mac:
        description:
          - The MAC address of the interface. If not set, the kernel
            or hardware address is kept.
        type: str
      description:
        description:
          - Free text describing the interface (the Linux interface
            alias).
        type: str
      vlan:
        description:
          - VLAN parameters.
          - Only when C(../type = 'vlan').
        type: dict
        suboptions:
          parent:
            description:
              - The interface the VLAN runs on.
              - Mandatory when the entry is created.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
          id:
            description:
              - The VLAN id (802.1Q tag).
              - Mandatory when the entry is created.
              - Range C(1..4094).
            type: int
      veth_peer:
        description:
          - The name of the other end of the veth pair. The peer may
            live in another network namespace, so this is a plain name
            and not a reference.
          - Only when C(../type = 'veth').
        type: str
      bridge:
        description:
          - The bridge this interface is a member (port) of.
          - Refers to C(/flyos-interfaces:interfaces/interface/name).
        type: str
      vrf:
        description:
          - The VRF this interface belongs to. If not set, the interface
            is in the default VRF (main table).
          - Refers to C(/flyos-vrf:vrfs/vrf/name).
        type: str
      ipv4:
        description:
          - IPv4 parameters.
        type: dict
        suboptions:
          address:
            description:
              - An IPv4 address on the interface.
            type: list
            elements: dict
            suboptions:
              ip:
                description:
                  - The IPv4 address.
                  - The key of the entry.
                type: str
                required: true
              prefix_length:
                description:
                  - The length of the subnet prefix.
                  - Mandatory when the entry is created.
                  - Range C(0..32).
                type: int
      ipv6:
        description:
          - IPv6 parameters.
        type: dict
        suboptions:
          address:
            description:
              - An IPv6 address on the interface.
            type: list
            elements: dict
            suboptions:
              ip:
                description:
                  - The IPv6 address.
                  - The key of the entry.
                type: str
                required: true
              prefix_length:
                description:
                  - The length of the subnet prefix.
                  - Mandatory when the entry is created.
                  - Range C(0..128).
                type: int
      # END GENERATED
"""

EXAMPLES = r"""
- name: Configure two interfaces (others are kept)
  flyos.agent.interfaces:
    config:
      - name: eth0
        type: ethernet
        mtu: 9000
        description: uplink
        ipv4:
          address:
            - ip: 192.0.2.1
              prefix_length: 24
      - name: eth0.100
        type: vlan
        vlan:
          parent: eth0
          id: 100
    state: merged

- name: Replace one interface (what is not given is removed from it)
  flyos.agent.interfaces:
    config:
      - name: eth0
        type: ethernet
        ipv6:
          address:
            - ip: 2001:db8::1
              prefix_length: 64
    state: replaced

- name: Keep exactly these interfaces
  flyos.agent.interfaces:
    config:
      - name: lo
        type: loopback
      - name: eth0
        type: ethernet
    state: overridden

- name: Delete an interface
  flyos.agent.interfaces:
    config:
      - name: eth0.100
    state: deleted

- name: Read the interfaces
  flyos.agent.interfaces:
    state: gathered
  register: interfaces
"""

RETURN = r"""
before:
  description: The interfaces before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample:
    - name: eth0
      type: ethernet
      mtu: 9000
      ipv4:
        address:
          - ip: 192.0.2.1
            prefix_length: 24
after:
  description: The interfaces after the change (in check mode, what they would be).
  returned: when changed
  type: list
  elements: dict
  sample:
    - name: eth0
      type: ethernet
      ipv6:
        address:
          - ip: 2001:db8::1
            prefix_length: 64
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
  description: The running interfaces.
  returned: when I(state=gathered)
  type: list
  elements: dict
  sample:
    - name: eth0
      type: ethernet
      mtu: 9000
      ipv4:
        address:
          - ip: 192.0.2.1
            prefix_length: 24
rendered:
  description: I(config) as the XML of the C(interfaces) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <interfaces xmlns="urn:flyos:yang:flyos-interfaces"><interface><name>eth0</name>
    <type>ethernet</type><mtu>9000</mtu></interface></interfaces>
parsed:
  description: The interfaces in I(running_config).
  returned: when I(state=parsed)
  type: list
  elements: dict
  sample:
    - name: eth0
      type: ethernet
      mtu: 9000
      ipv4:
        address:
          - ip: 192.0.2.1
            prefix_length: 24
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "interfaces"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
