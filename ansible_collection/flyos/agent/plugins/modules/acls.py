#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.acls resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: acls
short_description: Manage the ACLs of FlyOS agent
description:
  - Manages the access control lists of a FlyOS agent (C(/flyos-acl:acls)) -
    named address sets, ACLs made of numbered rules, and where they apply
    (interfaces ingress and egress, and the global input, forward and output
    hooks). The agent renders them as nftables chains.
  - I(config) mirrors the C(acls) container. With I(state=replaced) each given
    address set, ACL and interface binding, and the C(global) bindings if
    given, replace theirs; others are kept. With I(state=overridden) the whole
    container becomes I(config). With I(state=deleted) and I(config), the given
    entries (by name) and containers are removed.
  - The options follow the YANG model C(flyos-acl) node for node (C(-) in a
    YANG name is C(_) here).
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The ACL configuration (address sets, ACLs and their bindings).
    type: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      address_set:
        description:
          - A named set of prefixes of one address family, usable in
            rules as source or destination.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The name of the set.
              - The key of the entry.
            type: str
            required: true
          family:
            description:
              - The address family of every prefix in the set.
              - Mandatory when the entry is created.
            type: str
            choices:
              - ipv4
              - ipv6
          prefix:
            description:
              - The prefixes in the set (all of the set's family).
            type: list
            elements: str
          description:
            description:
              - Free text describing the set.
            type: str
      acl:
        description:
          - 'An access control list: rules evaluated in ascending sequence
            order; the first matching rule decides.'
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The name of the ACL.
              - The key of the entry.
            type: str
            required: true
          description:
            description:
              - Free text describing the ACL.
            type: str
          default_action:
            description:
              - What happens to a packet that matches no rule (a final
                catch-all rule). If not set, such a packet leaves the
                ACL and continues (the hook's policy is accept).
            type: str
            choices:
              - accept
              - drop
              - reject
          rule:
            description:
              - A rule of the ACL.
            type: list
            elements: dict
            suboptions:
              sequence:
                description:
                  - The position of the rule; rules are evaluated in
                    ascending order.
                  - The key of the entry.
                  - Range C(1..4294967295).
                type: int
                required: true
              action:
                description:
                  - What to do with a matching packet.
                  - Mandatory when the entry is created.
                type: str
                choices:
                  - accept
                  - drop
                  - reject
              protocol:
                description:
                  - 'Match the IP protocol (IPv6: the transport header).'
                type: str
              family:
                description:
                  - Match only IPv4 or only IPv6 packets. If not set,
                    the rule applies to both (as far as its other selectors
                    allow).
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
                      - Match if the address is inside any of these
                        prefixes.
                    type: list
                    elements: str
                  address_set:
                    description:
                      - Match if the address is in this address set.
                      - Refers to C(/flyos-acl:acls/address-set/name).
                    type: str
                  port:
                    description:
                      - Match if the port is any of these ports or port
                        ranges.
                    type: list
                    elements: str
              destination:
                description:
                  - Match on the destination of the packet.
                type: dict
                suboptions:
                  prefix:
                    description:
                      - Match if the address is inside any of these
                        prefixes.
                    type: list
                    elements: str
                  address_set:
                    description:
                      - Match if the address is in this address set.
                      - Refers to C(/flyos-acl:acls/address-set/name).
                    type: str
                  port:
                    description:
                      - Match if the port is any of these ports or port
                        ranges.
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
              icmp_type:
                description:
                  - Match the ICMP or ICMPv6 type.
                type: int
              ct_state:
                description:
                  - Match if the connection tracking state is any of
                    these.
                type: list
                elements: str
                choices:
                  - new
                  - established
                  - related
                  - invalid
                  - untracked
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
              log_prefix:
                description:
                  - The prefix of the log lines of this rule.
                type: str
              description:
                description:
                  - Free text describing the rule.
                type: str
      interface:
        description:
          - The ACLs applied to packets entering or leaving an interface.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The interface.
              - The key of the entry.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
            required: true
          ingress:
            description:
              - The ACL applied to packets received on the interface.
              - Refers to C(/flyos-acl:acls/acl/name).
            type: str
          egress:
            description:
              - The ACL applied to packets sent out of the interface.
              - Refers to C(/flyos-acl:acls/acl/name).
            type: str
      global:
        description:
          - ACLs applied at the netfilter hooks, to every interface.
        type: dict
        suboptions:
          input:
            description:
              - The ACL for packets addressed to this system.
              - Refers to C(/flyos-acl:acls/acl/name).
            type: str
          forward:
            description:
              - The ACL for packets routed through this system.
              - Refers to C(/flyos-acl:acls/acl/name).
            type: str
          output:
            description:
              - The ACL for packets sent by this system.
              - Refers to C(/flyos-acl:acls/acl/name).
            type: str
      # END GENERATED
"""

EXAMPLES = r"""
- name: A web ACL on eth0 and for the box itself
  flyos.agent.acls:
    config:
      address_set:
        - name: admins
          family: ipv4
          prefix:
            - 192.0.2.0/28
      acl:
        - name: web
          default_action: drop
          rule:
            - sequence: 10
              action: accept
              protocol: tcp
              destination:
                port:
                  - "80"
                  - "443"
            - sequence: 20
              action: accept
              protocol: tcp
              source:
                address_set: admins
              destination:
                port:
                  - "22"
      interface:
        - name: eth0
          ingress: web
      global:
        input: web
    state: merged

- name: Replace one ACL (its other rules go)
  flyos.agent.acls:
    config:
      acl:
        - name: web
          rule:
            - sequence: 10
              action: accept
              protocol: tcp
    state: replaced

- name: Remove an interface binding
  flyos.agent.acls:
    config:
      interface:
        - name: eth0
    state: deleted
"""

RETURN = r"""
before:
  description: The ACL configuration before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: dict
  sample:
    acl:
      - name: web
        rule:
          - sequence: 10
            action: accept
            protocol: tcp
after:
  description: The ACL configuration after the change (in check mode, what they would be).
  returned: when changed
  type: dict
  sample:
    acl:
      - name: web
        default_action: drop
        rule:
          - sequence: 10
            action: accept
            protocol: tcp
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
  description: The running ACL configuration.
  returned: when I(state=gathered)
  type: dict
  sample:
    acl:
      - name: web
        rule:
          - sequence: 10
            action: accept
            protocol: tcp
rendered:
  description: I(config) as the XML of the C(acls) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <acls xmlns="urn:flyos:yang:flyos-acl"><acl><name>web</name><rule><sequence>10</sequence>
    <action>accept</action><protocol>tcp</protocol></rule></acl></acls>
parsed:
  description: The ACL configuration in I(running_config).
  returned: when I(state=parsed)
  type: dict
  sample:
    acl:
      - name: web
        rule:
          - sequence: 10
            action: accept
            protocol: tcp
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "acls"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
