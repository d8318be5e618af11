#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.nat resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: nat
short_description: Manage the NAT rules of FlyOS agent
description:
  - Manages the network address translation rules of a FlyOS agent
    (C(/flyos-nat:nat/rule)) - source NAT, destination NAT (port forwarding) and
    masquerading, one entry per sequence number, evaluated in ascending order.
  - Rules match packets with the same selectors as ACL rules (M(flyos.agent.acls)).
  - The options follow the YANG model C(flyos-nat) node for node (C(-) in a
    YANG name is C(_) here).
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The NAT rules, one entry per sequence number.
    type: list
    elements: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      sequence:
        description:
          - The position of the rule.
          - The key of the entry.
          - Range C(1..4294967295).
        type: int
        required: true
      action:
        description:
          - The kind of translation.
          - Mandatory when the entry is created.
        type: str
        choices:
          - snat
          - dnat
          - masquerade
      description:
        description:
          - Free text describing the rule.
        type: str
      protocol:
        description:
          - 'Match the IP protocol (IPv6: the transport header).'
        type: str
      family:
        description:
          - Match only IPv4 or only IPv6 packets. If not set, the rule
            applies to both (as far as its other selectors allow).
        type: str
        choices:
          - ipv4
          - ipv6
      source:
        description:
          - Match on the source of the packet.
        type: dict
        suboptions:
          prefix:
            description:
              - Match if the address is inside any of these prefixes.
            type: list
            elements: str
          address_set:
            description:
              - Match if the address is in this address set.
              - Refers to C(/flyos-acl:acls/address-set/name).
            type: str
          port:
            description:
              - Match if the port is any of these ports or port ranges.
            type: list
            elements: str
      destination:
        description:
          - Match on the destination of the packet.
        type: dict
        suboptions:
          prefix:
            description:
              - Match if the address is inside any of these prefixes.
            type: list
            elements: str
          address_set:
            description:
              - Match if the address is in this address set.
              - Refers to C(/flyos-acl:acls/address-set/name).
            type: str
          port:
            description:
              - Match if the port is any of these ports or port ranges.
            type: list
            elements: str
      in_interface:
        description:
          - Match the interface the packet came in on.
          - Refers to C(/flyos-interfaces:interfaces/interface/name).
        type: str
      out_interface:
        description:
          - Match the interface the packet goes out on.
          - Refers to C(/flyos-interfaces:interfaces/interface/name).
        type: str
      to_address:
        description:
          - The translated address.
          - Only when C(../action != 'masquerade').
        type: str
      to_port:
        description:
          - The translated port or port range.
        type: str
      counter:
        description:
          - Count packets and bytes that match the rule.
          - The agent's default is C(true).
        type: bool
      log:
        description:
          - Log packets that match the rule.
          - The agent's default is C(false).
        type: bool
      # END GENERATED
"""

EXAMPLES = r"""
- name: Masquerade the LAN and forward a port
  flyos.agent.nat:
    config:
      - sequence: 10
        action: masquerade
        out_interface: eth0
        source:
          prefix:
            - 10.0.0.0/8
      - sequence: 20
        action: dnat
        protocol: tcp
        in_interface: eth0
        destination:
          port:
            - "443"
        to_address: 10.0.0.10
        to_port: "8443"
    state: merged

- name: Keep exactly the masquerade rule
  flyos.agent.nat:
    config:
      - sequence: 10
        action: masquerade
        out_interface: eth0
    state: overridden

- name: Delete every NAT rule
  flyos.agent.nat:
    state: deleted
"""

RETURN = r"""
before:
  description: The NAT rules before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample:
    - sequence: 10
      action: masquerade
      out_interface: eth0
after:
  description: The NAT rules after the change (in check mode, what they would be).
  returned: when changed
  type: list
  elements: dict
  sample:
    - sequence: 10
      action: snat
      out_interface: eth0
      to_address: 203.0.113.1
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
  description: The running NAT rules.
  returned: when I(state=gathered)
  type: list
  elements: dict
  sample:
    - sequence: 10
      action: masquerade
      out_interface: eth0
rendered:
  description: I(config) as the XML of the C(nat) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <nat xmlns="urn:flyos:yang:flyos-nat"><rule><sequence>10</sequence>
    <action>masquerade</action><out-interface>eth0</out-interface></rule></nat>
parsed:
  description: The NAT rules in I(running_config).
  returned: when I(state=parsed)
  type: list
  elements: dict
  sample:
    - sequence: 10
      action: masquerade
      out_interface: eth0
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "nat"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
