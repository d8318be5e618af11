"""The commit journal: durable, O(change) appends, snapshots, history and recovery."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sqlite3
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from immutables import Map

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.diff import Change, diff_trees
from flyos_agent.datastore.edit import Edit, ErrorOption, Operation, apply_edits
from flyos_agent.datastore.journal import CommitRecord, Journal, JournalError
from flyos_agent.datastore.paths import InstancePath
from flyos_agent.schema import Schema, load_schema

ROOT = Path(__file__).resolve().parents[3]
FULL = ROOT / "examples" / "full.json"
Tree = Map[str, Any]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def same(a: Any, b: Any, where: str = "") -> None:
    """Assert deep equality that also tells 1 from True and 254 from "254"."""
    assert type(a) is type(b), f"{where}: {a!r} vs {b!r}"
    if isinstance(a, Map):
        assert set(a.keys()) == set(b.keys()), f"{where}: {set(a.keys()) ^ set(b.keys())}"
        for key in a:
            same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{index}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def commit(journal: Journal, schema: Schema, old: Tree, new: Tree, **kw: Any) -> CommitRecord:
    changes = diff_trees(schema, old, new)
    return journal.append(
        user="alice", channel="test", comment=None, changes=changes, tree=new, **kw
    )


def full_tree(schema: Schema) -> Tree:
    return trees.tree_from_plain(schema, json.loads(FULL.read_text()))


# --------------------------------------------------------------------------- basics


def test_fresh_journal_is_empty(tmp_path: Path, schema: Schema) -> None:
    with Journal(tmp_path, schema) as journal:
        tree, commit_id = journal.load_running()
        assert commit_id == 0 and tree == Map()
        assert journal.history() == []
        assert journal.load_startup() is None and journal.pending_confirm() is None
    assert (tmp_path / "flyos.db").stat().st_mode & 0o777 == 0o600


def test_full_example_round_trips(tmp_path: Path, schema: Schema) -> None:
    tree = full_tree(schema)
    with Journal(tmp_path, schema) as journal:
        record = commit(journal, schema, trees.EMPTY, tree)
        assert record.id == 1 and record.changes > 10
    with Journal(tmp_path, schema) as journal:
        loaded, commit_id = journal.load_running()
        assert commit_id == 1
        same(loaded, tree)
        journal.snapshot(1, tree)
    with Journal(tmp_path, schema) as journal:
        same(journal.load_running()[0], tree)


def test_records_and_snapshots_written_under_another_schema_are_validated(
    tmp_path: Path, schema: Schema
) -> None:
    tree = full_tree(schema)
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, tree)
        journal.snapshot(1, tree)
        smaller = trees.delete_at(tree, (("acls", None),), schema)
        commit(journal, schema, tree, smaller)
    with sqlite3.connect(tmp_path / "flyos.db") as db:
        db.execute("UPDATE meta SET value = 'older' WHERE key = 'schema_digest'")
        db.execute("UPDATE snapshots SET digest = 'older'")
    with Journal(tmp_path, schema) as journal:
        same(journal.load_running()[0], smaller)
        same(journal.tree_at(1), tree)


def test_commit_metadata_history_and_changes(tmp_path: Path, schema: Schema) -> None:
    path = (("routing", None), ("static", ("10.1.0.0/16",)))
    one = trees.set_at(trees.EMPTY, path, Map(prefix="10.1.0.0/16", table=254), schema)
    two = trees.set_at(one, path, Map(prefix="10.1.0.0/16", table="main"), schema)
    with Journal(tmp_path, schema) as journal:
        first = commit(journal, schema, trees.EMPTY, one)
        second = journal.append(
            user="bob",
            channel="netconf",
            comment="main table",
            changes=diff_trees(schema, one, two),
            tree=two,
            label="before-maintenance",
        )
        assert second.id == first.id + 1
        assert second.time.endswith("Z") and len(second.time) == len("2026-01-01T00:00:00.000Z")
        journal.set_label(first.id, "initial")
    with Journal(tmp_path, schema) as journal:
        history = journal.history()
        assert [c.id for c in history] == [2, 1]
        assert history[0] == second
        assert history[1].label == "initial"
        assert journal.history(limit=1) == [second]
        assert journal.changes_of(2) == [
            {
                "op": "modify",
                "path": "/flyos-routing:routing/static[prefix='10.1.0.0/16']",
                "value": {"prefix": "10.1.0.0/16", "table": "main"},
            }
        ]
        same(journal.tree_at(1), one)
        same(journal.tree_at(2), two)
        assert journal.tree_at(0) == Map()
        with pytest.raises(JournalError):
            journal.tree_at(3)
        with pytest.raises(JournalError):
            journal.changes_of(7)


def test_nested_changes_inside_created_or_deleted_units_are_not_recorded(
    tmp_path: Path, schema: Schema
) -> None:
    tree = full_tree(schema)
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, tree)
        commit(journal, schema, tree, trees.EMPTY)
        created, deleted = journal.changes_of(1), journal.changes_of(2)
    assert {c["op"] for c in created} == {"create"}
    assert {c["path"].count("/") for c in created} == {1}  # top-level containers only
    assert {c["op"] for c in deleted} == {"delete"} and len(deleted) == len(created)
    assert all(c["value"] is None for c in deleted)


def test_modify_keeps_nested_lists(tmp_path: Path, schema: Schema) -> None:
    tree = full_tree(schema)
    eth0 = (("interfaces", None), ("interface", ("eth0",)))
    changed = trees.set_at(tree, (*eth0, ("mtu", None)), 9000, schema)
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, tree)
        commit(journal, schema, tree, changed)
        (record,) = journal.changes_of(2)
        assert record["op"] == "modify" and "ipv4" not in record["value"]
        same(journal.load_running()[0], changed)


def test_modify_of_a_container_emptied_by_nested_deletes_replays(
    tmp_path: Path, schema: Schema
) -> None:
    one = trees.tree_from_plain(schema, {"acls": {"acl": [{"name": "x"}, {"name": "y"}]}})
    two = trees.tree_from_plain(schema, {"acls": {"global": {"input": "x"}}})
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, one)
        commit(journal, schema, one, two)
        assert [c["op"] for c in journal.changes_of(2)] == ["delete", "delete", "modify"]
        same(journal.load_running()[0], two)


def test_startup_pending_confirm_and_values_survive_reopen(tmp_path: Path, schema: Schema) -> None:
    tree = full_tree(schema)
    with Journal(tmp_path, schema) as journal:
        journal.save_startup(tree)
        journal.set_pending_confirm({"persist_id": "abc", "timeout": 600, "rollback_to": 3})
        journal.set_value("token:alice", "s3cret")
    with Journal(tmp_path, schema) as journal:
        startup = journal.load_startup()
        assert startup is not None
        same(startup, tree)
        assert journal.pending_confirm() == {"persist_id": "abc", "timeout": 600, "rollback_to": 3}
        assert journal.get_value("token:alice") == "s3cret" and journal.get_value("x") is None
        journal.clear_pending_confirm()
        journal.clear_startup()
    with Journal(tmp_path, schema) as journal:
        assert journal.pending_confirm() is None and journal.load_startup() is None


def test_snapshot_policy_counts_commits_and_changed_units(tmp_path: Path, schema: Schema) -> None:
    tree = full_tree(schema)
    with Journal(tmp_path, schema, snapshot_every=3, snapshot_units=1000) as journal:
        old = trees.EMPTY
        for hostname in ("a", "b", "c"):
            assert not journal.needs_snapshot()
            new = trees.set_at(old, (("system", None), ("hostname", None)), hostname, schema)
            commit(journal, schema, old, new, snapshot_inline=False)
            old = new
        assert journal.needs_snapshot()
        journal.snapshot(3, old)
        assert not journal.needs_snapshot()
    with Journal(tmp_path, schema, snapshot_every=100, snapshot_units=20) as journal:
        assert not journal.needs_snapshot()
        commit(journal, schema, old, tree, snapshot_inline=False)  # > 20 units at once
        assert journal.needs_snapshot()
        commit(journal, schema, tree, trees.EMPTY)  # inline: taken before append returns
        assert not journal.needs_snapshot()
        assert journal.load_running() == (trees.EMPTY, 5)


def test_a_record_that_does_not_apply_is_reported(tmp_path: Path, schema: Schema) -> None:
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, full_tree(schema))
    with sqlite3.connect(tmp_path / "flyos.db") as db:
        db.execute("""UPDATE commits SET records = '[["delete",[["nat",null]],null]]'""")
    with Journal(tmp_path, schema) as journal, pytest.raises(JournalError, match="cannot rebuild"):
        journal.load_running()


# --------------------------------------------------------------------------- refusing bad stores


def test_garbage_file_is_refused(tmp_path: Path, schema: Schema) -> None:
    (tmp_path / "flyos.db").write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(JournalError, match="not a readable SQLite database"):
        Journal(tmp_path, schema)


def test_corrupted_pages_are_refused(tmp_path: Path, schema: Schema) -> None:
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, full_tree(schema))
    db = tmp_path / "flyos.db"
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[page : 3 * page] = bytes(range(256)) * (2 * page // 256)
    db.write_bytes(bytes(data))
    with pytest.raises(JournalError):
        Journal(tmp_path, schema)


def test_newer_schema_version_is_refused(tmp_path: Path, schema: Schema) -> None:
    Journal(tmp_path, schema).close()
    with sqlite3.connect(tmp_path / "flyos.db") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(JournalError, match="newer"):
        Journal(tmp_path, schema)


def test_foreign_database_is_refused(tmp_path: Path, schema: Schema) -> None:
    with sqlite3.connect(tmp_path / "flyos.db") as db:
        db.execute("CREATE TABLE cats(name TEXT)")
    with pytest.raises(JournalError, match="not a FlyOS journal"):
        Journal(tmp_path, schema)


# --------------------------------------------------------------------------- random history


PREFIXES = [f"10.{i}.0.0/16" for i in range(12)] + [f"2001:db8:{i:x}::/48" for i in range(6)]
IFACES = ["eth0", "eth1", "eth2", "br0", "dummy0"]
RULE_SEQS = [10, 20, 30, 40]


def random_edit(rng: random.Random) -> Edit:
    """One create/modify/delete of a route, interface, address, ACL rule or the system."""
    kinds = ["route", "route", "iface", "addr", "rule", "acl", "global", "system", "wipe"]
    kind = rng.choice(kinds)
    if kind == "route":
        prefix = rng.choice(PREFIXES)
        path: InstancePath = (("routing", None), ("static", (prefix,)))
        if rng.random() < 0.3:
            return Edit(Operation.REMOVE, path)
        value: dict[str, Any] = {"table": rng.choice([254, "main", "local", 100, 1000])}
        if rng.random() < 0.5:
            value["metric"] = rng.randrange(1, 500)
        if rng.random() < 0.3:
            value["nexthop"] = [{"via": f"192.0.2.{n}", "weight": n} for n in range(1, 3)]
        else:
            value["dev"] = rng.choice(IFACES)
        op = rng.choice([Operation.MERGE, Operation.REPLACE])
        return Edit(op, path, value)
    if kind == "iface":
        path = (("interfaces", None), ("interface", (rng.choice(IFACES),)))
        if rng.random() < 0.25:
            return Edit(Operation.REMOVE, path)
        return Edit(Operation.MERGE, path, {"type": "ethernet", "mtu": rng.randrange(1280, 9000)})
    if kind == "addr":
        name = rng.choice(IFACES)
        ip = f"192.168.{rng.randrange(4)}.1"
        path = (("interfaces", None), ("interface", (name,)), ("ipv4", None), ("address", (ip,)))
        if rng.random() < 0.3:
            return Edit(Operation.REMOVE, path)
        return Edit(Operation.MERGE, path, {"prefix-length": rng.choice([24, 25, 30])})
    if kind in ("rule", "acl"):
        acl = (("acls", None), ("acl", (rng.choice(["wan-in", "lan-in"]),)))
        if kind == "acl":
            if rng.random() < 0.3:
                return Edit(Operation.REMOVE, acl)
            return Edit(Operation.MERGE, acl, {"default-action": rng.choice(["accept", "drop"])})
        path = (*acl, ("rule", (rng.choice(RULE_SEQS),)))
        if rng.random() < 0.3:
            return Edit(Operation.REMOVE, path)
        rule = {
            "action": rng.choice(["accept", "drop", "reject"]),
            "protocol": rng.choice(["tcp", "udp", 6, 47]),
            "destination": {"port": [str(rng.randrange(1, 1024))]},
        }
        return Edit(Operation.MERGE, path, rule)
    if kind == "system":
        return Edit(Operation.MERGE, (("system", None),), {"hostname": f"r{rng.randrange(9)}"})
    if kind == "global":
        path = (("acls", None), ("global", None), ("input", None))
        if rng.random() < 0.4:
            return Edit(Operation.REMOVE, path)
        return Edit(Operation.MERGE, path, rng.choice(["wan-in", "lan-in"]))
    return Edit(Operation.REMOVE, ((rng.choice(["routing", "acls"]), None),))


def random_commit(rng: random.Random, schema: Schema, tree: Tree) -> tuple[Tree, list[Change]]:
    edits = [random_edit(rng) for _ in range(rng.randrange(1, 4))]
    result = apply_edits(schema, tree, edits, error_option=ErrorOption.CONTINUE)
    return result.tree, diff_trees(schema, tree, result.tree, result.touched)


def test_random_commits_replay_exactly_across_snapshots_and_pruning(
    tmp_path: Path, schema: Schema
) -> None:
    rng = random.Random(7)
    options = {"keep": 20, "snapshot_every": 15, "snapshot_units": 40}
    journal = Journal(tmp_path, schema, **options)
    states = [trees.EMPTY]
    background: list[threading.Thread] = []
    failures: list[JournalError] = []

    def snapshot_or_record(commit_id: int, tree: Tree) -> None:
        try:
            journal.snapshot(commit_id, tree)
        except JournalError as error:
            failures.append(error)

    for index in range(200):
        new, changes = random_commit(rng, schema, states[-1])
        mode = index % 3  # snapshot inline, on our own thread, or via snapshot_in_background
        record = journal.append(
            user="u",
            channel="test",
            comment=str(index),
            changes=changes,
            tree=new,
            snapshot_inline=mode == 0,
        )
        assert record.id == len(states)
        states.append(new)
        if mode == 1 and journal.needs_snapshot():
            thread = threading.Thread(target=snapshot_or_record, args=(record.id, new))
            thread.start()
            background.append(thread)
        elif mode == 2 and journal.needs_snapshot():
            assert journal.snapshot_in_background(record.id, new)
    for thread in background:
        thread.join()
    assert failures == []
    assert sum(len(s) > 0 for s in states) > 150
    for reopen in (False, True):
        if reopen:
            journal.close()  # also waits for snapshot_in_background
            journal = Journal(tmp_path, schema, **options)
        loaded, last = journal.load_running()
        assert last == 200
        same(loaded, states[200])
        history = journal.history()
        assert [c.id for c in history[:20]] == list(range(200, 180, -1))
        oldest = history[-1].id
        assert oldest < 200 - 20
        for k in [*rng.sample(range(oldest, 201), 25), oldest, 181]:
            same(journal.tree_at(k), states[k], f"tree_at({k})")
        for k in (1, oldest - 1):
            with pytest.raises(JournalError, match="no longer in history"):
                journal.tree_at(k)
    journal.close()


# --------------------------------------------------------------------------- cost follows change


def route_tree(count: int) -> Tree:
    routes = {}
    for i in range(count):
        prefix = f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}/32"
        routes[(prefix,)] = Map(prefix=prefix, dev="eth0", metric=i % 100, table=254)
    eth0 = Map(name="eth0", type="ethernet")
    return Map(routing=Map(static=Map(routes)), interfaces=Map(interface=Map({("eth0",): eth0})))


def _store_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("flyos.db*"))


def test_one_route_commit_on_100k_routes_writes_constant_bytes(
    tmp_path: Path, schema: Schema
) -> None:
    big = route_tree(100_000)
    with Journal(tmp_path, schema) as journal:
        commit(journal, schema, trees.EMPTY, big)
        journal.snapshot(1, big)
    full_size = _store_size(tmp_path)
    assert full_size > 500_000
    journal = Journal(tmp_path, schema)  # reopened: the WAL starts empty
    tree = big
    growth, times = [], []
    for n in range(30):
        prefix = f"172.16.{n}.0/24"
        path = (("routing", None), ("static", (prefix,)))
        new = trees.set_at(tree, path, Map(prefix=prefix, dev="eth0", table="main"), schema)
        changes = diff_trees(schema, tree, new, [path])
        before = _store_size(tmp_path)
        start = time.perf_counter()
        journal.append(user="u", channel="test", comment=None, changes=changes, tree=new)
        times.append(time.perf_counter() - start)
        growth.append(_store_size(tmp_path) - before)
        tree = new
    journal.close()
    assert max(growth) <= 5 * 4120, growth  # a few WAL frames of one 4 KiB page each
    assert sum(growth) / len(growth) < 6000, growth
    start = time.perf_counter()
    with Journal(tmp_path, schema) as journal:
        opened = time.perf_counter()
        loaded, last = journal.load_running()
    loaded_at = time.perf_counter()
    assert last == 31
    same(loaded, tree)
    print(
        f"\n100k routes: one-route append median {statistics.median(times) * 1000:.2f} ms"
        f" (max {max(times) * 1000:.2f} ms), {statistics.mean(growth):.0f} bytes/commit;"
        f" open {1000 * (opened - start):.0f} ms, load {1000 * (loaded_at - opened):.0f} ms;"
        f" store {full_size / 1e6:.1f} MB"
    )


# --------------------------------------------------------------------------- crash safety


def crash_tree(schema: Schema, commit_id: int) -> Tree:
    """The config after commit `commit_id` of the crash workload (a function of the id)."""
    if commit_id == 0:
        return trees.EMPTY
    routes = [
        {"prefix": f"10.0.{j % 256}.{j // 256}/32", "metric": j if j > commit_id - 3 else j + 1}
        for j in range(max(1, commit_id - 7), commit_id + 1)
    ]
    addresses = [{"ip": f"192.168.{k}.1", "prefix-length": 24} for k in range(commit_id % 4)]
    interface = {"name": "eth0", "type": "ethernet", "ipv4": {"address": addresses}}
    return trees.tree_from_plain(
        schema,
        {
            "flyos-system:system": {"hostname": f"r{commit_id % 5}"},
            "flyos-routing:routing": {"static": routes},
            "flyos-interfaces:interfaces": {"interface": [interface]},
        },
    )


CRASH_OPTIONS = {"keep": 6, "snapshot_every": 4}


def _crash_child(db: Path, schema: Schema, write_fd: int) -> None:
    """Append crash-workload commits forever, printing each acknowledged id to stdout."""
    os.dup2(write_fd, 1)
    journal = Journal(db, schema, **CRASH_OPTIONS)
    tree, last = journal.load_running()
    while True:
        new = crash_tree(schema, last + 1)
        record = commit(journal, schema, tree, new)
        os.write(1, f"{record.id}\n".encode())  # unbuffered: printed and flushed
        tree, last = new, record.id


def _run_child_and_kill(db: Path, schema: Schema, rng: random.Random, first_ack: bool) -> list[int]:
    """Fork a child appending commits and SIGKILL it at a random time; its acknowledged ids.

    With `first_ack` the random delay starts once the child acknowledged a commit
    (so every trial of that kind makes progress however slow the machine is).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 0
        try:
            os.close(read_fd)
            _crash_child(db, schema, write_fd)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_fd)
    out = b""
    if first_ack:
        ready, _, _ = select.select([read_fd], [], [], 10.0)
        out = os.read(read_fd, 4096) if ready else b""
    time.sleep(rng.uniform(0.0, 0.05))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), "the child died by itself"
    with os.fdopen(read_fd, "rb") as pipe:
        out += pipe.read()
    return [int(line) for line in out.decode().splitlines()]


def test_kill_9_never_loses_an_acknowledged_commit(tmp_path: Path, schema: Schema) -> None:
    rng = random.Random(1234)
    db = tmp_path / "flyos.db"
    last_seen, acknowledged = 0, 0
    for trial in range(60):  # each trial: fork, run for up to ~50 ms, SIGKILL, verify
        acked = _run_child_and_kill(db, schema, rng, first_ack=trial % 2 == 1)
        acknowledged += len(acked)
        with Journal(db, schema, **CRASH_OPTIONS) as journal:
            tree, last = journal.load_running()
            newest_ack = max(acked, default=last_seen)
            assert newest_ack <= last <= newest_ack + 1, (trial, acked, last)
            assert last >= last_seen
            same(tree, crash_tree(schema, last))
            kept = {c.id for c in journal.history()}
            for commit_id in acked:
                if commit_id > last - CRASH_OPTIONS["keep"]:
                    assert commit_id in kept
                    same(journal.tree_at(commit_id), crash_tree(schema, commit_id))
        last_seen = last
    assert acknowledged >= 30
