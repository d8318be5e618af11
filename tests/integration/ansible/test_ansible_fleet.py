"""One play against five agents at once converges them all, and a second run changes nothing.

The agents are five processes on five ports, one inventory host each; every
host gets the same VRF and route and its own interface address and host name.
The end state is read back from each agent with ncclient, not with the
collection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flyos_collection import PASSWORD, Ansible, Host, PlaybookRun
from lxml import etree
from ncclient import manager

AGENTS = 5
TASKS: list[dict[str, Any]] = [
    {
        "name": "vrf",
        "flyos.agent.vrfs": {"config": [{"name": "blue", "table": 100}]},
        "register": "vrf",
    },
    {
        "name": "interface",
        "flyos.agent.interfaces": {
            "config": [
                {
                    "name": "dummy0",
                    "type": "dummy",
                    "vrf": "blue",
                    "ipv4": {"address": [{"ip": "10.99.{{ index }}.1", "prefix_length": 24}]},
                }
            ]
        },
        "register": "interface",
    },
    {
        "name": "route",
        "flyos.agent.static_routes": {
            "config": [{"prefix": "0.0.0.0/0", "via": "10.99.{{ index }}.254", "vrf": "blue"}]
        },
        "register": "route",
    },
    {
        "name": "hostname",
        "flyos.agent.system": {"config": {"hostname": "{{ inventory_hostname }}"}},
        "register": "hostname",
    },
]
NAMES = [task["register"] for task in TASKS]


def play(suffix: str) -> dict[str, Any]:
    """The play; its results are registered as `<task>_<suffix>`."""
    tasks = [{**task, "register": f"{task['register']}_{suffix}"} for task in TASKS]
    return {
        "hosts": "all",
        "gather_facts": False,
        "tasks": tasks,
        "save": [task["register"] for task in tasks],
    }


@pytest.fixture(scope="module")
def fleet(start_agents: Callable[[int], list[Host]]) -> list[Host]:
    hosts = start_agents(AGENTS)
    for index, host in enumerate(hosts):
        host.extra["index"] = index
    return hosts


@pytest.fixture(scope="module")
def run(ansible: Ansible, fleet: list[Host]) -> PlaybookRun:
    done = ansible.play([play("first"), play("second")], fleet)
    assert done.returncode == 0, done.output[-8000:]
    return done


def running(host: Host) -> etree._Element:
    with manager.connect(
        host="127.0.0.1",
        port=host.port,
        username="admin",
        password=PASSWORD,
        hostkey_verify=False,
        look_for_keys=False,
        allow_agent=False,
        timeout=30,
    ) as session:
        element: etree._Element = session.get_config("running").data_ele
        return element


def test_the_first_run_changes_every_agent_and_the_second_none(
    run: PlaybookRun, fleet: list[Host]
) -> None:
    for host in fleet:
        for name in NAMES:
            assert run.result(host.name, f"{name}_first")["changed"], (host.name, name)
            assert not run.result(host.name, f"{name}_second")["changed"], (host.name, name)


def test_every_agent_holds_its_configuration(run: PlaybookRun, fleet: list[Host]) -> None:
    for index, host in enumerate(fleet):
        data = running(host)
        text = {e.tag.rpartition("}")[2]: e.text for e in data.iter() if isinstance(e.tag, str)}
        assert text["hostname"] == host.name
        assert text["ip"] == f"10.99.{index}.1"
        assert text["via"] == f"10.99.{index}.254"
        assert text["table"] == "100"
