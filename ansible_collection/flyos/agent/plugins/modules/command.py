#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.command module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: command
short_description: Run read-only show commands of the FlyOS REPL
description:
  - Runs the read-only C(show) commands of the FlyOS agent's REPL (C(flyos))
    and returns their output as the REPL prints it.
  - NETCONF carries no REPL, so each command is answered with the NETCONF
    operations that hold the same information, and formatted here;
    C(show running|candidate|startup [MODULE] [| dsl|set|json|xml]) with
    C(get-config) (DSL by default, like the REPL),
    C(show compare) with two C(get-config) (a unified diff of the DSL
    renderings of running and candidate),
    C(show compare rollback N) with the agent's C(compare) RPC (one line per
    changed unit, as the REPL cannot be reached to render that configuration),
    C(show history) with the C(history) RPC,
    C(show state [MODULE] [| json]) with C(get) (one table per list with
    state, or RFC 7951 JSON), and C(show sessions) with the
    C(ietf-netconf-monitoring) sessions.
  - Any other command fails the task; nothing here changes the agent.
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
options:
  commands:
    description:
      - The commands to run, in order. Each output is one item of I(stdout).
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description:
      - The commands only read, so they run in check mode too.
  diff_mode:
    support: none
    description:
      - Nothing changes, so there is no difference to show.
  platform:
    support: full
    platforms: flyos
    description:
      - FlyOS agent over NETCONF.
notes:
  - Needs C(ansible_connection=ansible.netcommon.netconf) and
    C(ansible_network_os=flyos.agent.flyos).
  - Module names are those of the REPL (C(route), C(nic), C(acl), C(nat),
    C(tunnel), C(vrf), C(system), or the containers' own names).
"""

EXAMPLES = r"""
- name: The routes as DSL and the commit history
  flyos.agent.command:
    commands:
      - show running route
      - show history
  register: shown

- name: Print the routes
  ansible.builtin.debug:
    var: shown.stdout_lines[0]

- name: The whole configuration as RFC 7951 JSON
  flyos.agent.command:
    commands:
      - show running | json
  register: running

- name: Use it as data
  ansible.builtin.set_fact:
    config: "{{ running.stdout[0] | from_json }}"
"""

RETURN = r"""
stdout:
  description: The output of each command.
  returned: always
  type: list
  elements: str
  sample:
    - "route sync { static { prefix 10.0.0.0/24; via 192.0.2.1 } }"
stdout_lines:
  description: The output of each command, split into lines.
  returned: always
  type: list
  elements: list
  sample:
    - - "route sync { static { prefix 10.0.0.0/24; via 192.0.2.1 } }"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.netconf import Device, DeviceError
from ansible_collections.flyos.agent.plugins.module_utils.show import CommandError, run_show
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import XmlDataError


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec={"commands": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    try:
        device = Device(module)
        stdout = [run_show(device, command) for command in module.params["commands"]]
    except (CommandError, DeviceError, XmlDataError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(
        changed=False, stdout=stdout, stdout_lines=[text.splitlines() for text in stdout]
    )


if __name__ == "__main__":
    main()
