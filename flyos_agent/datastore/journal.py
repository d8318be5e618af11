"""The durable commit journal: running, startup and history in one SQLite file.

A commit appends its change records (see `codec`), never the whole config, in
one SQLite transaction (WAL, synchronous=FULL): when `append` returns the
commit survives kill -9 and power loss, and a crash at any point leaves the
last acknowledged commit loadable. Every `snapshot_every` commits, or once the
changes since the last snapshot exceed `snapshot_units`, a full snapshot is
written, so loading is the latest snapshot plus a replay of later commits.
Snapshots may be taken from a background thread: trees are immutable, so
serialising one off the commit path is safe, and the thread gets its own
SQLite connection (writes stay serialised by a lock). The SQLite file itself
(pragmas, schema version, integrity, transactions) is journal_db's concern.

History keeps at least `keep` commits: older commits are dropped only once a
snapshot at or before the oldest kept commit covers them.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from immutables import Map

from flyos_agent.datastore import journal_db as db
from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.codec import Codec, RecordError, dumps
from flyos_agent.datastore.diff import Change
from flyos_agent.datastore.journal_db import SCHEMA_VERSION, JournalError
from flyos_agent.datastore.paths import format_path
from flyos_agent.schema import Schema

__all__ = ["DB_NAME", "SCHEMA_VERSION", "CommitRecord", "Journal", "JournalError"]

DB_NAME = "flyos.db"
_WAL_CHECKPOINT_BYTES = 64 << 20
_log = logging.getLogger(__name__)

_COMMIT_COLUMNS = "id, time, user, channel, comment, changes, label"


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """Metadata of one commit; `time` is UTC ISO 8601 with milliseconds."""

    id: int
    time: str
    user: str
    channel: str
    comment: str | None
    changes: int
    label: str | None = None


class Journal:
    """Running, startup and commit history, persisted in `<state dir>/flyos.db`.

    `path` is the state directory (created if missing) or, when it ends in
    `.db`, the database file itself. Methods are thread-safe. Raises
    JournalError for a file that is corrupt, not a journal, or newer than
    this code.
    """

    def __init__(
        self,
        path: Path,
        schema: Schema,
        *,
        keep: int = 50,
        snapshot_every: int = 100,
        snapshot_units: int = 200_000,
    ) -> None:
        path = Path(path)
        if path.suffix != ".db":
            try:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise JournalError(f"cannot create state directory {path}: {exc}") from None
            path = path / DB_NAME
        self.path = path
        self.keep = max(1, keep)
        self.snapshot_every = max(1, snapshot_every)
        self.snapshot_units = max(1, snapshot_units)
        self._schema = schema
        self._codec = Codec(schema)
        self._lock = threading.RLock()
        self._owner = threading.get_ident()
        self._background: threading.Thread | None = None
        self._closed = False
        created = not path.exists()
        version = db.inspect_database(path)
        if created:
            os.chmod(path, 0o600)  # the WAL and shm files inherit it; tokens live here
        with db.errors("open"):
            self._conn = db.connect(path)
            try:
                self._initialise(version)
            except BaseException:
                self._conn.close()
                raise
        if created:
            db.fsync_dir(path.parent)

    def _initialise(self, version: str | None) -> None:
        with db.transaction(self._conn):
            if version is None:
                db.create_tables(self._conn)
            self._last = int(db.scalar(self._conn, "SELECT coalesce(max(id), 0) FROM commits"))
            if db.get_meta(self._conn, "schema_digest") != self._schema.digest:
                # records written under another schema are re-validated when replayed
                db.set_meta(self._conn, "trusted_from", str(self._last + 1))
                db.set_meta(self._conn, "schema_digest", self._schema.digest)
            self._trusted_from = int(db.get_meta(self._conn, "trusted_from") or 1)
        self._reload_counters()

    def _write(self, sql: str, *params: Any) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""
        with self._lock, db.errors("write"), db.transaction(self._conn):
            return self._conn.execute(sql, params).rowcount

    def _read(self, sql: str, *params: Any) -> list[Any]:
        with self._lock, db.errors("read"):
            return self._conn.execute(sql, params).fetchall()

    def _reload_counters(self) -> None:
        self._snapshot_id = int(
            db.scalar(self._conn, "SELECT coalesce(max(commit_id), 0) FROM snapshots")
        )
        count, units = self._conn.execute(
            "SELECT count(*), coalesce(sum(changes), 0) FROM commits WHERE id > ?",
            (self._snapshot_id,),
        ).fetchone()
        self._since_commits, self._since_units = int(count), int(units)

    # ---------------------------------------------------------------- commits

    def append(
        self,
        *,
        user: str,
        channel: str,
        comment: str | None,
        changes: Sequence[Change],
        tree: Map[str, Any],
        label: str | None = None,
        snapshot_inline: bool = True,
    ) -> CommitRecord:
        """Persist one commit (its change records) durably and return its metadata.

        `tree` is the running config after the commit. With `snapshot_inline`
        a due snapshot is taken before returning (a snapshot failure is
        logged, not raised: the commit itself is durable); otherwise the
        caller checks `needs_snapshot()` and runs `snapshot()` (or
        `snapshot_in_background()`) itself.
        """
        records = dumps(self._codec.encode_changes(changes))
        with self._lock, db.errors("append"):
            record = CommitRecord(
                self._last + 1, db.utc_timestamp(), user, channel, comment, len(changes), label
            )
            with db.transaction(self._conn):
                self._conn.execute(
                    f"INSERT INTO commits({_COMMIT_COLUMNS}, records) VALUES (?,?,?,?,?,?,?,?)",
                    (*astuple(record), records),
                )
            self._last = record.id
            self._since_commits += 1
            self._since_units += len(changes)
            self._checkpoint_if_large()
        if snapshot_inline and self.needs_snapshot():
            try:
                self.snapshot(record.id, tree)
            except JournalError:
                _log.exception("snapshot after commit %d failed; will retry", record.id)
        return record

    def _checkpoint_if_large(self) -> None:
        """Bound the WAL when snapshots (which checkpoint) are rare; never fails a commit."""
        try:
            if os.path.getsize(f"{self.path}-wal") > _WAL_CHECKPOINT_BYTES:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except (OSError, sqlite3.Error) as exc:
            _log.warning("WAL checkpoint of %s failed: %s", self.path, exc)

    def needs_snapshot(self) -> bool:
        """True when a snapshot is due and none is being taken in the background."""
        with self._lock:
            if self._background is not None and self._background.is_alive():
                return False
            return self._since_commits > 0 and (
                self._since_commits >= self.snapshot_every
                or self._since_units > self.snapshot_units
            )

    def snapshot(self, commit_id: int, tree: Map[str, Any]) -> None:
        """Store `tree` (the config as after commit `commit_id`) as a snapshot.

        Safe to call from another thread while commits continue (it then uses
        its own connection); it also drops the history the new snapshot makes
        unnecessary.
        """
        if commit_id <= 0:
            return
        data = self._codec.encode_tree(tree)
        own = threading.get_ident() == self._owner
        with db.errors("snapshot"):
            conn = self._conn if own else db.connect(self.path)
            try:
                with self._lock:
                    if commit_id > self._last:
                        raise JournalError(f"cannot snapshot unknown commit {commit_id}")
                    with db.transaction(conn):
                        conn.execute(
                            "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)",
                            (commit_id, self._schema.digest, data),
                        )
                        self._prune(conn)
                    self._reload_counters()
                    if own:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                if not own:  # on its own connection: commits need not wait for the copy
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                if not own:
                    conn.close()

    def snapshot_in_background(self, commit_id: int, tree: Map[str, Any]) -> bool:
        """Start `snapshot()` on a worker thread unless one is running; True if started."""
        with self._lock:
            if self._background is not None and self._background.is_alive():
                return False
            self._background = threading.Thread(
                target=self._snapshot_logged, args=(commit_id, tree), name="journal-snapshot"
            )
            self._background.start()
            return True

    def wait_for_snapshot(self) -> None:
        """Return once no background snapshot (and the pruning it does) is running."""
        background = self._background
        if background is not None:
            background.join()

    def _snapshot_logged(self, commit_id: int, tree: Map[str, Any]) -> None:
        try:
            self.snapshot(commit_id, tree)
        except JournalError:
            _log.exception("background snapshot of commit %d failed", commit_id)

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Drop commits and snapshots older than the newest snapshot beyond `keep`."""
        base = conn.execute(
            "SELECT max(commit_id) FROM snapshots WHERE commit_id <= ?", (self._last - self.keep,)
        ).fetchone()[0]
        if base is not None:
            conn.execute("DELETE FROM commits WHERE id < ?", (base,))
            conn.execute("DELETE FROM snapshots WHERE commit_id < ?", (base,))

    def set_label(self, commit_id: int, label: str | None) -> None:
        """Set (or clear) the free-form label of a commit still in history."""
        if self._write("UPDATE commits SET label = ? WHERE id = ?", label, commit_id) != 1:
            raise JournalError(f"commit {commit_id} is not in history")

    # ---------------------------------------------------------------- reading

    def load_running(self) -> tuple[Map[str, Any], int]:
        """The latest config and its commit id (an empty Map and 0 for a fresh journal)."""
        with self._lock:
            last = self._last
        return self.tree_at(last), last

    def tree_at(self, commit_id: int) -> Map[str, Any]:
        """The config exactly as after commit `commit_id` (0 is the empty config).

        Raises JournalError if the commit is unknown or its history was pruned.
        """
        if commit_id == 0:
            return trees.EMPTY
        with self._lock, db.errors("read"):
            if not 0 < commit_id <= self._last:
                raise JournalError(f"commit {commit_id} does not exist")
            snap = self._conn.execute(
                "SELECT commit_id, digest, data FROM snapshots WHERE commit_id <= ?"
                " ORDER BY commit_id DESC LIMIT 1",
                (commit_id,),
            ).fetchone()
            base = 0 if snap is None else int(snap[0])
            rows = self._conn.execute(
                "SELECT id, records FROM commits WHERE id > ? AND id <= ? ORDER BY id",
                (base, commit_id),
            ).fetchall()
        if len(rows) != commit_id - base:
            raise JournalError(f"commit {commit_id} is no longer in history")
        tree = trees.EMPTY
        try:
            if snap is not None:
                tree = self._codec.decode_tree(snap[2], snap[1])
            for cid, records in rows:
                tree = self._codec.replay(tree, records, trusted=cid >= self._trusted_from)
        except RecordError as exc:
            raise JournalError(f"cannot rebuild commit {commit_id}: {exc}") from None
        return tree

    def history(self, limit: int | None = None) -> list[CommitRecord]:
        """Metadata of the commits in history, newest first (at most `limit`)."""
        rows = self._read(
            f"SELECT {_COMMIT_COLUMNS} FROM commits ORDER BY id DESC LIMIT ?",
            -1 if limit is None else limit,
        )
        return [CommitRecord(*row) for row in rows]

    def changes_of(self, commit_id: int) -> list[dict[str, Any]]:
        """The records of one commit: dicts with op, path (XPath text) and value (JSON)."""
        rows = self._read("SELECT records FROM commits WHERE id = ?", commit_id)
        if not rows:
            raise JournalError(f"commit {commit_id} is not in history")
        try:
            return [
                {
                    "op": op,
                    "path": format_path(self._schema, self._codec.decode_path(path)),
                    "value": value,
                }
                for op, path, value in json.loads(rows[0][0])
            ]
        except (RecordError, ValueError) as exc:
            raise JournalError(f"cannot decode commit {commit_id}: {exc}") from None

    # ---------------------------------------------------------------- startup and state

    def save_startup(self, tree: Map[str, Any]) -> None:
        """Replace the startup config with `tree`."""
        data = self._codec.encode_tree(tree)
        self._write(
            "INSERT OR REPLACE INTO blobs VALUES ('startup', ?, ?)", self._schema.digest, data
        )

    def load_startup(self) -> Map[str, Any] | None:
        """The startup config, or None when none was saved."""
        rows = self._read("SELECT digest, data FROM blobs WHERE name = 'startup'")
        if not rows:
            return None
        digest, data = rows[0]
        try:
            return self._codec.decode_tree(data, digest)
        except RecordError as exc:
            raise JournalError(f"cannot decode the startup config: {exc}") from None

    def clear_startup(self) -> None:
        """Delete the startup config."""
        self._write("DELETE FROM blobs WHERE name = 'startup'")

    def set_pending_confirm(self, state: dict[str, Any]) -> None:
        """Record the confirmed commit in progress (a JSON object) so it survives restarts."""
        self._write(
            "INSERT OR REPLACE INTO blobs VALUES ('pending_confirm', NULL, ?)", dumps(state)
        )

    def pending_confirm(self) -> dict[str, Any] | None:
        """The confirmed commit in progress, or None."""
        rows = self._read("SELECT data FROM blobs WHERE name = 'pending_confirm'")
        state: dict[str, Any] | None = json.loads(rows[0][0]) if rows else None
        return state

    def clear_pending_confirm(self) -> None:
        """Forget the confirmed commit in progress."""
        self._write("DELETE FROM blobs WHERE name = 'pending_confirm'")

    def set_value(self, key: str, value: str) -> None:
        """Store a small string for another component (e.g. a token)."""
        self._write("INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", key, value)

    def get_value(self, key: str) -> str | None:
        """The string stored under `key`, or None."""
        rows = self._read("SELECT value FROM kv WHERE key = ?", key)
        return str(rows[0][0]) if rows else None

    def close(self) -> None:
        """Wait for a background snapshot, checkpoint the WAL and close the database."""
        self.wait_for_snapshot()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                _log.warning("final WAL checkpoint of %s failed", self.path)
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
