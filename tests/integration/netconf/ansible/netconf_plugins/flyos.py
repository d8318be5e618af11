"""A minimal netconf plugin for the tests: ansible.netcommon's default, one fix.

ansible.netcommon hands netconf_config's `confirm` to ncclient as an int, and
ncclient 0.7 puts it into an lxml text node, which takes only strings: a
confirmed commit fails in the client before it is sent. This plugin passes it
as text. (The flyos.agent collection will ship its own plugin.)
"""

from ansible_collections.ansible.netcommon.plugins.netconf.default import Netconf as Default

DOCUMENTATION = """
name: flyos
short_description: ansible.netcommon's default netconf plugin for FlyOS agent
description:
- The default plugin, with the confirm timeout sent as text.
options:
  ncclient_device_handler:
    type: str
    default: default
    description:
    - The ncclient device handler name.
"""


class Netconf(Default):
    """The default plugin with a commit that ncclient 0.7 can serialise."""

    def commit(self, confirmed=False, timeout=None, persist=None):
        """Commit; `timeout` as text."""
        return super().commit(
            confirmed=confirmed, timeout=None if timeout is None else str(timeout), persist=persist
        )
