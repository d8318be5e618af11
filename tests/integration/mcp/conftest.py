"""Fixtures: one agent for every MCP test, serving MCP at /mcp on a free port.

The agent runs `--backend memory --netconf-listen off --rest-listen
127.0.0.1:<port>` with admin, operator and viewer users (the REST tests'
helpers start it) and a short `mcp_confirm_timeout`. Tests leave no pending
confirmed commit and no route behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import CONFIRM_TIMEOUT, RestAgent, start_agent, stop_agent


@pytest.fixture(scope="session")
def mcp_agent() -> Iterator[RestAgent]:
    """The agent every MCP test talks to."""
    workdir = Path(tempfile.mkdtemp(prefix="fly-mcp-"))
    extra = f"mcp_confirm_timeout = {CONFIRM_TIMEOUT}"
    agent = start_agent(workdir, "--backend", "memory", config_extra=extra)
    yield agent
    assert stop_agent(agent) == 0, "\n".join(agent.lines[-20:])
    shutil.rmtree(workdir, ignore_errors=True)
