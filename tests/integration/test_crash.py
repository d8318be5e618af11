"""Crash safety: SIGKILL at random points of a commit stream loses no acknowledged commit."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

TRIALS = 50
MAX_STREAM_SECONDS = 0.5


class CommitStream:
    """Commits route adds (and some deletes) until the agent dies; records what was acked.

    The request in flight when the agent dies may or may not have committed;
    its prefix is never checked again.
    """

    def __init__(self, agent: Any, rng: random.Random, first: int) -> None:
        self.agent = agent
        self.rng = rng
        self.next = first
        self.added: dict[str, int] = {}
        self.deleted: dict[str, int] = {}
        self.acknowledged = 0
        self.in_flight: str | None = None
        self.failure: dict[str, Any] | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with self.agent.client() as client:
                while True:
                    prefix, verb = self._pick()
                    self.in_flight = prefix
                    reply = client.call(f"route {verb}", [f"prefix={prefix}", "via=192.168.1.1"])
                    if not reply["ok"]:
                        self.failure = reply
                        return
                    self.acknowledged += 1
                    commit_id = reply["result"]["commit-id"]
                    if verb == "add":
                        self.added[prefix] = commit_id
                    else:
                        del self.added[prefix]
                        self.deleted[prefix] = commit_id
                    self.in_flight = None
        except (OSError, AssertionError, ValueError):
            return  # the agent died mid-request: that commit was never acknowledged

    def _pick(self) -> tuple[str, str]:
        if self.added and self.rng.random() < 0.2:
            return self.rng.choice(sorted(self.added)), "delete"
        number = self.next
        self.next += 1
        return f"10.{number // 256 % 256}.{number % 256}.0/24", "add"


def check_acknowledged(client: Any, added: dict[str, int], deleted: dict[str, int]) -> None:
    running = client.routes()
    missing = sorted(set(added) - set(running))
    assert not missing, f"acknowledged adds lost: {missing[:5]}"
    resurrected = sorted(set(deleted) & set(running))
    assert not resurrected, f"acknowledged deletes lost: {resurrected[:5]}"
    history = {record["commit-id"] for record in client.ok("history")}
    acked = set(added.values()) | set(deleted.values())
    lost = sorted(acked - history)
    assert not lost, f"acknowledged commits missing from history: {lost[:5]}"


def test_sigkill_during_a_commit_stream_loses_no_acknowledged_commit(
    make_agent: Any, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FLYOS_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    config = tmp_path / "agent.toml"
    config.write_text("[agent]\nhistory_keep = 1000000\n")
    agent = make_agent(config=config)
    added: dict[str, int] = {}
    deleted: dict[str, int] = {}
    next_number = 0
    commits = 0
    for trial in range(TRIALS):
        agent.start()
        with agent.client() as client:
            check_acknowledged(client, added, deleted)
        stream = CommitStream(agent, rng, next_number)
        stream.added = dict(added)
        stream.thread.start()
        time.sleep(rng.uniform(0.01, MAX_STREAM_SECONDS))
        agent.kill()
        stream.thread.join(10)
        assert not stream.thread.is_alive(), f"trial {trial} (seed {seed}): client hung"
        assert stream.failure is None, f"trial {trial} (seed {seed}): {stream.failure}"
        commits += stream.acknowledged
        added, next_number = stream.added, stream.next
        deleted.update(stream.deleted)
        if stream.in_flight is not None:
            added.pop(stream.in_flight, None)
    agent.start()
    with agent.client() as client:
        check_acknowledged(client, added, deleted)
        sample = rng.sample(sorted(added), min(20, len(added)))
        for prefix in sample:
            query = {
                "source": f"commit:{added[prefix]}",
                "path": f"/routing/static[prefix='{prefix}']",
            }
            at_commit = client.ok("get-config", query)
            assert at_commit, f"commit {added[prefix]} does not hold {prefix} (seed {seed})"
    assert agent.stop() == 0
    assert commits > TRIALS, f"too few commits to mean anything ({commits}, seed {seed})"
