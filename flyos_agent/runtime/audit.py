"""The audit log: one structured line per security-relevant event.

Every line goes to the `flyos.audit` logger. Its message reads
`<event> key=value ...`; the same keys ride on the record as `record.audit`
(event included), so the daemon writes each line as one JSON object whose
members are those keys. Events: session-open, session-close, auth-failure,
access-denied, commit, rollback, confirmed-commit, confirmed-commit-confirmed,
confirmed-commit-reverted, reconcile. Each names the user and the channel;
commit events name the commit id (`id`).
"""

from __future__ import annotations

import logging

AUDIT_LOGGER = "flyos.audit"
audit_log = logging.getLogger(AUDIT_LOGGER)


def audit_event(event: str, *, level: int = logging.INFO, **fields: object) -> None:
    """Log `event` with `fields` (None values left out; `_` in a key becomes `-`)."""
    members = {key.replace("_", "-"): value for key, value in fields.items() if value is not None}
    message = " ".join([event, *(f"{key}={value}" for key, value in members.items())])
    audit_log.log(level, "%s", message, extra={"audit": {"event": event, **members}})


def auth_failed(user: str | None, channel: str, peer: str | None, reason: str) -> None:
    """A failed authentication on `channel` from `peer` (who claimed to be `user`)."""
    audit_event(
        "auth-failure",
        level=logging.WARNING,
        user=user or "-",
        channel=channel,
        peer=peer or "-",
        reason=reason,
    )
