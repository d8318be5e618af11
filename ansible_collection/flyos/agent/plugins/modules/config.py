#!/usr/bin/python
# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The flyos.agent.config module."""

from __future__ import annotations

DOCUMENTATION = r"""
module: config
short_description: Load DSL or XML configuration into FlyOS agent and commit it
description:
  - Loads configuration into the candidate datastore of a FlyOS agent and
    commits it in one transaction. It takes FlyOS DSL statements (the language of the
    agent's C(flyos) REPL, for example C(route add static { prefix 10.0.0.0/24; via 192.0.2.1 })),
    or XML of the agent's YANG models.
  - Each DSL statement becomes one NETCONF C(edit-config) of the candidate, in
    order, with the operation its verb means (C(add) create, C(set) replace,
    C(delete) delete, C(sync) replace the whole module); XML is one
    C(edit-config).
  - Commits can be confirmed (I(confirm)), carry a comment (I(comment)),
    or load an earlier configuration (I(rollback)).
  - Whether anything changed is what the agent's C(compare) RPC reports for
    the candidate against running; when nothing changes the candidate is
    discarded and nothing is committed.
version_added: 1.0.0
author:
  - FlyOS agent maintainers (@flyos)
options:
  lines:
    description:
      - DSL statements, in order. A statement may span several list items
        (they are joined with new lines), so a block can be written one line
        at a time.
      - Only configuration statements (C(<module> add|set|delete|sync ...));
        commit, rollback and confirmation are this module's options.
    type: list
    elements: str
    aliases: [commands]
  src:
    description:
      - A file with DSL statements or XML, templated like M(ansible.builtin.template)
        (a relative path is looked up in C(templates/) first).
      - XML may be a C(<config>) or C(<data>) element or the models'
        top-level containers themselves (C(<routing xmlns="urn:flyos:yang:flyos-routing">)).
        C(nc:operation) attributes are passed on.
    type: str
  src_format:
    description:
      - The format of I(lines) or I(src). By default XML if the text starts
        with C(<), else DSL.
    type: str
    choices: [dsl, xml]
  update:
    description:
      - For XML, C(merge) merges it into the candidate; C(replace) replaces
        each top-level container given with exactly what is given.
      - DSL statements say this themselves with their verb.
    type: str
    choices: [merge, replace]
    default: merge
  confirm:
    description:
      - Make a confirmed commit that the agent reverts after this many minutes
        unless it is confirmed (with I(confirm_commit), or any later commit).
      - Without I(persist_id), the agent also reverts it when the NETCONF
        session of the play ends; with one, it survives the session and can
        be confirmed from another play.
    type: int
  confirm_timeout:
    description:
      - Like I(confirm), in seconds.
    type: int
  persist_id:
    description:
      - With I(confirm) or I(confirm_timeout), makes the confirmed commit
        persistent under this token (RFC 6241 C(persist)), so it survives the end
        of the session and is confirmed by a commit that gives the token.
      - With I(confirm_commit), the token of the commit to confirm.
    type: str
  confirm_commit:
    description:
      - Confirm the pending confirmed commit, by I(persist_id) if it is a
        persistent one. Reports C(changed).
      - Not together with I(lines), I(src) or I(rollback) (their commit
        confirms a pending one anyway).
    type: bool
    default: false
  comment:
    description:
      - A comment for the commit history (C(show history)). The NETCONF
        C(commit) of the agent does not take one yet; the module then commits
        without it and warns.
    type: str
  rollback:
    description:
      - Load the configuration of this many commits ago (C(0) is running) into
        the candidate and commit it. I(lines) or I(src) given as well are
        applied on top of it.
    type: int
  backup:
    description:
      - Save the running configuration before the change to a file on the
        controller, in the C(backup) folder beside the playbook unless
        I(backup_options) says otherwise. Its path is returned in I(backup_path).
    type: bool
    default: false
  backup_options:
    description:
      - Where and how to save the backup.
    type: dict
    suboptions:
      filename:
        description:
          - The file name; by default C(<inventory_hostname>_config.<date>@<time>).
        type: str
      dir_path:
        description:
          - The folder; created if missing.
        type: path
      format:
        description:
          - C(dsl) (replayable with I(src)) or C(xml).
        type: str
        choices: [dsl, xml]
        default: dsl
attributes:
  check_mode:
    support: full
    description:
      - The configuration goes to the candidate, the agent validates it and
        plans the commit (a dry-run commit), reports the changes, and the
        candidate is discarded. Nothing is committed.
  diff_mode:
    support: full
    description:
      - Returns the whole configuration before and after, as DSL.
  platform:
    support: full
    platforms: flyos
    description:
      - FlyOS agent over NETCONF.
notes:
  - Needs C(ansible_connection=ansible.netcommon.netconf) and
    C(ansible_network_os=flyos.agent.flyos).
  - The change goes through the candidate under a lock; the agent refuses the
    lock while another session holds uncommitted edits in the candidate.
  - A statement that fails (an entry that exists for C(add), a value the model
    refuses) fails the task and discards the candidate; nothing is committed.
"""

EXAMPLES = r"""
- name: Two routes and a host name, in the REPL's language
  flyos.agent.config:
    lines:
      - route set static { prefix 10.0.0.0/24; via 192.0.2.1 }
      - route set static { prefix 10.1.0.0/24; via 192.0.2.1; metric 20 }
      - system set { hostname edge1 }
    comment: routes for site 4

- name: A whole module from a template, replacing what is there
  flyos.agent.config:
    src: acl.flyos.j2

- name: XML, replacing the routing container
  flyos.agent.config:
    src: routing.xml
    update: replace

- name: Risky change, reverted in 2 minutes unless confirmed
  flyos.agent.config:
    lines:
      - acl set global { input mgmt }
    confirm: 2
    persist_id: "{{ inventory_hostname }}-acl"

- name: Still reachable, so keep it
  flyos.agent.config:
    confirm_commit: true
    persist_id: "{{ inventory_hostname }}-acl"

- name: Back to the configuration before the last commit
  flyos.agent.config:
    rollback: 1

- name: Save the running configuration as DSL
  flyos.agent.config:
    backup: true
    backup_options:
      dir_path: backups
"""

RETURN = r"""
commands:
  description: The edit-config C(<config>) of each edit, in order.
  returned: always
  type: list
  elements: str
  sample:
    - >-
      <nc:config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><routing
      xmlns="urn:flyos:yang:flyos-routing"><static
      nc:operation="replace"><prefix>10.0.0.0/24</prefix>
      <via>192.0.2.1</via></static></routing></nc:config>
changes:
  description: What the agent's C(compare) RPC reported for the candidate against running.
  returned: when the candidate was edited
  type: list
  elements: dict
  sample:
    - operation: create
      target: /flyos-routing:routing/static[prefix='10.0.0.0/24']
      value:
        prefix: 10.0.0.0/24
        via: 192.0.2.1
backup_path:
  description: The file the backup was written to.
  returned: when I(backup) is true
  type: str
  sample: /playbooks/backup/edge1_config.2026-11-26@12:00:00
filename:
  description: The name of the backup file.
  returned: when I(backup) is true and I(backup_options.filename) is not given
  type: str
  sample: edge1_config.2026-11-26@12:00:00
shortname:
  description: The backup path without its extension.
  returned: when I(backup) is true and I(backup_options.filename) is not given
  type: str
  sample: /playbooks/backup/edge1_config.2026-11-26@12:00:00
date:
  description: The date of the backup.
  returned: when I(backup) is true
  type: str
  sample: "2026-11-26"
time:
  description: The time of the backup.
  returned: when I(backup) is true
  type: str
  sample: "12:00:00"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.flyos.agent.plugins.module_utils.config import ConfigModule

ARGUMENT_SPEC = {
    "lines": {"type": "list", "elements": "str", "aliases": ["commands"]},
    "src": {"type": "str"},
    "src_format": {"type": "str", "choices": ["dsl", "xml"]},
    "update": {"type": "str", "choices": ["merge", "replace"], "default": "merge"},
    "confirm": {"type": "int"},
    "confirm_timeout": {"type": "int"},
    "persist_id": {"type": "str", "no_log": False},
    "confirm_commit": {"type": "bool", "default": False},
    "comment": {"type": "str"},
    "rollback": {"type": "int"},
    "backup": {"type": "bool", "default": False},
    "backup_options": {
        "type": "dict",
        "options": {
            "filename": {"type": "str"},
            "dir_path": {"type": "path"},
            "format": {"type": "str", "choices": ["dsl", "xml"], "default": "dsl"},
        },
    },
}


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("lines", "src"), ("confirm", "confirm_timeout")],
        supports_check_mode=True,
    )
    module.exit_json(**ConfigModule(module).run())


if __name__ == "__main__":
    main()
