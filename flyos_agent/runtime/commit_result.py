"""What a commit reports back: CommitResult and the bounded change summary."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import format_path
from flyos_agent.schema import Schema


@dataclass(frozen=True)
class CommitResult:
    """What a commit did: the new commit id (None if nothing changed) and the changes."""

    commit_id: int | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    plan: list[dict[str, Any]] | None = None
    confirm_deadline: float | None = None

    @property
    def changed(self) -> bool:
        """True if running changed."""
        return self.commit_id is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for channels."""
        out: dict[str, Any] = {"changed": self.changed, "commit-id": self.commit_id}
        out["changes"] = self.changes
        if self.plan is not None:
            out["plan"] = self.plan
        if self.confirm_deadline is not None:
            out["confirm-timeout"] = max(0, round(self.confirm_deadline - time.time()))
        return out


SUMMARY_LIMIT = 1000


def change_summary(schema: Schema, changes: Sequence[Change]) -> list[dict[str, Any]]:
    """JSON-ready list of {operation, target} for notifications and replies.

    At most SUMMARY_LIMIT entries; a last entry counts the ones left out, so a
    100k-route commit answers in a moment (`compare` gives the whole diff).
    """
    summary: list[dict[str, Any]] = [
        {"operation": c.op.value, "target": format_path(schema, c.path)}
        for c in changes[:SUMMARY_LIMIT]
    ]
    if len(changes) > SUMMARY_LIMIT:
        summary.append({"operation": "more", "count": len(changes) - SUMMARY_LIMIT})
    return summary
