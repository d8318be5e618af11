# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The action plugin of every flyos.agent module (meta/runtime.yml routes them here).

It is ansible.netcommon's network action: modules run in the controller's
process (direct execution, no module packaging per task), and for
flyos.agent.config it also templates ``src`` and writes ``backup`` files.
It is named after the config module because an action plugin needs a module
of its name for its documentation.
"""

from __future__ import annotations

from ansible_collections.ansible.netcommon.plugins.action.network import (
    ActionModule as NetworkActionModule,
)

CONFIG_MODULE = "flyos.agent.config"


class ActionModule(NetworkActionModule):
    """ansible.netcommon's network action; a config module for flyos.agent.config."""

    def run(self, tmp=None, task_vars=None):
        action = getattr(self._task, "resolved_action", None) or self._task.action
        self._config_module = action == CONFIG_MODULE
        return super().run(tmp=tmp, task_vars=task_vars)
