"""NACM for notifications (RFC 8341 3.4.6): whether a session receives an event,
and what of it.

By name: the first rule (of the session's rule-lists, in order) with `read` in
its access-operations, module-name `*` or the notification's module, and no
rule type or a notification-name of `*` or the notification's name decides;
with none, read-default. Rules of the other types never match.

By content: the data nodes an event names must be readable (RFC 8341 3.4.5,
the session's Policy), and what is not is left out:

- netconf-config-change (RFC 6470): an edit whose target may not be read is
  left out, and so is the count of changes past the summary limit (it cannot
  tell readable changes from others).
- drift-change carries what /flyos-agent-ops:drift holds: it needs read access
  to /drift/in-sync, each object is the entry /drift/object[kind][name] (left
  out if hidden), and a hidden leaf of an entry is left out of the object.

An event left with nothing to tell is dropped. An event of a name this module
knows no content of reaches restricted sessions not at all (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from flyos_agent.datastore.paths import InstancePath, parse_path
from flyos_agent.errors import FlyosError
from flyos_agent.runtime.commit_result import SUMMARY_LIMIT
from flyos_agent.runtime.nacm_policy import Policy
from flyos_agent.runtime.nacm_rules import AGENT_OPS, Rule, RuleType
from flyos_agent.schema import Schema

Event = dict[str, Any]

CONFIG_CHANGE = "netconf-config-change"
DRIFT_CHANGE = "drift-change"
# Notification name -> the module that defines it.
MODULES: Mapping[str, str] = {
    CONFIG_CHANGE: "ietf-netconf-notifications",
    DRIFT_CHANGE: AGENT_OPS,
}
READ = "read"
DRIFT_STATE: InstancePath = (("drift", None),)
DRIFT_KEYS = ("kind", "name")
PARSED_PATHS = 2 * SUMMARY_LIMIT  # the targets of a commit or two


def may_receive(rules: Iterable[Rule], read_default: bool, name: str) -> bool:
    """True if `rules` (in evaluation order) let a session receive notification `name`."""
    module = MODULES.get(name)
    for rule in rules:
        if READ not in rule.access or rule.module not in ("*", module):
            continue
        if rule.type is RuleType.ANY or (
            rule.type is RuleType.NOTIFICATION and rule.notification in ("*", name)
        ):
            return rule.permit
    return read_default


def readable_content(policy: Policy, name: str, event: Event) -> Event | None:
    """What of `event` (notification `name`) `policy` lets its session read: `event`
    itself when nothing is hidden, None when nothing is left to tell."""
    content = CONTENT.get(name)
    return None if content is None else content(_Reader(policy), event)


class _Reader:
    """Read decisions of one Policy on the instance paths an event names."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.schema = policy.schema

    def node(self, path: InstancePath) -> bool:
        """True if the node at `path` may be read: it, and every list entry and
        presence container above it (the rest above is structure)."""
        node = None
        for depth, (name, key) in enumerate(path, 1):
            node = self.schema.roots.get(name) if node is None else node.child(name)
            if node is None:
                return False
            own = depth == len(path) or key is not None or node.presence
            if own and not self.policy.allowed(READ, path[:depth], node):
                return False
        return True

    def target(self, text: str) -> bool:
        """True if the instance path `text` (as change summaries format it) may be read."""
        path = _parsed(self.schema, text)
        return path is not None and self.node(path)

    def drifted(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """A drift object without its hidden leaves; None if its entry is hidden."""
        entry = (*DRIFT_STATE, ("object", tuple(str(item.get(k)) for k in DRIFT_KEYS)))
        if not self.node(entry):
            return None
        kept = {
            leaf: value
            for leaf, value in item.items()
            if leaf in DRIFT_KEYS or self.node((*entry, (leaf, None)))
        }
        return item if len(kept) == len(item) else kept


@lru_cache(maxsize=PARSED_PATHS)
def _parsed(schema: Schema, text: str) -> InstancePath | None:
    """`text` as an instance path (None: not a node of `schema`); cached, as every
    restricted subscriber checks the same targets of one commit."""
    try:
        path = parse_path(schema, text)
    except FlyosError:
        return None
    return path or None


def _config_change(reader: _Reader, event: Event) -> Event | None:
    edits = event.get("changes", [])
    kept = [item for item in edits if "target" in item and reader.target(str(item["target"]))]
    if not kept:
        return None
    return event if len(kept) == len(edits) else {**event, "changes": kept}


def _drift_change(reader: _Reader, event: Event) -> Event | None:
    if not reader.node((*DRIFT_STATE, ("in-sync", None))):
        return None
    objects = event.get("object", [])
    kept = [seen for item in objects if (seen := reader.drifted(item)) is not None]
    if objects and not kept:
        return None
    unchanged = len(kept) == len(objects) and all(
        a is b for a, b in zip(kept, objects, strict=True)
    )
    return event if unchanged else {**event, "object": kept}


CONTENT: Mapping[str, Callable[[_Reader, Event], Event | None]] = {
    CONFIG_CHANGE: _config_change,
    DRIFT_CHANGE: _drift_change,
}
