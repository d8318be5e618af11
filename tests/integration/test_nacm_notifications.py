"""NACM on notifications (RFC 8341 3.4.6): a real agent, real ncclient subscriptions.

Each subscriber gets a notification only as its NACM rules let it read it: a
viewer denied read on /routing sees a commit's interface edits but not its route
edits (and no notification for a route-only commit); a rule denying the
notification name netconf-config-change silences commits for its group; drift
objects the viewer may not read are left out of drift-change. Admins get
everything, and every drop counts in /nacm/denied-notifications.

Missing notifications are proven by order, not by timeouts: a session's
notifications arrive in commit order, so when the first one a session receives
is a later commit's, the earlier ones were dropped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ncclient.transport.session
import pytest
from lxml import etree
from ncclient import manager as ncmanager

from flyos_agent.config import hash_password

ncclient.transport.session.TICK = 0.001  # type: ignore[attr-defined]
PASSWORD = "notify-pass"
USERS = {"alice": "admin", "vera": "viewer", "xena": "operator"}
NS = {
    "ncn": "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications",
    "ops": "urn:flyos:yang:flyos-agent-ops",
    "acm": "urn:ietf:params:xml:ns:yang:ietf-netconf-acm",
}
QUIET = "/ietf-netconf-acm:nacm/groups/group[name='quiet']"
QUIET_TARGET = "/nacm:nacm/nacm:groups/nacm:group[nacm:name='quiet']"
NACM: dict[str, Any] = {
    "groups": {"group": [{"name": "quiet", "user-name": ["xena"]}]},
    "rule-list": [
        {
            "name": "10-viewers",
            "group": ["viewer"],
            "rule": [
                {
                    "name": "10-no-routing",
                    "path": "/flyos-routing:routing",
                    "access-operations": "read",
                    "action": "deny",
                },
                {
                    "name": "20-no-route-drift",
                    "path": "/flyos-agent-ops:drift/object[kind='route']",
                    "access-operations": "read",
                    "action": "deny",
                },
            ],
        },
        {
            "name": "20-quiet",
            "group": ["quiet"],
            "rule": [
                {
                    "name": "10-no-config-change",
                    "module-name": "ietf-netconf-notifications",
                    "notification-name": "netconf-config-change",
                    "access-operations": "read",
                    "action": "deny",
                }
            ],
        },
    ],
}
BASE: dict[str, Any] = {
    "flyos-system:system": {"hostname": "notify"},
    "flyos-interfaces:interfaces": {"interface": [{"name": "eth1", "type": "ethernet"}]},
    "flyos-routing:routing": {"static": [{"prefix": "10.1.0.0/24", "via": "192.0.2.1"}]},
    "ietf-netconf-acm:nacm": NACM,
}
ROUTE = "/frt:routing/frt:static[frt:prefix='{}']"
INTERFACE = "/fif:interfaces/fif:interface[fif:name='{}']"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _users_toml() -> str:
    secret = hash_password(PASSWORD)
    return "".join(
        f'[[user]]\nname = "{name}"\npassword_hash = "{secret}"\ngroup = "{group}"\n'
        for name, group in USERS.items()
    )


def _agent_class(request: pytest.FixtureRequest) -> Any:
    plugin = request.config.pluginmanager.get_plugin(str(Path(__file__).with_name("conftest.py")))
    assert plugin is not None, "tests/integration/conftest.py is not loaded"
    return plugin.Agent


def connect(port: int, user: str) -> Any:
    return ncmanager.connect(
        host="127.0.0.1", port=port, username=user, password=PASSWORD,
        hostkey_verify=False, look_for_keys=False, allow_agent=False, timeout=30,
    )  # fmt: skip


def next_note(nc: Any) -> etree._Element:
    """The next notification of `nc` (fails after 10 s)."""
    note = nc.take_notification(timeout=10)
    assert note is not None, "no notification within 10 s"
    return etree.fromstring(note.notification_xml.encode())


def elements(note: etree._Element, xpath: str) -> list[etree._Element]:
    found = note.xpath(xpath, namespaces=NS)
    assert isinstance(found, list)
    return [item for item in found if isinstance(item, etree._Element)]


def targets(note: etree._Element) -> set[str]:
    """The edit targets of a netconf-config-change, prefixes as the agent declares them."""
    return {str(target.text) for target in elements(note, "//ncn:edit/ncn:target")}


def denied_notifications(nc: Any) -> int:
    reply = nc.get(filter=("subtree", f'<nacm xmlns="{NS["acm"]}"><denied-notifications/></nacm>'))
    (count,) = reply.data_ele.xpath("//acm:denied-notifications/text()", namespaces=NS)
    return int(count)


# ---------------------------------------------------------------------- commit notifications


@pytest.fixture(scope="module")
def agent(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """An agent (backend none) serving IPC and NETCONF, seeded with BASE (rules included)."""
    base = tmp_path_factory.mktemp("notify")
    (base / "agent.toml").write_text(_users_toml(), encoding="utf-8")
    port = _free_port()
    started = _agent_class(request)(
        base / "state", Path(f"/tmp/h10-notify-{os.getpid()}.sock"),
        "--netconf-listen", f"127.0.0.1:{port}", config=base / "agent.toml",
    ).start()  # fmt: skip
    started.port = port
    with started.client() as root:
        root.ok("copy", {"source": "inline", "target": "running", "config": BASE})
    yield started
    assert started.stop() == 0, "\n".join(started.lines[-20:])


@pytest.fixture(scope="module")
def subscribed(agent: Any) -> Iterator[dict[str, Any]]:
    """One subscribed NETCONF session per user, for the whole module."""
    sessions = {user: connect(agent.port, user) for user in USERS}
    for nc in sessions.values():
        nc.create_subscription()
    yield sessions
    for nc in sessions.values():
        nc.close_session()


@pytest.fixture
def root(agent: Any) -> Iterator[Any]:
    """An admin over IPC (root on the local socket): the commits the tests watch."""
    with agent.client() as client:
        yield client


def commit(root: Any, *edits: dict[str, Any]) -> None:
    root.ok("edit", {"target": "running", "edits": list(edits)})


def route(prefix: str) -> dict[str, Any]:
    value = {"prefix": prefix, "via": "192.0.2.1"}
    return {"operation": "create", "path": f"/routing/static[prefix='{prefix}']", "value": value}


def interface(name: str, description: str) -> dict[str, Any]:
    path = f"/interfaces/interface[name='{name}']"
    value = {"name": name, "type": "ethernet", "description": description}
    return {"operation": "replace", "path": path, "value": value}


def test_viewer_denied_routing_gets_interface_edits_only(
    subscribed: dict[str, Any], root: Any
) -> None:
    alice, vera = subscribed["alice"], subscribed["vera"]
    before = denied_notifications(alice)

    commit(root, route("10.5.0.0/24"))
    commit(root, route("10.6.0.0/24"), interface("eth1", "uplink"))

    assert targets(next_note(alice)) == {ROUTE.format("10.5.0.0/24")}
    assert targets(next_note(alice)) == {ROUTE.format("10.6.0.0/24"), INTERFACE.format("eth1")}
    # vera's first notification is the second commit's, without its route
    assert targets(next_note(vera)) == {INTERFACE.format("eth1")}
    # dropped: vera the route-only commit, xena (netconf-config-change denied) both
    assert denied_notifications(alice) == before + 3


def test_notification_name_rule_silences_commits_for_its_group(
    subscribed: dict[str, Any], root: Any
) -> None:
    alice, vera, xena = subscribed["alice"], subscribed["vera"], subscribed["xena"]
    before = denied_notifications(alice)
    member = {"operation": "create", "path": f"{QUIET}/user-name", "value": ["xena"]}
    try:
        commit(root, {"operation": "replace", "path": "/system/hostname", "value": "quiet"})
        commit(root, {"operation": "delete", "path": f"{QUIET}/user-name[.='xena']"})
        commit(root, interface("eth7", "after"))

        # xena's first notification is the one after she left group 'quiet'
        assert targets(next_note(xena)) == {INTERFACE.format("eth7")}
        # vera may not read /nacm (default-deny-all): that edit is dropped for her
        assert targets(next_note(vera)) == {"/fsys:system"}
        assert targets(next_note(vera)) == {INTERFACE.format("eth7")}
        assert targets(next_note(alice)) == {"/fsys:system"}
        assert targets(next_note(alice)) == {QUIET_TARGET}
        assert targets(next_note(alice)) == {INTERFACE.format("eth7")}
    finally:
        commit(root, member)
    assert targets(next_note(alice)) == {QUIET_TARGET}
    # hostname (xena by name), the two /nacm edits (vera and xena may not read /nacm)
    assert denied_notifications(alice) == before + 5


# ---------------------------------------------------------------------- drift-change

DRIFT_CONFIG: dict[str, Any] = {
    "flyos-interfaces:interfaces": {
        "interface": [
            {
                "name": "eth0",
                "type": "ethernet",
                "mtu": 1400,
                "ipv4": {"address": [{"ip": "10.0.0.1", "prefix-length": 24}]},
            }
        ]
    },
    "flyos-routing:routing": {"static": [{"prefix": "10.7.0.0/24", "via": "10.0.0.2"}]},
    "ietf-netconf-acm:nacm": NACM,
}


def sh(command: str) -> None:
    subprocess.run(command, shell=True, check=True, capture_output=True)


@pytest.fixture
def netns() -> Iterator[str]:
    """A namespace (h10-*) holding eth0, a veth whose peer is up beside it; removed after."""
    name = f"h10-{uuid.uuid4().hex[:8]}"
    try:
        sh(f"ip netns add {name}")
        sh(f"ip netns exec {name} sysctl -qw net.ipv6.conf.all.accept_dad=0")
        sh(f"ip netns exec {name} sysctl -qw net.ipv6.conf.default.accept_dad=0")
        sh(f"ip -n {name} link add eth0 type veth peer name peer0")
        sh(f"ip -n {name} link set peer0 up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def drifted(note: etree._Element) -> list[tuple[str, str, str]]:
    """(kind, name, drift) of each object of a drift-change."""
    return [
        (
            str(item.findtext("ops:kind", namespaces=NS)),
            str(item.findtext("ops:name", namespaces=NS)),
            str(item.findtext("ops:drift", namespaces=NS)),
        )
        for item in elements(note, "//ops:drift-change/ops:object")
    ]


@pytest.mark.netns
def test_drift_change_leaves_out_objects_the_viewer_may_not_read(
    make_agent: Any, netns: str, tmp_path: Path
) -> None:
    startup = tmp_path / "startup.json"
    startup.write_text(json.dumps(DRIFT_CONFIG), encoding="utf-8")
    config = tmp_path / "agent.toml"
    config.write_text(f'[agent]\nstartup_config = "{startup}"\n\n{_users_toml()}', encoding="utf-8")
    port = _free_port()
    agent = make_agent(
        "--backend", "linux", "--netns", netns, "--netconf-listen", f"127.0.0.1:{port}",
        config=config,
    ).start()  # fmt: skip
    route = ("route", "10.7.0.0/24 table 254 metric 0", "missing")
    link = ("link", "eth0", "different")
    with connect(port, "alice") as alice, connect(port, "vera") as vera:
        alice.create_subscription()
        vera.create_subscription()
        before = denied_notifications(alice)

        sh(f"ip -n {netns} route del 10.7.0.0/24 proto 177")
        assert drifted(next_note(alice)) == [route]
        sh(f"ip -n {netns} link set eth0 mtu 1300")
        assert sorted(drifted(next_note(alice))) == [link, route]

        # vera may not read route drift: the route-only drift-change never reached her
        assert drifted(next_note(vera)) == [link]
        assert denied_notifications(alice) == before + 1
    assert agent.stop() == 0
