# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""What every resource module of flyos.agent shares in its documentation."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """The options, attributes and notes common to the resource modules."""

    DOCUMENTATION = r"""
options:
  running_config:
    description:
      - The configuration to parse with I(state=parsed), as XML the way the
        agent's C(get-config) returns it (a C(<data>) or C(<config>) element,
        or the model's top-level container itself, such as the output of
        I(state=rendered)).
      - Elements the model does not have are an error.
    type: str
  state:
    description:
      - What to do with I(config).
      - C(merged) merges I(config) into the running configuration; options not
        given keep their values.
      - C(replaced) replaces each entry given in I(config) with exactly what is
        given; options not given are removed from those entries. Other entries
        are kept.
      - C(overridden) makes the resource hold exactly I(config); every entry
        not given is removed.
      - C(deleted) removes the entries given in I(config) (only their keys
        matter), or the whole resource when I(config) is not given.
      - C(gathered) returns the running configuration of the resource in the
        structure of I(config), changing nothing.
      - C(rendered) returns I(config) as the XML the agent takes, without
        connecting to it.
      - C(parsed) returns I(running_config) (XML) in the structure of
        I(config), without connecting to it.
    type: str
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
    default: merged
attributes:
  check_mode:
    support: full
    description:
      - The edit goes to the candidate, the agent validates it and plans the
        commit (a dry-run commit), reports the difference, and the candidate
        is discarded. Nothing is committed.
  diff_mode:
    support: full
    description:
      - Returns the resource's configuration before and after the change.
  platform:
    support: full
    platforms: flyos
    description:
      - FlyOS agent over NETCONF.
notes:
  - Needs C(ansible_connection=ansible.netcommon.netconf) and
    C(ansible_network_os=flyos.agent.flyos).
  - The change goes through the candidate datastore under a lock; the agent
    refuses the lock while another session holds uncommitted edits in the
    candidate, and the module then fails without changing anything.
  - Whether anything changed is what the agent's C(compare) RPC reports for
    the candidate against running, so a second run of the same task reports
    no change.
  - Values are checked by the agent against its YANG models; an invalid value
    fails the task with the agent's error and the path of the value.
"""
