"""NACM (RFC 8341) enforcement for the Manager: who is checked, with which rules,
and what a denial does.

`AccessControl` takes the rules from /nacm of running (nacm_rules), keeps a
`Policy` (nacm_policy) per set of NACM groups, filters reads (nacm_read),
checks writes (nacm_write), refuses with access-denied,
writes each denial to the audit log (user, channel, operation, path) and
counts it in the /nacm state counters. It also decides, per subscribed
session, whether and how a notification reaches it (nacm_notify); a dropped
notification is counted, not logged (it is no request of the user's).

Who is checked: every session except the recovery session (RFC 8341 3.2):
the agent's own sessions and every session of a [[user]] in the `admin`
group (root and the IPC group on the local socket are admins), so no NACM
configuration can lock the box out. With enable-nacm false nobody is checked.
A session's NACM groups are the /nacm groups that list its user name plus the
group named after its configured [[user]] group (unless
enable-external-groups is false).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.errors import AccessDenied, InvalidValue
from flyos_agent.runtime.audit import audit_event
from flyos_agent.runtime.nacm_notify import Event, may_receive, readable_content
from flyos_agent.runtime.nacm_policy import Policy
from flyos_agent.runtime.nacm_read import ReadFilter
from flyos_agent.runtime.nacm_rules import FAIL_CLOSED, NacmConfig, parse_config
from flyos_agent.runtime.nacm_write import WriteCheck
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

log = logging.getLogger(__name__)

NACM_ROOT = "nacm"


class AccessControl:
    """The Manager's NACM: rules from running, per-session policies, denials
    refused with access-denied, logged to the audit log and counted."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._state: tuple[object, NacmConfig, dict[frozenset[str], Policy]] = (
            object(),
            NacmConfig(),
            {},
        )
        self._denied = {
            "denied-operations": 0,
            "denied-data-writes": 0,
            "denied-notifications": 0,
        }
        self._count_lock = threading.Lock()

    def policy(self, session: Session, running: Map[str, Any]) -> Policy | None:
        """The policy for `session` under running's /nacm; None when nothing is
        checked (a recovery session, or enable-nacm false)."""
        resolved = self._resolve(session, running)
        return None if resolved is None else resolved[2]

    def _resolve(
        self, session: Session, running: Map[str, Any]
    ) -> tuple[NacmConfig, frozenset[str], Policy] | None:
        """The configuration, NACM groups and policy that apply to `session`; None
        when nothing is checked."""
        if session.recovery:
            return None
        source = running.get(NACM_ROOT)
        cached, config, policies = self._state
        if cached is not source:
            config, policies = self._parse(source), {}
            self._state = (source, config, policies)
        if not config.enabled:
            return None
        groups = config.groups_of(session.user, session.group)
        policy = policies.get(groups)
        if policy is None:
            policy = policies[groups] = Policy(self.schema, config, config.rules_for(groups))
        return config, groups, policy

    def _parse(self, source: Map[str, Any] | None) -> NacmConfig:
        try:
            return parse_config(self.schema, source)
        except InvalidValue as exc:  # only a store written by another schema gets here
            log.error("the NACM configuration of running is unusable (%s); denying all", exc)
            return FAIL_CLOSED

    def check_exec(self, session: Session, running: Map[str, Any], operation: str) -> None:
        """AccessDenied unless `session` may execute protocol operation `operation`."""
        if operation == "close-session":  # always permitted (RFC 8341 3.4.4)
            return
        policy = self.policy(session, running)
        if policy is None or policy.may_exec(operation):
            return
        self._count("denied-operations")
        _log_denial(session, operation=operation)
        raise AccessDenied(f"{_who(session)} may not execute '{operation}'")

    def check_writes(
        self,
        session: Session,
        running: Map[str, Any],
        changes: Callable[[], Iterable[Change]],
        operation: str,
    ) -> None:
        """AccessDenied naming the first node of `changes()` that `session` may not
        create, update or delete (`changes` is only called when a check applies)."""
        policy = self.policy(session, running)
        if policy is None:
            return
        found = WriteCheck(policy).denied(changes())
        if found is None:
            return
        access, path = found
        text = format_path(self.schema, path)
        self._count("denied-data-writes")
        _log_denial(session, operation=operation, access=access, path=text)
        raise AccessDenied(f"{_who(session)} may not write here: {access} denied", path=text)

    def read_view(
        self,
        session: Session,
        running: Map[str, Any],
        tree: Map[str, Any],
        at: InstancePath | None = None,
    ) -> tuple[Map[str, Any], frozenset[str]]:
        """What `session` may read of `tree` (of its subtree `at` only, if given: the
        cost follows what is read), and the top-level names it may not see at all."""
        policy = self.policy(session, running)
        if policy is None:
            return tree, frozenset()
        reader = ReadFilter(policy)
        if at is None:
            return reader.tree(tree)
        value = trees.get(tree, at)
        kept = None if value is None else reader.subtree(at, value)
        view = trees.EMPTY if kept is None else trees.set_at(trees.EMPTY, at, kept, self.schema)
        return view, reader.hidden_roots(view)

    def readable_changes(
        self, session: Session, running: Map[str, Any], changes: Iterable[Change]
    ) -> list[Change]:
        """`changes` as `session` may see them: hidden units left out, hidden
        leaves left out of the others."""
        policy = self.policy(session, running)
        if policy is None:
            return list(changes)
        reader = ReadFilter(policy)
        return [kept for change in changes if (kept := reader.change(change)) is not None]

    def notification_view(
        self, session: Session, running: Map[str, Any], name: str, event: Event
    ) -> Event | None:
        """`event` (notification `name`) as `session` may receive it (RFC 8341 3.4.6):
        unchanged when nothing is hidden, pruned to what it may read, or None (counted
        in denied-notifications) when its name is denied or nothing readable is left."""
        resolved = self._resolve(session, running)
        if resolved is None:
            return event
        config, groups, policy = resolved
        view = None
        if may_receive(config.rules_for(groups), config.read_default, name):
            view = readable_content(policy, name, event)
        if view is None:
            self._count("denied-notifications")
        return view

    def validate(self, changes: Sequence[Change], new: Map[str, Any]) -> None:
        """InvalidValue if a commit that touches /nacm leaves a rule that does not resolve."""
        if any(change.path[0][0] == NACM_ROOT for change in changes):
            parse_config(self.schema, new.get(NACM_ROOT))

    def counters(self) -> dict[str, int]:
        """The /nacm state counters (RFC 8341): denied operations, data writes and
        notifications dropped for a subscription."""
        with self._count_lock:
            return dict(self._denied)

    def _count(self, counter: str) -> None:
        with self._count_lock:
            self._denied[counter] += 1


def _who(session: Session) -> str:
    return f"user '{session.user}' (group {session.group})"


def _log_denial(session: Session, **fields: object) -> None:
    audit_event(
        "access-denied",
        level=logging.WARNING,
        user=session.user,
        channel=session.channel,
        session_id=session.id,
        **fields,
    )
