"""flyos-agent with the Linux backend in a namespace, driven over IPC."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"fly-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


def kernel_routes(netns: str) -> set[str]:
    out = subprocess.run(
        ["ip", "-n", netns, "-j", "route", "show", "table", "all", "proto", "177"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {route["dst"] for route in json.loads(out or "[]")}


def test_commits_from_worker_threads_do_not_stop_the_agent(make_agent: Any, netns: str) -> None:
    """pyroute2 forks a helper per thread to enter the namespace and SIGTERMs it;
    that signal must never reach the agent's own event loop."""
    agent = make_agent("--backend", "linux", "--netns", netns).start()
    for n in range(4):
        with agent.client() as client:
            client.ok("route add", [f"prefix=10.{n}.0.0/16", "type=blackhole"])
    assert agent.running
    assert kernel_routes(netns) == {f"10.{n}.0.0/16" for n in range(4)}
    assert agent.stop() == 0
