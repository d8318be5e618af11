"""A 50k-rule ACL commits correctly and a one-rule change afterwards touches one rule.

Prints the timings next to the reference tools in the same run (no timing
assertions): the commit vs `nft -f` of the equivalent ruleset, the one-rule
change vs `nft add rule`, and the batches sent as netlink vs our table loaded
by `nft -f` and a change over the nft command.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Commit
from nft_kernel import Kernel, Lab, sh

from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.backends.linux.nft_runner import CliRunner
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import parse_path
from flyos_agent.runtime.manager import Manager

RULES = 50_000
LAST = f"/acls/acl[name='big']/rule[sequence='{RULES}']"


def address(index: int) -> str:
    return f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"


def config() -> dict[str, Any]:
    rules = [
        {
            "sequence": index + 1,
            "action": "accept",
            "protocol": "tcp",
            "source": {"prefix": [address(index) + "/32"]},
            "destination": {"port": ["80"]},
        }
        for index in range(RULES)
    ]
    return {"flyos-acl:acls": {"acl": [{"name": "big", "rule": rules}], "global": {"input": "big"}}}


def reference_ruleset() -> str:
    """The same filter as plain nft text: one chain, jumped to from input."""
    lines = [
        "table inet reference {",
        "  chain input { type filter hook input priority 0; policy accept; jump big; }",
        "  chain big {",
    ]
    lines += [
        f'    ip saddr {address(i)} tcp dport 80 counter accept comment "acl big rule {i + 1}"'
        for i in range(RULES)
    ]
    return "\n".join([*lines, "  }", "}", ""])


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def one_rule_changes(manager: Manager, action: str) -> float:
    """Median time of three commits that each change one rule (the last one)."""
    session = manager.open_session("root", "bench")
    times = []
    for verdict in (action, "accept", action):
        edit = Edit("merge", parse_path(manager.schema, LAST), {"action": verdict})
        manager.edit(session, "candidate", [edit])
        times.append(timed(lambda s=session: manager.commit(s)))
    return statistics.median(times)


def test_a_50k_rule_acl_and_a_one_rule_change(
    commit: Commit,
    kernel: Kernel,
    manager: Manager,
    lab: Lab,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = manager.backend
    assert isinstance(backend, NftBackend)
    batches: list[tuple[int, float]] = []  # (size, seconds) of each encoded batch sent
    send = backend.runner.send

    def recording(transaction: bytes) -> None:
        start = time.perf_counter()
        send(transaction)
        batches.append((len(transaction), time.perf_counter() - start))

    monkeypatch.setattr(backend.runner, "send", recording)
    ours = timed(lambda: commit(config()))
    listed = kernel.rules("acl-big/")
    assert len(listed) == RULES
    assert list(listed)[:2] == ["acl big rule 1", "acl big rule 2"]
    plan = commit(edits=[("merge", LAST, {"action": "drop"})], dry_run=True).plan
    assert plan is not None
    bucket = listed[f"acl big rule {RULES}"]["chain"]
    assert [list(command) for command in plan[0]["commands"]] == [["delete"], ["add"]]
    assert plan[0]["commands"][1]["add"]["rule"]["chain"] == bucket
    ours_change = one_rule_changes(manager, "drop")
    after = kernel.rules("acl-big/")
    changed = {c for c in listed if after[c]["handle"] != listed[c]["handle"]}
    assert changed == {f"acl big rule {RULES}"}

    reference = lab.namespace()
    nft_f = timed(lambda: sh("nft", "-f", "-", ns=reference, stdin=reference_ruleset()))
    add_rule = statistics.median(
        timed(
            lambda: sh(
                "nft",
                "add",
                "rule",
                "inet",
                "reference",
                "big",
                "tcp",
                "dport",
                "81",
                "counter",
                "drop",
                ns=reference,
            )
        )
        for _ in range(3)
    )
    _, netlink_bulk = max(batches)
    replay = lab.namespace()  # an identical copy of our table, through `nft -f -`
    listing = sh("nft", "list", "table", "inet", "flyos", ns=kernel.ns)
    command_bulk = timed(lambda: sh("nft", "-f", "-", ns=replay, stdin=listing))
    add_rule_ours = statistics.median(
        timed(
            lambda: sh(
                "nft",
                "add",
                "rule",
                "inet",
                "flyos",
                bucket,
                "tcp",
                "dport",
                "81",
                "counter",
                "drop",
                ns=replay,
            )
        )
        for _ in range(3)
    )
    netlink_change = statistics.median(seconds for _, seconds in batches[-3:])
    monkeypatch.undo()
    backend.runner = CliRunner(kernel.ns, encode=False)  # the same table, over `nft -j -f -`
    command_change = one_rule_changes(manager, "drop")

    print(
        f"\n{RULES}-rule ACL commit {ours:.2f} s vs nft -f {nft_f:.2f} s: ratio {ours / nft_f:.2f}"
        f" (the batch alone: netlink {netlink_bulk:.2f} s;"
        f" our table through nft -f {command_bulk:.2f} s)"
        f"\none-rule change commit {ours_change * 1000:.1f} ms vs nft add rule"
        f" {add_rule * 1000:.1f} ms: ratio {ours_change / add_rule:.2f}"
        f" (into a copy of our table: {add_rule_ours * 1000:.1f} ms,"
        f" ratio {ours_change / add_rule_ours:.2f})"
        f" (the batch alone: netlink {netlink_change * 1000:.1f} ms;"
        f" whole commit over nft -j -f {command_change * 1000:.1f} ms)"
    )
