"""The journal's SQLite file: connecting, schema version and integrity, transactions.

Connections use WAL with synchronous=FULL, and checkpoints run off the commit
path. An existing file is checked before anything writes to it (quick_check,
and a schema version this code understands); a new one gets the tables and its
schema version. sqlite3 errors surface as JournalError.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_TABLES = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE commits(id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL,"
    " channel TEXT NOT NULL, comment TEXT, changes INTEGER NOT NULL, label TEXT,"
    " records TEXT NOT NULL)",
    "CREATE TABLE snapshots(commit_id INTEGER PRIMARY KEY, digest TEXT NOT NULL,"
    " data BLOB NOT NULL)",
    "CREATE TABLE blobs(name TEXT PRIMARY KEY, digest TEXT, data BLOB NOT NULL)",
    "CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)


class JournalError(Exception):
    """The journal cannot be opened, read or written; the message says why."""


def utc_timestamp() -> str:
    """Now, as the journal stores times: UTC ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def errors(what: str) -> Iterator[None]:
    """Turn sqlite3 errors inside the block into JournalError("journal <what> failed")."""
    try:
        yield
    except sqlite3.Error as exc:
        raise JournalError(f"journal {what} failed: {exc}") from exc


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One SQLite write transaction: committed (and fsynced) on exit, rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with the journal's pragmas (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"{path}: cannot use WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run off the commit path
        conn.execute("PRAGMA journal_size_limit=8388608")
    except BaseException:
        conn.close()
        raise
    return conn


def inspect_database(path: Path) -> str | None:
    """Check an existing file before writing to it: the schema version, None if empty."""
    try:
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            check = [row[0] for row in conn.execute("PRAGMA quick_check")]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if check != ["ok"]:
                raise JournalError(f"{path}: integrity check failed: {'; '.join(check[:3])}")
            if not tables:
                return None
            row = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: not a readable SQLite database: {exc}") from None
    if row is None or not str(row[0]).isdigit():
        raise JournalError(f"{path}: not a FlyOS journal (no schema version)")
    if int(row[0]) > SCHEMA_VERSION:
        raise JournalError(
            f"{path}: journal schema version {row[0]} is newer than this agent's "
            f"({SCHEMA_VERSION}); upgrade the agent"
        )
    return str(row[0])


def fsync_dir(directory: Path) -> None:
    """Make a new file's directory entry durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the journal's tables in an empty database, recording the schema version."""
    for statement in _TABLES:
        conn.execute(statement)
    set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    set_meta(conn, "created", utc_timestamp())


def scalar(conn: sqlite3.Connection, sql: str, *params: Any) -> Any:
    """The first column of the first row `sql` returns, or None."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """A value of the meta table, or None."""
    value = scalar(conn, "SELECT value FROM meta WHERE key = ?", key)
    return None if value is None else str(value)


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set a value of the meta table (inside the caller's transaction)."""
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
