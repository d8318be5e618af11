# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The modules' side of the NETCONF plugin: a FlyOS device and its transactions.

Every configuration change follows one path (``Transaction``): lock the
candidate (the agent refuses the lock while another session has uncommitted
edits in it), apply the edits to the candidate, ask the agent what changed
(the ``compare`` RPC, running -> candidate), then

- nothing changed: discard, ``changed`` is false (no text compare of XML);
- check mode: validate and plan the commit (dry-run), discard;
- otherwise: commit (confirmed, with a comment, if asked).

On any failure the candidate is discarded, and the lock is always released.
"""

from __future__ import annotations

import contextlib
import json

from ansible.module_utils.connection import Connection, ConnectionError  # pylint: disable=redefined-builtin
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import decode_roots, parse

NETWORK_OS = "flyos"


class DeviceError(Exception):
    """A NETCONF operation failed; the message is the agent's error, one line per rpc-error."""


class Device:
    """A FlyOS agent over the persistent NETCONF connection of a module."""

    def __init__(self, module) -> None:
        if not module._socket_path:  # pylint: disable=protected-access
            raise DeviceError(
                "this module needs ansible_connection=ansible.netcommon.netconf "
                "and ansible_network_os=flyos.agent.flyos"
            )
        self.connection = Connection(module._socket_path)  # pylint: disable=protected-access
        self.capabilities = json.loads(self.call("get_capabilities"))
        network_os = self.capabilities.get("device_info", {}).get("network_os")
        if network_os != NETWORK_OS:
            raise DeviceError(
                f"ansible_network_os is '{network_os}': set ansible_network_os=flyos.agent.flyos "
                "for FlyOS agent"
            )

    def call(self, name: str, *args, **kwargs):
        """Call an operation of the NETCONF plugin; DeviceError with the agent's message."""
        try:
            return getattr(self.connection, name)(*args, **kwargs)
        except ConnectionError as exc:
            raise DeviceError(str(exc).strip()) from None

    # ------------------------------------------------------------------ reads

    def get_config(self, source: str, subtree: str | None = None):
        """The <data> element of get-config of ``source``, optionally subtree-filtered."""
        reply = self.call(
            "get_config", source=source, filter=("subtree", subtree) if subtree else None
        )
        return parse(reply)

    def get(self, subtree: str | None = None):
        """The <data> element of get (configuration and state)."""
        reply = self.call("get", filter=("subtree", subtree) if subtree else None)
        return parse(reply)

    def read(self, source: str, subtree: str | None = None, *, state: bool = False) -> dict:
        """{root option name: dict} of our models in ``source`` (get when ``state``)."""
        data = self.get(subtree) if state else self.get_config(source, subtree)
        return decode_roots(data, state=state)

    # ------------------------------------------------------------------ candidate

    def edit(self, config: str, default_operation: str | None = None) -> None:
        """edit-config of the candidate with a ``<config>`` text."""
        self.call(
            "edit_config", config=config, target="candidate", default_operation=default_operation
        )

    def compare(self, source: str = "running", target: str = "candidate") -> list:
        return self.call("compare", source=source, target=target)


class Transaction:
    """One locked change of the candidate: ``with Transaction(device) as txn: txn.edit(...)``,
    then ``txn.finish(...)`` commits, checks or discards."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.changes: list = []
        self.comment_recorded = None
        self._locked = False

    def __enter__(self) -> Transaction:
        self.device.call("lock", target="candidate")
        self._locked = True
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if exc_type is not None:
                self._discard_quietly()
        finally:
            if self._locked:
                self._locked = False
                try:
                    self.device.call("unlock", target="candidate")
                except DeviceError:
                    if exc_type is None:
                        raise

    def _discard_quietly(self) -> None:
        with contextlib.suppress(DeviceError):
            self.device.call("discard_changes")

    def edit(self, config: str, default_operation: str | None = None) -> None:
        self.device.edit(config, default_operation)

    def pending(self) -> list:
        """What the candidate would change in running (the agent's compare)."""
        self.changes = self.device.compare()
        return self.changes

    def finish(
        self,
        *,
        check_mode: bool,
        confirm_timeout: int | None = None,
        persist_id: str | None = None,
        comment: str | None = None,
    ) -> bool:
        """Commit what the edits changed; True if anything changed.

        Nothing to change: discard. Check mode: dry-run commit (validation and
        the backends' plan) and discard. A ``confirm_timeout`` (seconds) makes a
        confirmed commit, persistent under ``persist_id`` if one is given.
        """
        if not self.pending():
            self.device.call("discard_changes")
            return False
        if check_mode:
            self.device.call("commit_check")
            self.device.call("discard_changes")
            return True
        result = self.device.call(
            "commit_candidate",
            confirmed=confirm_timeout is not None,
            timeout=confirm_timeout,
            persist=persist_id if confirm_timeout is not None else None,
            comment=comment,
        )
        self.comment_recorded = result.get("comment_recorded")
        return True
