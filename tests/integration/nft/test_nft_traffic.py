"""Real packets through the committed rules: veth pairs between namespaces."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Commit
from nft_kernel import Lab, interfaces, sh

from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

CLIENT = """
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as conn:
    print(conn.recv(64).decode())
"""


@pytest.fixture
def counters(manager: Manager, session: Session) -> Callable[[str], dict[int, Any]]:
    """`counters("/acls" or "/nat")`: the state of the first ACL's or the NAT rules."""

    def read(top: str) -> dict[int, Any]:
        data = manager.get(session, path=top)
        if top == "/acls":
            rules = data["flyos-acl:acls"]["acl"][0]["rule"]
        else:
            rules = data["flyos-nat:nat"]["rule"]
        return {rule["sequence"]: rule.get("state") for rule in rules}

    return read


def connect(ns: str, host: str, port: int) -> str | None:
    """The peer address the server saw, or None if the connection failed."""
    done = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, host, str(port)],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def ping(ns: str, host: str) -> bool:
    done = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-c1", "-W1", host], capture_output=True, check=False
    )
    return done.returncode == 0


def test_an_acl_blocks_ping_and_lets_tcp_through(
    commit: Commit, lab: Lab, counters: Callable[[str], dict[int, Any]]
) -> None:
    peer = lab.namespace()
    lab.link((lab.agent, "va", "10.99.0.1/24"), (peer, "vb", "10.99.0.2/24"))
    lab.serve(lab.agent, 7777)
    assert any(ping(peer, "10.99.0.1") for _ in range(5))  # the link is up
    commit(
        {
            "flyos-interfaces:interfaces": interfaces("va"),
            "flyos-acl:acls": {
                "acl": [
                    {
                        "name": "in",
                        "default-action": "drop",
                        "rule": [
                            {"sequence": 10, "action": "drop", "protocol": "icmp"},
                            {
                                "sequence": 20,
                                "action": "accept",
                                "protocol": "tcp",
                                "destination": {"port": ["7777"]},
                            },
                            {"sequence": 30, "action": "accept", "ct-state": ["established"]},
                        ],
                    }
                ],
                "interface": [{"name": "va", "ingress": "in"}],
            },
        }
    )
    assert not ping(peer, "10.99.0.1")
    assert not ping(peer, "10.99.0.1")
    assert connect(peer, "10.99.0.1", 7777) == "10.99.0.2"
    state = counters("/acls")
    assert int(state[10]["packets"]) == 2 and int(state[10]["bytes"]) == 2 * 84
    assert int(state[20]["packets"]) >= 1
    commit(
        edits=[
            ("delete", "/acls/acl[name='in']/rule[sequence='10']", None),
            (
                "merge",
                "/acls/acl[name='in']/rule[sequence='5']",
                {"action": "accept", "protocol": "icmp", "icmp-type": 8},
            ),
        ]
    )
    assert ping(peer, "10.99.0.1")
    assert int(counters("/acls")[5]["packets"]) == 1


def test_dnat_forwards_a_port(
    commit: Commit, lab: Lab, counters: Callable[[str], dict[int, Any]]
) -> None:
    peer = lab.namespace()
    lab.link((lab.agent, "va", "10.99.0.1/24"), (peer, "vb", "10.99.0.2/24"))
    lab.serve(lab.agent, 7777)
    assert connect(peer, "10.99.0.1", 8080) is None
    commit(
        {
            "flyos-nat:nat": {
                "rule": [
                    {
                        "sequence": 10,
                        "action": "dnat",
                        "protocol": "tcp",
                        "destination": {"port": ["8080"]},
                        "to-address": "10.99.0.1",
                        "to-port": "7777",
                    }
                ]
            }
        }
    )
    assert connect(peer, "10.99.0.1", 8080) == "10.99.0.2"
    assert int(counters("/nat")[10]["packets"]) == 1


def test_masquerade_hides_the_source(
    commit: Commit, lab: Lab, counters: Callable[[str], dict[int, Any]]
) -> None:
    client, far = lab.namespace(), lab.namespace()
    lab.link((lab.agent, "vb", "10.98.0.1/24"), (client, "eth0", "10.98.0.2/24"))
    lab.link((lab.agent, "vc", "10.97.0.1/24"), (far, "eth0", "10.97.0.2/24"))
    sh("ip", "route", "add", "default", "via", "10.98.0.1", ns=client)
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=lab.agent)
    lab.serve(far, 7777)
    assert connect(client, "10.97.0.2", 7777) is None  # the far side has no route back
    commit(
        {
            "flyos-interfaces:interfaces": interfaces("vc"),
            "flyos-nat:nat": {
                "rule": [{"sequence": 10, "action": "masquerade", "out-interface": "vc"}]
            },
        }
    )
    assert connect(client, "10.97.0.2", 7777) == "10.97.0.1"
    assert int(counters("/nat")[10]["packets"]) == 1
