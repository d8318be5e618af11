"""Fixtures shared by the runtime unit tests.

A module seeds running by overriding `base_config`, and passes Manager/Journal options by
overriding `manager_options`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import make_manager

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema, load_schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def backend(schema: Schema) -> MemoryBackend:
    return MemoryBackend(schema)


@pytest.fixture
def base_config() -> dict[str, Any] | None:
    """Configuration copied into running before the test; None leaves running empty."""
    return None


@pytest.fixture
def manager_options() -> dict[str, Any]:
    """Extra keyword arguments for `make_manager`."""
    return {}


@pytest.fixture
def manager(
    tmp_path: Path,
    schema: Schema,
    backend: MemoryBackend,
    base_config: dict[str, Any] | None,
    manager_options: dict[str, Any],
) -> Iterator[Manager]:
    mgr = make_manager(tmp_path / "flyos.db", schema, backend, base=base_config, **manager_options)
    yield mgr
    mgr.close()


@pytest.fixture
def session(manager: Manager) -> Session:
    return manager.open_session("alice", "test")


@pytest.fixture
def alice(manager: Manager) -> Session:
    return manager.open_session("alice", "netconf")


@pytest.fixture
def bob(manager: Manager) -> Session:
    return manager.open_session("bob", "rest")
