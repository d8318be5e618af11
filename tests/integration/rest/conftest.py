"""Fixtures: one agent for all REST tests (they leave no pending confirmed commit and
no candidate edits behind), sessions per user, a bearer token."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rest_helpers import MAX_BODY, RestAgent, start_agent, stop_agent


@pytest.fixture(scope="session")
def rest_agent() -> Iterator[RestAgent]:
    """The agent every REST test talks to."""
    workdir = Path(tempfile.mkdtemp(prefix="fly-rest-"))
    agent = start_agent(workdir, config_extra=f"rest_max_body_bytes = {MAX_BODY}")
    yield agent
    assert stop_agent(agent) == 0, "\n".join(agent.lines[-20:])
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def admin(rest_agent: RestAgent) -> requests.Session:
    """An admin's HTTP session."""
    return rest_agent.session("admin")


@pytest.fixture
def base(rest_agent: RestAgent) -> str:
    """The agent's base URL."""
    return rest_agent.base


@pytest.fixture(scope="session")
def admin_token(rest_agent: RestAgent) -> str:
    """A bearer token for admin, made with `flyos token create`."""
    done = rest_agent.cli("token", "create", "admin", "--description", "tests")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
