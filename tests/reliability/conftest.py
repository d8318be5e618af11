"""Fixtures of the reliability campaigns: namespaces, restartable agents, figure reports.

The helpers themselves live in agent_harness.py. A module that wants its
own namespace prefix overrides the `netns_prefix` fixture.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .agent_harness import AgentProcess, Namespace, campaign_full, make_agent, namespace

_REPORTS: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def netns_prefix() -> str:
    """Prefix of the namespaces this module creates (unique per engineer/campaign)."""
    return "h3-"


@pytest.fixture
def netns(netns_prefix: str) -> Iterator[Namespace]:
    """A fresh namespace with ports eth0..eth2 (removed at the end); needs root."""
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    with namespace(netns_prefix) as ns:
        yield ns


@pytest.fixture
def agent_factory(netns: Namespace) -> Iterator[Callable[..., AgentProcess]]:
    """`agent_factory(**agent_config)`: an AgentProcess (not started) on the Linux
    backend in `netns`, with NETCONF users; every one is SIGKILLed at the end."""
    made: list[AgentProcess] = []
    bases: list[Path] = []

    def make(**agent_config: Any) -> AgentProcess:
        base = Path(tempfile.mkdtemp(prefix="flyrel-"))  # short: AF_UNIX paths are short
        bases.append(base)
        agent = make_agent(base, netns.name, agent_config)
        made.append(agent)
        return agent

    yield make
    for agent in made:
        agent.kill()
    for base in bases:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def campaign_report() -> Callable[[str, dict[str, Any]], None]:
    """`campaign_report(title, figures)`: figures printed in pytest's terminal summary."""

    def report(title: str, figures: dict[str, Any]) -> None:
        _REPORTS.append((title, figures))

    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures the campaigns reported (short or full size)."""
    if not _REPORTS:
        return
    size = "full" if campaign_full() else "short (CI)"
    terminalreporter.section(f"reliability campaigns: {size}")
    for title, figures in _REPORTS:
        line = ", ".join(f"{key}={value}" for key, value in figures.items())
        terminalreporter.write_line(f"{title}: {line}")
