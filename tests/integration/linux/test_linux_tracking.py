"""Next-hop tracking: a tracked route leaves the kernel while its next hop is unreachable
and comes back with it; operational state says which."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from linux_helpers import Netns, commit, sh

from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

CONFIG: dict[str, Any] = {
    "flyos-interfaces:interfaces": {
        "interface": [
            {
                "name": "eth0",
                "type": "ethernet",
                "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
            }
        ]
    },
    "flyos-routing:routing": {
        "static": [
            {"prefix": "10.40.0.0/24", "via": "10.0.0.2", "track": True},
            {"prefix": "10.41.0.0/24", "via": "10.0.0.2"},
        ]
    },
}


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def tracked_installed(netns: Netns) -> bool:
    return any(route["dst"] == "10.40.0.0/24" for route in netns.routes())


def untracked_linkdown(netns: Netns) -> bool:
    untracked = [r for r in netns.routes() if r["dst"] == "10.41.0.0/24"]
    return bool(untracked) and "linkdown" in untracked[0]["flags"]


def track_state(manager: Manager, session: Session) -> dict[str, Any]:
    routing = manager.get(session, path="/routing/static[prefix='10.40.0.0/24']")
    (route,) = routing["flyos-routing:routing"]["static"]
    state: dict[str, Any] = route["state"]
    return state


def test_route_is_withdrawn_while_the_next_hop_link_is_down(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)
    eventually(lambda: tracked_installed(netns))
    assert track_state(manager, session) == {"installed": True, "track-status": "reachable"}

    sh(f"ip -n {netns.peer} link set port0 down")  # eth0 loses its carrier
    eventually(lambda: not tracked_installed(netns))
    assert track_state(manager, session) == {"installed": False, "track-status": "unreachable"}
    # the kernel marks the untracked route linkdown on its own (linkwatch, asynchronously)
    eventually(lambda: untracked_linkdown(netns))

    sh(f"ip -n {netns.peer} link set port0 up")
    eventually(lambda: tracked_installed(netns))
    assert track_state(manager, session) == {"installed": True, "track-status": "reachable"}


def test_route_comes_back_after_its_interface_was_taken_down_behind_the_agents_back(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)
    eventually(lambda: tracked_installed(netns))

    sh(f"ip -n {netns.name} link set eth0 down")  # the kernel flushes routes through eth0
    eventually(lambda: track_state(manager, session)["track-status"] == "unreachable")
    assert not tracked_installed(netns)

    sh(f"ip -n {netns.name} link set eth0 up")
    eventually(lambda: tracked_installed(netns))


def test_untracking_and_deleting_a_tracked_route(
    netns: Netns, manager: Manager, session: Session
) -> None:
    commit(manager, session, CONFIG)
    eventually(lambda: tracked_installed(netns))
    config: dict[str, Any] = {
        "flyos-interfaces:interfaces": CONFIG["flyos-interfaces:interfaces"],
        "flyos-routing:routing": {"static": [{"prefix": "10.40.0.0/24", "via": "10.0.0.2"}]},
    }

    commit(manager, session, config)
    assert track_state(manager, session) == {"installed": True, "track-status": "not-tracked"}
    assert [r["dst"] for r in netns.routes()] == ["10.40.0.0/24"]

    commit(manager, session, CONFIG)
    commit(manager, session, {"flyos-interfaces:interfaces": CONFIG["flyos-interfaces:interfaces"]})
    assert netns.routes() == []
