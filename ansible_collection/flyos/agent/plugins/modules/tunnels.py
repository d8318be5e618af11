#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.tunnels resource module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: tunnels
short_description: Manage the tunnels of FlyOS agent
description:
  - Manages the tunnel parameters of a FlyOS agent (C(/flyos-tunnel:tunnels)) -
    GRE, IPIP, VXLAN and WireGuard (with its peers).
  - Every tunnel is also an interface of the matching type (M(flyos.agent.interfaces)),
    which carries its addresses, MTU and VRF; create the interface first (or in
    the same play, before this task).
  - I(config) mirrors the C(tunnels) container, one list per tunnel kind. With
    I(state=replaced) each given tunnel replaces its entry, others are kept;
    with I(state=overridden) the tunnels are exactly I(config).
  - The options follow the YANG model C(flyos-tunnel) node for node (C(-) in a
    YANG name is C(_) here).
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
extends_documentation_fragment:
  - flyos.agent.resource
options:
  config:
    description:
      - The tunnels, one list per kind.
    type: dict
    suboptions:
      # BEGIN GENERATED from YANG by tools/generate.py: do not edit
      gre:
        description:
          - A GRE tunnel.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The tunnel interface.
              - The key of the entry.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
            required: true
          local:
            description:
              - The local (source) address of the outer packets.
            type: str
          remote:
            description:
              - The remote (destination) address of the outer packets.
              - Mandatory when the entry is created.
            type: str
          ttl:
            description:
              - The TTL of the outer packets; 0 copies the inner TTL.
            type: int
          key:
            description:
              - The GRE key, in both directions.
            type: int
          underlay:
            description:
              - Bind the tunnel to this underlay interface.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
      ipip:
        description:
          - An IP-in-IP tunnel (IPv4 over IPv4).
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The tunnel interface.
              - The key of the entry.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
            required: true
          local:
            description:
              - The local (source) address of the outer packets.
            type: str
          remote:
            description:
              - The remote (destination) address of the outer packets.
              - Mandatory when the entry is created.
            type: str
          ttl:
            description:
              - The TTL of the outer packets; 0 copies the inner TTL.
            type: int
          underlay:
            description:
              - Bind the tunnel to this underlay interface.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
      vxlan:
        description:
          - A VXLAN tunnel endpoint. Two VXLAN interfaces cannot use
            the same VNI.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The tunnel interface.
              - The key of the entry.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
            required: true
          vni:
            description:
              - The VXLAN network identifier.
              - Mandatory when the entry is created.
              - Range C(1..16777215).
            type: int
          remote:
            description:
              - The unicast address of the remote VTEP.
            type: str
          group:
            description:
              - The multicast group that floods unknown destinations.
            type: str
          local:
            description:
              - The local (source) address of the outer packets.
            type: str
          port:
            description:
              - The UDP destination port.
              - Range C(0..65535).
              - The agent's default is C(4789).
            type: int
          underlay:
            description:
              - The underlay interface.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
          learning:
            description:
              - Learn remote MAC addresses from received packets.
              - The agent's default is C(true).
            type: bool
          ttl:
            description:
              - The TTL of the outer packets; 0 copies the inner TTL.
            type: int
      wireguard:
        description:
          - A WireGuard interface and its peers.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - The WireGuard interface.
              - The key of the entry.
              - Refers to C(/flyos-interfaces:interfaces/interface/name).
            type: str
            required: true
          private_key:
            description:
              - The private key of the interface. Only the recovery
                session and users an access rule permits may read or
                write it (RFC 8341 default-deny-all).
              - Mandatory when the entry is created.
            type: str
          listen_port:
            description:
              - The UDP port to listen on; if not set, a random port.
              - Range C(0..65535).
            type: int
          fwmark:
            description:
              - The firewall mark of outgoing encrypted packets.
            type: int
          peer:
            description:
              - A WireGuard peer.
            type: list
            elements: dict
            suboptions:
              public_key:
                description:
                  - The public key of the peer.
                  - The key of the entry.
                type: str
                required: true
              preshared_key:
                description:
                  - An optional preshared symmetric key.
                type: str
              endpoint_address:
                description:
                  - The address of the peer; if not set, learned from
                    authenticated packets.
                type: str
              endpoint_port:
                description:
                  - The UDP port of the peer.
                  - Range C(0..65535).
                type: int
              allowed_ips:
                description:
                  - Prefixes the peer may send from and that are routed
                    to it.
                type: list
                elements: str
              persistent_keepalive:
                description:
                  - Send a keepalive every this many seconds; 0 disables.
                  - In seconds.
                type: int
              description:
                description:
                  - Free text describing the peer.
                type: str
      # END GENERATED
"""

EXAMPLES = r"""
- name: The interfaces first
  flyos.agent.interfaces:
    config:
      - name: gre1
        type: gre
      - name: wg0
        type: wireguard

- name: A GRE tunnel and a WireGuard interface with one peer
  flyos.agent.tunnels:
    config:
      gre:
        - name: gre1
          local: 192.0.2.1
          remote: 198.51.100.1
          ttl: 64
      wireguard:
        - name: wg0
          private_key: "{{ wg_private_key }}"
          listen_port: 51820
          peer:
            - public_key: "{{ wg_peer_key }}"
              endpoint_address: 203.0.113.5
              endpoint_port: 51820
              allowed_ips:
                - 10.99.0.0/24
    state: merged

- name: Remove the GRE tunnel
  flyos.agent.tunnels:
    config:
      gre:
        - name: gre1
    state: deleted
"""

RETURN = r"""
before:
  description: The tunnels before the change (running).
  returned: when I(state) is merged, replaced, overridden or deleted
  type: dict
  sample:
    gre:
      - name: gre1
        local: 192.0.2.1
        remote: 198.51.100.1
after:
  description: The tunnels after the change (in check mode, what they would be).
  returned: when changed
  type: dict
  sample:
    gre:
      - name: gre1
        local: 192.0.2.1
        remote: 198.51.100.2
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
  description: The running tunnels.
  returned: when I(state=gathered)
  type: dict
  sample:
    gre:
      - name: gre1
        local: 192.0.2.1
        remote: 198.51.100.1
rendered:
  description: I(config) as the XML of the C(tunnels) container.
  returned: when I(state=rendered)
  type: str
  sample: >-
    <tunnels xmlns="urn:flyos:yang:flyos-tunnel"><gre><name>gre1</name><local>192.0.2.1</local>
    <remote>198.51.100.1</remote></gre></tunnels>
parsed:
  description: The tunnels in I(running_config).
  returned: when I(state=parsed)
  type: dict
  sample:
    gre:
      - name: gre1
        local: 192.0.2.1
        remote: 198.51.100.1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.argspec import resource_module_kwargs
from ansible_collections.flyos.agent.plugins.module_utils.resource import ResourceModule

RESOURCE = "tunnels"


def main():
    """Run the module."""
    module = AnsibleModule(**resource_module_kwargs(RESOURCE))
    module.exit_json(**ResourceModule(module, RESOURCE).run())


if __name__ == "__main__":
    main()
