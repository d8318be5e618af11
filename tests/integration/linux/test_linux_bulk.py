"""Route batches: 100k routes in and out, refusals anywhere in a batch, undo of every change kind.

The batch rates (the kernel part of the commit) are printed next to `ip -batch`
adding and deleting the same routes in a fresh namespace in the same run;
tests never assert on wall-clock time. A batch goes out in chunks of
CHUNK_MESSAGES requests and the kernel answers only the ones it refuses, so
the failure tests put refusals past the first chunk.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns, commit, ipj, sh

from flyos_agent.backends.base import Step
from flyos_agent.backends.linux.bulk import Bulk, resolve
from flyos_agent.backends.linux.netlink_batch import CHUNK_MESSAGES, MessageBatch
from flyos_agent.backends.linux.route_messages import RouteEncoder, encode_route, route_from_entry
from flyos_agent.backends.linux.routes import static_routes
from flyos_agent.datastore.tree import tree_from_plain
from flyos_agent.errors import FlyosError, OperationFailed
from flyos_agent.runtime import transaction
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema

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


PORTS: list[dict[str, Any]] = [
    {
        "name": "eth0",
        "type": "ethernet",
        "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
        "ipv6": {"address": [{"ip": "2001:db8::1", "prefix-length": 64}]},
    },
    {
        "name": "eth1",
        "type": "ethernet",
        "ipv4": {"address": [{"ip": "10.0.1.1", "prefix-length": 24}]},
    },
]
FORMS: list[dict[str, Any]] = [
    {"via": "10.0.0.2"},
    {"dev": "eth1"},
    {"via": "10.0.0.2", "dev": "eth0"},
    {"via": "10.0.1.2", "dev": "eth1", "metric": 7, "table": 100},
    {"via": "10.9.9.9", "dev": "eth0", "onlink": True},
    {"type": "blackhole", "table": "local"},
    {"nexthop": [{"via": "10.0.0.2", "weight": 3}, {"via": "10.0.1.2", "dev": "eth1"}]},
]
V6_FORMS: list[dict[str, Any]] = [
    {"via": "2001:db8::2"},
    {"via": "2001:db8::2", "dev": "eth0", "metric": 50},
    {"type": "unreachable", "table": 100},
]


def with_routes(routes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "flyos-interfaces:interfaces": {"interface": PORTS},
        "flyos-routing:routing": {"static": routes},
    }


def host_routes(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"prefix": f"10.{100 + i // 256}.{i % 256}.0/24"} for i in range(start, start + count)]


def planned(manager: Manager, session: Session, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The route operations of a dry-run commit of `config`, in step order."""
    manager.copy(session, "running", "candidate", config=config)
    plan = manager.commit(session, dry_run=True).plan
    manager.discard(session)
    assert plan is not None
    return [step for step in plan if step["op"].startswith("route")]


def static_path(prefix: str) -> str:
    return f"/flyos-routing:routing/static[prefix='{prefix}']"


def kernel_routes(netns: Netns) -> dict[str, tuple[Any, ...]]:
    """The agent's routes by destination: gateway, device, metric, table."""
    return {
        route["dst"]: (
            route.get("gateway"),
            route.get("dev"),
            route.get("metric"),
            route.get("table", "main"),
        )
        for route in netns.routes()
    }


def test_the_fast_encoder_packs_exactly_what_encode_route_packs(schema: Schema) -> None:
    routes = [
        {"prefix": f"10.{50 + n}.{4 * copy}.0/{24 - n % 3}", **form}
        for n, form in enumerate(FORMS)
        for copy in (0, 1)
    ]
    routes += [
        {"prefix": f"2001:db8:{50 + n}:{copy}::/64", **form}
        for n, form in enumerate(V6_FORMS)
        for copy in (0, 1)
    ]
    entries = list(static_routes(tree_from_plain(schema, with_routes(routes))).values())
    lookup = partial(resolve, {"eth0": 7, "eth1": 1234567})
    fast, reference = MessageBatch(), MessageBatch()
    encoder = RouteEncoder({}, lookup)

    for op in ("add", "replace", "del"):
        for entry in entries:
            route = route_from_entry(entry, {})
            encoder.add_entry(fast, entry, op)
            encoder.add_route(fast, route, op)
            reference.add(encode_route(route, op, lookup))
            reference.add(encode_route(route, op, lookup))

    assert len(fast) == 6 * len(entries)
    assert fast.messages == reference.messages


def test_a_refusal_in_a_later_chunk_names_its_route_and_reverts_the_batch(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, with_routes([]))
    config = with_routes([{**route, "via": "10.0.0.2"} for route in host_routes(5000)])
    order = [step["dst"] for step in planned(manager, session, config)]
    victim = order[2 * CHUNK_MESSAGES + 100]  # in the third chunk
    sh(f"ip -n {netns.name} route add {victim} via 10.0.1.2")
    before = netns.dump()

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, config)

    assert failure.value.path == static_path(victim)
    assert "EEXIST" in failure.value.message
    assert netns.dump_like(before) == before


def test_a_batch_the_kernel_refuses_whole_fails_on_its_first_route_and_changes_nothing(
    netns: Netns, manager: Manager, session: Session, tmp_path: Path
) -> None:
    commit(manager, session, with_routes([]))
    routes = [{**route, "via": "10.0.0.2"} for route in host_routes(5000)]
    script = tmp_path / "foreign.batch"
    script.write_text("".join(f"route add {r['prefix']} via 10.0.1.2\n" for r in routes))
    sh(f"ip -n {netns.name} -batch {script}")
    first = planned(manager, session, with_routes(routes))[0]["dst"]
    before = netns.dump()

    with pytest.raises(FlyosError) as failure:
        commit(manager, session, with_routes(routes))

    assert failure.value.path == static_path(first)
    assert "EEXIST" in failure.value.message
    assert netns.dump_like(before) == before


def test_a_later_failure_undoes_every_kind_of_route_change_in_a_batch(
    netns: Netns, manager: Manager, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = [{**route, "via": "10.0.0.2", "dev": "eth0"} for route in host_routes(3000)]
    commit(manager, session, with_routes(base))
    replaced = [{**route, "via": "10.0.1.2", "dev": "eth1"} for route in base[:1000]]
    moved = [{**route, "metric": 30} for route in base[1000:2000]]
    added = [{**route, "dev": "eth1", "table": 100} for route in host_routes(500, 3000)]
    added += [{"prefix": f"2001:db8:{100 + i}::/48", "via": "2001:db8::2"} for i in range(500)]
    changed = with_routes(replaced + moved + base[2000:2500] + added)  # the last 500 deleted
    plan = planned(manager, session, changed)
    counts = Counter(step["op"] for step in plan)
    assert counts == {
        "route replace": 1000,
        "route move": 1000,
        "route del": 500,
        "route add": 1000,
    }
    prefix = base[1000]["prefix"]
    old = {"op": "route del", "dst": prefix, "table": 254, "gateway": "10.0.0.2", "dev": "eth0"}
    assert {
        **old,
        "op": "route move",
        "metric": 30,
        "proto": 177,
        "from": {**old, "metric": 0, "proto": 177},
    } in plan
    before = netns.dump()
    prepare = transaction.Transaction.prepare

    def prepare_then_fail(self: transaction.Transaction) -> list[Step]:
        def refuse() -> None:
            raise OperationFailed("injected failure after the route batches")

        steps = prepare(self)
        steps.append(Step({"op": "refuse"}, refuse, lambda: None))
        return steps

    monkeypatch.setattr(transaction.Transaction, "prepare", prepare_then_fail)
    with pytest.raises(FlyosError, match="injected failure"):
        commit(manager, session, changed)
    assert netns.dump_like(before) == before

    monkeypatch.setattr(transaction.Transaction, "prepare", prepare)
    commit(manager, session, changed)
    expected = {r["prefix"]: ("10.0.1.2", "eth1", None, "main") for r in replaced}
    expected |= {r["prefix"]: ("10.0.0.2", "eth0", 30, "main") for r in moved}
    expected |= {r["prefix"]: ("10.0.0.2", "eth0", None, "main") for r in base[2000:2500]}
    expected |= {r["prefix"]: (None, "eth1", None, "100") for r in added[:500]}
    expected |= {r["prefix"]: ("2001:db8::2", "eth0", 1024, "main") for r in added[500:]}
    assert kernel_routes(netns) == expected
