"""Fixtures: real FlyOS agents serving NETCONF (memory backend) and an Ansible runner."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flyos_collection import ANSIBLE_BIN, PASSWORD, Ansible, Host, collections_tree

from flyos_agent.config import hash_password

HERE = Path(__file__).resolve().parent


def _agent_class(config: pytest.Config) -> Any:
    """The Agent launcher of tests/integration/conftest.py (a registered conftest plugin)."""
    plugin = config.pluginmanager.get_plugin(str(HERE.parent / "conftest.py"))
    assert plugin is not None, "tests/integration/conftest.py is not loaded"
    return plugin.Agent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def agent_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config file with the admin user the inventories log in as."""
    path = tmp_path_factory.mktemp("ansible-config") / "agent.toml"
    path.write_text(
        f'[[user]]\nname = "admin"\npassword_hash = "{hash_password(PASSWORD)}"\ngroup = "admin"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def start_agents(
    request: pytest.FixtureRequest, agent_config: Path
) -> Iterator[Callable[[int], list[Host]]]:
    """`start_agents(n)`: n agents (memory backend, NETCONF on free ports) as inventory hosts."""
    base = Path(tempfile.mkdtemp(prefix="flyans-"))
    agents: list[Any] = []
    agent_class = _agent_class(request.config)

    def start(count: int) -> list[Host]:
        """Start `count` agents at once; their hosts, in order."""
        launched = []
        for _ in range(count):
            index, port = len(agents), _free_port()
            agents.append(
                agent_class(
                    base / f"state-{index}",
                    base / f"{index}.sock",
                    "--backend",
                    "memory",
                    "--netconf-listen",
                    f"127.0.0.1:{port}",
                    config=agent_config,
                )
            )
            launched.append((agents[-1], Host(f"agent{index}", port)))
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(lambda pair: pair[0].start(), launched))
        return [host for _, host in launched]

    yield start
    for agent in agents:
        if agent.running:
            assert agent.stop() == 0, "\n".join(agent.lines[-20:])
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def ansible(tmp_path_factory: pytest.TempPathFactory) -> Ansible:
    """Runs playbooks in the Ansible venv with the collection on its collections path."""
    if not (ANSIBLE_BIN / "ansible-playbook").exists():
        pytest.skip("scripts/install.sh makes .venv-ansible")
    workdir = tmp_path_factory.mktemp("ansible")
    return Ansible(workdir, collections_tree(tmp_path_factory.mktemp("collections")))
