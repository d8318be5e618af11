"""Read-side verbs of the Manager: get, get-config, compare, history.

What a session may not read (NACM, runtime/nacm.py) is left out before any
filter sees the data, so a filter cannot probe hidden values; a diff is
filtered change by change, so its cost follows the changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import ChangeOp, diff_trees
from flyos_agent.datastore.edit import merge_children
from flyos_agent.datastore.journal import JournalError
from flyos_agent.datastore.paths import format_path, parse_path
from flyos_agent.datastore.store import Datastore
from flyos_agent.datastore.xpath import XPathError, select
from flyos_agent.errors import InvalidValue
from flyos_agent.schema import Kind, SchemaNode

if TYPE_CHECKING:
    from collections.abc import Collection

    from flyos_agent.backends.base import Backend
    from flyos_agent.datastore.journal import Journal
    from flyos_agent.datastore.store import Datastores
    from flyos_agent.runtime.nacm import AccessControl
    from flyos_agent.runtime.sessions import Session
    from flyos_agent.schema import Schema

WITH_DEFAULTS = ("explicit", "trim", "report-all", "report-all-tagged")


class ConfigQueries:
    """Mixed into Manager: everything that reads configuration or history."""

    schema: Schema
    stores: Datastores
    journal: Journal
    backend: Backend
    nacm: AccessControl

    if TYPE_CHECKING:  # provided by Manager

        def _check(self, session: Session, operation: str) -> None: ...

    def get_config(
        self,
        session: Session,
        source: str = "running",
        *,
        path: str | None = None,
        xpath: str | None = None,
        with_defaults: str = "explicit",
    ) -> dict[str, Any]:
        """Configuration of `source` as RFC 7951 JSON, optionally filtered.

        `path` selects one subtree by instance path; `xpath` selects the nodes an
        XPath 1.0 expression returns (with their ancestors and list keys).
        """
        self._check(session, "get-config")
        tree, hidden = self._readable(session, self.source_tree(session, source), path)
        return self._render(self._filter(tree, path, xpath), with_defaults, hidden)

    def get(
        self,
        session: Session,
        *,
        path: str | None = None,
        xpath: str | None = None,
        with_defaults: str = "explicit",
    ) -> dict[str, Any]:
        """Running configuration plus operational state from the backend (and
        the NACM counters)."""
        self._check(session, "get")
        tree = self.stores.running
        state_plain = {**self.backend.state(tree), "ietf-netconf-acm:nacm": self.nacm.counters()}
        state = trees.tree_from_plain(self.schema, state_plain, config_only=False)
        tree = merge_children(self.schema.roots, tree, state)
        tree, hidden = self._readable(session, tree, path)
        return self._render(self._filter(tree, path, xpath), with_defaults, hidden)

    def source_tree(self, session: Session, source: str) -> Map[str, Any]:
        """The tree of a datastore name, or of `rollback:N` / `commit:ID`."""
        kind, _, number = source.partition(":")
        if number:
            if not (number.isascii() and number.isdigit()):
                raise InvalidValue(f"'{source}': expected {kind}:<number>")
            if kind == "commit":
                return self._tree_at(int(number))
            if kind == "rollback":
                return self._tree_at(self._commit_id_back(int(number)))
            raise InvalidValue(f"unknown source '{source}'")
        return self.stores.tree(Datastore.parse(source), session.id)

    def _commit_id_back(self, index: int) -> int:
        """The commit `index` commits back from running (0: before the first commit)."""
        if index < 0:
            raise InvalidValue(f"rollback index {index} is negative")
        history = self.journal.history(index + 1)
        if index >= len(history):
            if index == len(history) and (not history or history[-1].id == 1):
                return 0
            raise InvalidValue(f"rollback {index}: only {len(history)} commits are kept")
        return history[index].id

    def _tree_at(self, commit_id: int) -> Map[str, Any]:
        """The config after commit `commit_id`; InvalidValue if it is unknown or pruned."""
        try:
            return self.journal.tree_at(commit_id)
        except JournalError as exc:
            raise InvalidValue(str(exc)) from None

    def compare(
        self, session: Session, source: str = "running", target: str = "candidate"
    ) -> list[dict[str, Any]]:
        """YANG-aware diff from `source` to `target`: one entry per changed unit,
        with the leaves that changed (old and new values); what the session may
        not read is left out."""
        self._check(session, "compare")
        old = self.source_tree(session, source)
        new = self.source_tree(session, target)
        changes = diff_trees(self.schema, old, new)
        out = []
        for change in self.nacm.readable_changes(session, self.stores.running, changes):
            item: dict[str, Any] = {
                "operation": change.op.value,
                "target": format_path(self.schema, change.path),
            }
            if change.op is ChangeOp.CREATE:
                item["value"] = _local_plain(change.node, change.new)
            elif change.op is ChangeOp.MODIFY:
                item["leaves"] = _leaf_changes(change.node, change.old, change.new)
                if not item["leaves"]:
                    continue  # only what the session may not read changed
            out.append(item)
        return out

    def history(self, session: Session, limit: int | None = None) -> list[dict[str, Any]]:
        """Commit history, newest first, with the rollback index of each commit."""
        self._check(session, "history")
        return [
            {
                "rollback": index,
                "commit-id": record.id,
                "time": record.time,
                "user": record.user,
                "channel": record.channel,
                "comment": record.comment,
                "changes": record.changes,
            }
            for index, record in enumerate(self.journal.history(limit))
        ]

    # ------------------------------------------------------------------ helpers

    def _readable(
        self, session: Session, tree: Map[str, Any], path: str | None = None
    ) -> tuple[Map[str, Any], frozenset[str]]:
        """What `session` may read of `tree` (of the subtree at `path` only, if
        given), and the top-level names hidden from it."""
        at = parse_path(self.schema, path) if path else None
        return self.nacm.read_view(session, self.stores.running, tree, at)

    def _filter(self, tree: Map[str, Any], path: str | None, xpath: str | None) -> Map[str, Any]:
        if path:
            instance = parse_path(self.schema, path)
            value = trees.get(tree, instance)
            if value is None:
                return trees.EMPTY
            return trees.set_at(trees.EMPTY, instance, value, self.schema)
        if xpath:
            try:
                selected = select(self.schema, tree, xpath)
            except XPathError as exc:
                raise InvalidValue(f"bad XPath filter '{xpath}': {exc}") from None
            result: Map[str, Any] = trees.EMPTY
            for instance in selected:
                value = trees.get(tree, instance)
                if value is not None:
                    result = trees.set_at(result, instance, value, self.schema)
            return result
        return tree

    def _render(
        self, tree: Map[str, Any], with_defaults: str, hidden: Collection[str] = ()
    ) -> dict[str, Any]:
        """RFC 7951 JSON of `tree`; `hidden` top-level containers are left out even
        where report-all would show their defaults."""
        if with_defaults not in WITH_DEFAULTS:
            raise InvalidValue(f"with-defaults must be one of {', '.join(WITH_DEFAULTS)}")
        mode = "report-all" if with_defaults == "report-all-tagged" else with_defaults
        plain = trees.tree_to_plain(self.schema, tree, defaults=mode)
        for name in hidden:
            plain.pop(f"{self.schema.roots[name].module}:{name}", None)
        return plain


def _local_plain(node: SchemaNode, value: Map[str, Any] | None) -> dict[str, Any]:
    assert value is not None
    local = Map({k: v for k, v in value.items() if node.children[k].kind is not Kind.LIST})
    return trees.entry_to_plain(node, local)


def _leaf_changes(
    node: SchemaNode, old: Map[str, Any] | None, new: Map[str, Any] | None
) -> dict[str, Any]:
    before = _local_plain(node, old) if old is not None else {}
    after = _local_plain(node, new) if new is not None else {}
    return {
        name: {"old": before.get(name), "new": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
