"""Scenario 4, firewall: an N-rule ACL commit vs `nft -f`, a one-rule change vs `nft add rule`.

Ours: a Manager with the nftables backend in a fresh namespace (as
tests/integration/nft/test_nft_scale.py measures it). The commit is timed
from the RFC 7951 JSON text (parsed, loaded into the candidate by
copy-config, committed: validation, planning, one nft batch, journal).
Then three commits that each change one rule (the last one's action) are
timed, edit included.
Reference: `nft -f` of the same filter as plain nft text (one chain, jumped
to from the input hook) into a fresh namespace, then three `nft add rule`
into that N-rule chain. Each side runs in its own namespace; runs alternate.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, Scale, timed
from bench.netns import Namespace
from bench.profiling import Spy
from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import parse_path
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema, load_schema

COMMIT_RATIO_LIMIT = 1.2
CHANGE_RATIO_LIMIT = 1.5
CHANGES = 3


def address(index: int) -> str:
    """The source address of rule `index`."""
    return f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"


def acl_text(rules: int) -> str:
    """An ACL 'big' of `rules` rules, applied to input, as RFC 7951 JSON text."""
    entries: list[dict[str, Any]] = [
        {
            "sequence": index + 1,
            "action": "accept",
            "protocol": "tcp",
            "source": {"prefix": [address(index) + "/32"]},
            "destination": {"port": ["80"]},
        }
        for index in range(rules)
    ]
    acls = {"acl": [{"name": "big", "rule": entries}], "global": {"input": "big"}}
    return json.dumps({"flyos-acl:acls": acls})


def reference_ruleset(rules: int) -> str:
    """The same filter as nft text: one chain, jumped to from input."""
    lines = [
        "table inet reference {",
        "  chain input { type filter hook input priority 0; policy accept; jump big; }",
        "  chain big {",
    ]
    lines += [
        f'    ip saddr {address(i)} tcp dport 80 counter accept comment "acl big rule {i + 1}"'
        for i in range(rules)
    ]
    return "\n".join([*lines, "  }", "}", ""])


class Firewall:
    """A Manager with the nftables backend working in a fresh namespace."""

    def __init__(self, schema: Schema, state: Path) -> None:
        self.schema = schema
        self.ns = Namespace(port=False)
        self.manager = Manager(
            schema, Journal(state / "flyos.db", schema), NftBackend(schema, self.ns.name)
        )
        self.manager.start()
        self.session = self.manager.open_session("bench", "bench")

    def commit_text(self, text: str) -> None:
        """Parse `text`, load it into the candidate, commit."""
        self.manager.copy(self.session, "running", "candidate", config=json.loads(text))
        self.manager.commit(self.session)

    def change_last_rule(self, rules: int, action: str) -> float:
        """Seconds of one edit (the last rule's action) + commit."""
        path = parse_path(self.schema, f"/acls/acl[name='big']/rule[sequence='{rules}']")
        start = time.perf_counter()
        self.manager.edit(self.session, "candidate", [Edit("merge", path, {"action": action})])
        self.manager.commit(self.session)
        return time.perf_counter() - start

    def changes(self, rules: int) -> list[float]:
        """Seconds of each of CHANGES one-rule changes (drop, accept, drop, ...)."""
        return [
            self.change_last_rule(rules, "drop" if n % 2 == 0 else "accept") for n in range(CHANGES)
        ]

    def close(self) -> None:
        """Close the Manager and remove the namespace."""
        self.manager.close()
        self.ns.delete()


def ours(schema: Schema, rules: int) -> tuple[float, list[float]]:
    """(commit seconds, one-rule change seconds) on a fresh namespace."""
    text = acl_text(rules)
    with tempfile.TemporaryDirectory(prefix="fbench-") as state:
        firewall = Firewall(schema, Path(state))
        try:
            commit = timed(lambda: firewall.commit_text(text))
            return commit, firewall.changes(rules)
        finally:
            firewall.close()


def reference(rules: int) -> tuple[float, list[float]]:
    """(`nft -f` seconds, `nft add rule` seconds) on a fresh namespace."""
    ruleset = reference_ruleset(rules)
    with Namespace(port=False) as ns:
        load = timed(lambda: ns.exec("nft", "-f", "-", stdin=ruleset))
        add = ["nft", "add", "rule", "inet", "reference", "big", "tcp", "dport", "81", "counter"]
        adds = [timed(lambda: ns.exec(*add, "drop")) for _ in range(CHANGES)]
    return load, adds


def profile(schema: Schema, rules: int, part: str) -> list[str]:
    """py-spy top entries (this process, all threads) of the commit or of the changes."""
    text = acl_text(rules)
    with tempfile.TemporaryDirectory(prefix="fbench-") as state:
        firewall = Firewall(schema, Path(state))
        try:
            if part == "commit":
                with Spy(os.getpid()) as recording:
                    firewall.commit_text(text)
            else:
                firewall.commit_text(text)
                with Spy(os.getpid()) as recording:
                    for _ in range(10):
                        firewall.changes(rules)
            return recording.lines
        finally:
            firewall.close()


def run(scale: Scale) -> list[Figure]:
    """The commit and one-rule change figures (profiled if they miss)."""
    schema = load_schema()
    commits, changes, loads, adds = [], [], [], []
    for _ in range(scale.runs):
        commit, changed = ours(schema, scale.rules)
        commits.append(commit)
        changes += [seconds * 1000 for seconds in changed]
        load, added = reference(scale.rules)
        loads.append(load)
        adds += [seconds * 1000 for seconds in added]
    commit_figure = Figure(
        scenario=f"4a. firewall: {scale.rules:,}-rule ACL commit",
        unit="s",
        ours=commits,
        reference=loads,
        reference_name="nft -f",
        target=f"ratio <= {COMMIT_RATIO_LIMIT}",
        ratio_limit=COMMIT_RATIO_LIMIT,
    )
    change_figure = Figure(
        scenario=f"4b. firewall: one-rule change on the {scale.rules:,}-rule ACL",
        unit="ms",
        ours=changes,
        reference=adds,
        reference_name="nft add rule",
        target=f"ratio <= {CHANGE_RATIO_LIMIT}",
        ratio_limit=CHANGE_RATIO_LIMIT,
    )
    if not commit_figure.met:
        commit_figure.profile = profile(schema, scale.rules, "commit")
    if not change_figure.met:
        change_figure.profile = profile(schema, scale.rules, "changes")
    return [commit_figure, change_figure]
