"""Runtime drift detection: changes to the agent's kernel objects made behind its back show
up in `get` (/flyos-agent-ops:drift) and as a drift-change notification, stay until the
operator reconciles, and the agent's own kernel requests never count as drift."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from linux_helpers import Netns, sh
from lxml import etree
from ncclient import manager as netconf
from test_linux_reconcile_links import CONFIG, make_netns

from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.config import hash_password
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

pytestmark = pytest.mark.netns

OPS = "urn:flyos:yang:flyos-agent-ops"
NS = {"ops": OPS}
PASSWORD = "drift-pass"
ROUTES = {
    "flyos-routing:routing": {
        "static": [{"prefix": f"10.{n}.0.0/24", "via": "10.0.0.2"} for n in range(1, 51)]
    }
}


@pytest.fixture
def netns() -> Iterator[Netns]:
    yield from make_netns()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return result


def quiet_after(checks: list[float], quiet: float = 1.5, timeout: float = 10.0) -> int:
    """How many checks ran, once none has started for `quiet` seconds (the kernel reports
    carrier and link-local address changes up to a second after a commit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = len(checks)
        time.sleep(quiet)
        if len(checks) == seen:
            return seen
    raise AssertionError("drift checks never stopped")


def drift_state(manager: Manager, session: Session) -> dict[str, Any]:
    state: dict[str, Any] = manager.get(session, path="/flyos-agent-ops:drift")
    return state.get("flyos-agent-ops:drift", {})


def test_monitor_reports_foreign_changes_only_until_reconcile(
    manager: Manager, session: Session, backend: LinuxBackend, netns: Netns
) -> None:
    manager.copy(session, "running", "running", config=CONFIG)
    checks: list[float] = []
    events: list[dict[str, Any]] = []

    def run_locked(check: Callable[[Any], None]) -> None:
        checks.append(time.monotonic())
        manager.run_locked(check)

    backend.watch_drift(run_locked, 3600, events.append)
    quiet = quiet_after(checks)

    manager.copy(session, "running", "running", config=CONFIG | ROUTES)  # 50 routes, ours
    time.sleep(1.5)
    assert len(checks) == quiet, "the agent's own route requests triggered a check"

    sh(f"ip -n {netns.name} route add 10.99.0.0/24 via 10.0.0.2 proto static")  # foreign
    wait_until(lambda: len(checks) > quiet, timeout=5)
    assert events == [] and drift_state(manager, session)["in-sync"] is True

    sh(f"ip -n {netns.name} route del 10.7.0.0/24 proto 177")  # ours, behind the back
    (event,) = wait_until(lambda: events, timeout=5)
    missing = {"kind": "route", "name": "10.7.0.0/24 table 254 metric 0", "drift": "missing"}
    assert event["in-sync"] is False
    assert [{k: o[k] for k in missing} for o in event["object"]] == [missing]
    state = drift_state(manager, session)
    assert state["in-sync"] is False and state["object"][0]["since"] == event["object"][0]["since"]

    manager.reconcile(session, apply=True)

    assert events[-1] == {"in-sync": True}
    cleared = drift_state(manager, session)
    assert cleared["in-sync"] is True and "object" not in cleared


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def texts(element: etree._Element, xpath: str) -> list[str]:
    return [str(node.text) for node in element.xpath(xpath, namespaces=NS)]


def test_daemon_serves_drift_in_get_and_notifies_netconf_subscribers_until_reconcile(
    make_agent: Any, netns: Netns, tmp_path: Path
) -> None:
    startup = tmp_path / "startup.json"
    startup.write_text(json.dumps(CONFIG))
    config = tmp_path / "agent.toml"
    config.write_text(
        f'[agent]\nstartup_config = "{startup}"\n\n[[user]]\nname = "admin"\n'
        f'password_hash = "{hash_password(PASSWORD)}"\ngroup = "admin"\n'
    )
    port = free_port()
    listen = f"127.0.0.1:{port}"
    agent = make_agent(
        "--backend", "linux", "--netns", netns.name, "--netconf-listen", listen, config=config
    ).start()
    with netconf.connect(
        host="127.0.0.1",
        port=port,
        username="admin",
        password=PASSWORD,
        hostkey_verify=False,
        look_for_keys=False,
        allow_agent=False,
        timeout=30,
    ) as nc:
        nc.create_subscription()
        sh(f"ip -n {netns.name} link set eth0 mtu 1300")  # configured: 1400

        note = nc.take_notification(timeout=10)
        assert note is not None, "no drift-change within 10 s"
        event = etree.fromstring(note.notification_xml.encode())
        assert texts(event, "//ops:drift-change/ops:in-sync") == ["false"]
        (drifted,) = event.xpath("//ops:drift-change/ops:object", namespaces=NS)
        assert [texts(drifted, f"ops:{leaf}") for leaf in ("kind", "name", "drift", "detail")] == [
            ["link"],
            ["eth0"],
            ["different"],
            ["mtu"],
        ]
        state = nc.get(filter=("subtree", f'<drift xmlns="{OPS}"/>')).data_ele
        assert texts(state, "//ops:drift/ops:in-sync") == ["false"]
        assert texts(state, "//ops:drift/ops:object/ops:since") == texts(drifted, "ops:since")

        nc.dispatch(etree.fromstring(f'<reconcile xmlns="{OPS}"/>'))

        cleared = nc.take_notification(timeout=10)
        assert cleared is not None
        event = etree.fromstring(cleared.notification_xml.encode())
        assert texts(event, "//ops:drift-change/ops:in-sync") == ["true"]
        assert event.xpath("//ops:drift-change/ops:object", namespaces=NS) == []
        state = nc.get(filter=("subtree", f'<drift xmlns="{OPS}"/>')).data_ele
        assert texts(state, "//ops:drift/ops:in-sync") == ["true"]
        assert state.xpath("//ops:drift/ops:object", namespaces=NS) == []
    assert netns.link("eth0", details=False)["mtu"] == 1400
    assert agent.stop() == 0
