"""The guardrails an autonomous agent works under, per MCP session.

- Edits go to the session's private candidate: nothing changes running
  until `commit`, and other sessions never see half-made changes.
- `commit` is a confirmed commit unless told otherwise: running reverts by
  itself after the timeout (the agent's `mcp_confirm_timeout`, or the
  call's `timeout`) unless `confirm` follows, so a model that cuts itself
  off is rolled back. Without `persist` the commit is also reverted when the
  MCP session ends; with it, a random persist-id is returned and any session
  may confirm with it later.
- Every commit returns the diff it applied; `dry_run` returns the diff and
  the exact kernel plan without applying anything.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from flyos_agent.northbound.mcp.operations import Operations


class ToolSession:
    """One MCP session: its `Operations` and the state of its confirmed commit.

    Tool calls of one session run one at a time (`lock`).
    """

    def __init__(self, ops: Operations, *, confirm_timeout: int) -> None:
        self.ops = ops
        self.confirm_timeout = confirm_timeout
        self.lock = threading.Lock()
        self._persist_id: str | None = None
        self._deadline = 0.0

    @property
    def pending(self) -> bool:
        """True while this session's own confirmed commit may still be waiting."""
        return time.time() < self._deadline

    def commit(
        self,
        *,
        confirmed: bool = True,
        timeout: int | None = None,
        persist: bool = False,
        comment: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Commit the candidate; see the module docstring for the guardrails."""
        diff = self.ops.compare("running", "candidate")
        if dry_run:
            result = self.ops.commit(dry_run=True)
            plan = result.get("plan", [])
            return {"dry-run": True, "diff": diff, "changes": result["changes"], "plan": plan}
        if not diff and not self.pending:
            self.ops.commit(dry_run=True)  # the Manager (and NACM) still decide who may commit
            return {"changed": False, "diff": [], "message": "nothing to commit"}
        persist_id = self._persist_id if self.pending else None
        if confirmed and persist and persist_id is None:
            persist_id = secrets.token_urlsafe(12)
        result = self.ops.commit(
            confirmed=confirmed,
            timeout=(timeout or self.confirm_timeout) if confirmed else None,
            persist=persist_id if confirmed else None,
            persist_id=self._persist_id if self.pending else None,
            comment=comment,
        )
        result["diff"] = diff
        if not confirmed:
            self._forget()
            return result
        seconds = int(result.get("confirm-timeout", 0))
        self._deadline = time.time() + seconds
        self._persist_id = persist_id
        if persist_id is not None:
            result["persist-id"] = persist_id
        result["next"] = _next_step(seconds, persist_id)
        return result

    def confirm(self, persist_id: str | None) -> dict[str, Any]:
        """Confirm the pending confirmed commit (this session's, or the one `persist_id` names).

        This session forgets its own pending commit either way: after a failure
        there is nothing left for it to confirm (the model keeps the persist-id).
        """
        try:
            return self.ops.confirm(persist_id or (self._persist_id if self.pending else None))
        finally:
            self._forget()

    def cancel(self, persist_id: str | None) -> dict[str, Any]:
        """Revert the pending confirmed commit now."""
        try:
            self.ops.cancel_commit(persist_id or (self._persist_id if self.pending else None))
        finally:
            self._forget()
        return {"cancelled": True, "running": "reverted to the configuration before the commit"}

    def close(self) -> None:
        """End the agent session (an unconfirmed commit without persist reverts)."""
        self.ops.close()

    def _forget(self) -> None:
        self._persist_id = None
        self._deadline = 0.0


def _next_step(seconds: int, persist_id: str | None) -> str:
    where = (
        f"from any session with persist_id '{persist_id}'"
        if persist_id is not None
        else "from this MCP session (ending the session also reverts it)"
    )
    return (
        f"check the result, then call confirm within {seconds} s {where}; "
        "otherwise running reverts to the configuration before this commit"
    )
