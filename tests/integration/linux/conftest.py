"""Fixtures: network namespaces made by the tests, a Manager on the Linux backend, ip -j dumps.

Each test gets an agent namespace holding two "ports" (eth0, eth1: veth ends
whose peers live in a second namespace, where 10.0.0.2 and 10.0.1.2 answer),
IPv6 duplicate address detection off (so addresses never sit 'tentative').
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from linux_helpers import Netns, sh

from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.datastore.journal import Journal
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema, load_schema


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def netns() -> Iterator[Netns]:
    tag = uuid.uuid4().hex[:8]
    ns = Netns(f"flyos-{tag}", f"flyos-{tag}-p")
    for name in (ns.name, ns.peer):
        sh(f"ip netns add {name}")
        for knob in ("all", "default"):
            sh(f"ip netns exec {name} sysctl -qw net.ipv6.conf.{knob}.accept_dad=0")
    for index in (0, 1):
        sh(f"ip -n {ns.name} link add eth{index} type veth peer name port{index} netns {ns.peer}")
        sh(f"ip -n {ns.peer} addr add 10.0.{index}.2/24 dev port{index}")
        sh(f"ip -n {ns.peer} addr add 2001:db8:{index}::2/64 dev port{index}")
        sh(f"ip -n {ns.peer} link set port{index} up")
    sh(f"ip -n {ns.peer} link set lo up")
    yield ns
    for name in (ns.name, ns.peer):
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def backend(schema: Schema, netns: Netns) -> LinuxBackend:
    return LinuxBackend(schema, netns.name, track_interval=0.2)


@pytest.fixture
def manager(tmp_path: Path, schema: Schema, backend: LinuxBackend) -> Iterator[Manager]:
    mgr = Manager(schema, Journal(tmp_path / "flyos.db", schema), backend)
    mgr.start()
    yield mgr
    mgr.close()


@pytest.fixture
def session(manager: Manager) -> Session:
    return manager.open_session("tester", "test")
