"""100k routes in one commit and out again: every route present, then every route gone.

The batch rates (the kernel part of the commit) are printed next to `ip -batch`
adding and deleting the same routes in a fresh namespace in the same run;
tests never assert on wall-clock time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns, commit, ipj, sh

from flyos_agent.backends.linux.bulk import Bulk
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

COUNT = 100_000
PORT = {
    "name": "eth0",
    "type": "ethernet",
    "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
}


def prefixes() -> list[str]:
    return [f"10.{64 + i // 65536}.{(i // 256) % 256}.{i % 256}/32" for i in range(COUNT)]


def installed(netns: Netns) -> set[str]:
    routes = ipj(netns.name, "-4 route show table all proto 177")
    return {route["dst"] if "/" in route["dst"] else route["dst"] + "/32" for route in routes}


def ip_batch_rate(tmp_path: Path, op: str, ns: str) -> float:
    script = tmp_path / f"{op}.batch"
    script.write_text("".join(f"route {op} {p} via 10.0.0.2 proto 177\n" for p in prefixes()))
    start = time.perf_counter()
    sh(f"ip -n {ns} -batch {script}")
    return COUNT / (time.perf_counter() - start)


def test_100k_routes_commit_and_delete(
    netns: Netns,
    manager: Manager,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    batch_seconds: list[float] = []
    original: Callable[[Bulk], None] = Bulk.apply

    def timed(bulk: Bulk) -> None:
        first = not bulk.applied
        start = time.perf_counter()
        original(bulk)
        if first and len(bulk.items) >= COUNT:
            batch_seconds.append(time.perf_counter() - start)

    monkeypatch.setattr(Bulk, "apply", timed)
    commit(manager, session, {"flyos-interfaces:interfaces": {"interface": [PORT]}})
    config: dict[str, Any] = {
        "flyos-interfaces:interfaces": {"interface": [PORT]},
        "flyos-routing:routing": {"static": [{"prefix": p, "via": "10.0.0.2"} for p in prefixes()]},
    }

    start = time.perf_counter()
    commit(manager, session, config)
    add_commit = time.perf_counter() - start
    assert installed(netns) == set(prefixes())

    start = time.perf_counter()
    commit(manager, session, {"flyos-interfaces:interfaces": {"interface": [PORT]}})
    delete_commit = time.perf_counter() - start
    assert installed(netns) == set()

    fresh = f"flyos-{uuid.uuid4().hex[:8]}"
    sh(f"ip netns add {fresh}")
    try:
        sh(f"ip -n {fresh} link add eth0 type veth peer name port0")
        sh(f"ip -n {fresh} addr add 10.0.0.1/24 dev eth0")
        sh(f"ip -n {fresh} link set eth0 up && ip -n {fresh} link set port0 up")
        ip_add = ip_batch_rate(tmp_path, "add", fresh)
        ip_del = ip_batch_rate(tmp_path, "del", fresh)
    finally:
        sh(f"ip netns del {fresh}")
    add_batch, del_batch = batch_seconds
    print(
        f"\n100k routes: batch add {COUNT / add_batch:,.0f}/s, batch delete "
        f"{COUNT / del_batch:,.0f}/s; whole commit add {COUNT / add_commit:,.0f}/s, "
        f"delete {COUNT / delete_commit:,.0f}/s; ip -batch add {ip_add:,.0f}/s, "
        f"delete {ip_del:,.0f}/s"
    )
