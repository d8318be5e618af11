"""Fixtures for the nftables backend against the real kernel: one fresh namespace per test.

Each test builds a Manager with NftBackend(schema, netns) directly (no agent
process) and reads the kernel with `ip netns exec NS nft -j list ruleset`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nft_kernel import FOREIGN, Kernel, Lab, delete_namespace, new_namespace

from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import parse_path
from flyos_agent.runtime.manager import CommitResult, Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema, load_schema


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs network namespaces (root)."""
    for item in items:
        if "integration/nft" in str(item.fspath):
            item.add_marker(pytest.mark.netns)
            if os.geteuid() != 0:
                item.add_marker(pytest.mark.skip(reason="needs root for network namespaces"))


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh network namespace, deleted afterwards."""
    name = new_namespace()
    yield name
    delete_namespace(name)


@pytest.fixture
def kernel(netns: str) -> Kernel:
    return Kernel(netns)


@pytest.fixture
def foreign(kernel: Kernel) -> str:
    """A table the agent does not own in the test namespace; returns its listing."""
    kernel.nft("-f", "-", stdin=FOREIGN)
    return repr(kernel.table("ip", "foreign"))


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def backend(schema: Schema, netns: str) -> Iterator[NftBackend]:
    nft = NftBackend(schema, netns)
    yield nft
    nft.close()


@pytest.fixture
def manager(tmp_path: Path, schema: Schema, backend: NftBackend) -> Iterator[Manager]:
    mgr = Manager(schema, Journal(tmp_path / "flyos.db", schema), backend)
    mgr.start()
    yield mgr
    mgr.close()


@pytest.fixture
def session(manager: Manager) -> Session:
    return manager.open_session("root", "test")


Commit = Callable[..., CommitResult]


@pytest.fixture
def commit(manager: Manager, session: Session) -> Commit:
    """`commit(config)` replaces the whole configuration; `commit(edits=[(op, path,
    value)])` edits it; with `dry_run` nothing is applied and the candidate reset."""

    def run(
        config: dict[str, Any] | None = None,
        *,
        edits: list[tuple[str, str, Any]] | None = None,
        dry_run: bool = False,
    ) -> CommitResult:
        if config is not None:
            manager.copy(session, "running", "candidate", config=config)
        for operation, path, value in edits or []:
            edit = Edit(operation, parse_path(manager.schema, path), value)
            manager.edit(session, "candidate", [edit])
        result = manager.commit(session, dry_run=dry_run)
        if dry_run:
            manager.discard(session)
        return result

    return run


@pytest.fixture
def lab(netns: str) -> Iterator[Lab]:
    laboratory = Lab(netns)
    yield laboratory
    laboratory.close()
