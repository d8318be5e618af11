"""Fixtures: a real flyos-agent serving NETCONF (admin with a password and a key, a viewer)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from ncclient import manager
from nchelpers import FRAMINGS, HERE, NetconfAgent, free_port, write_config


def _agent_class(config: pytest.Config) -> Any:
    """The Agent launcher of tests/integration/conftest.py (a registered conftest plugin)."""
    plugin = config.pluginmanager.get_plugin(str(HERE.parent / "conftest.py"))
    assert plugin is not None, "tests/integration/conftest.py is not loaded"
    return plugin.Agent


@pytest.fixture(scope="module")
def netconf_agent(request: pytest.FixtureRequest) -> Iterator[NetconfAgent]:
    """One agent serving NETCONF for a whole test module."""
    base = Path(tempfile.mkdtemp(prefix="flync-"))
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = base / "id_ed25519"
    key_file.write_bytes(key.export_private_key())
    key_file.chmod(0o600)
    public = key.export_public_key().decode().strip()
    port = free_port()
    agent = _agent_class(request.config)(
        base / "state",
        base / "agent.sock",
        "--netconf-listen",
        f"127.0.0.1:{port}",
        config=write_config(base, public),
    ).start()
    yield NetconfAgent(agent, port, key_file, base / "state")
    if agent.running:
        assert agent.stop() == 0, "\n".join(agent.lines[-20:])
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=FRAMINGS, ids=["base1.0", "base1.1"])
def framing(request: pytest.FixtureRequest) -> str:
    """Each test using it runs in both framings."""
    return str(request.param)


@pytest.fixture
def nc(netconf_agent: NetconfAgent, framing: str) -> Iterator[manager.Manager]:
    """An admin session in the framing under test; leaves nothing locked or pending."""
    session = netconf_agent.connect(framing)
    yield session
    if session.connected:
        session.close_session()
