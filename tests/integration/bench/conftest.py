"""The bench smoke tests import the `bench` package from the repository root, and need root."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = str(Path(__file__).resolve().parents[3])
if REPO not in sys.path:
    sys.path.insert(0, REPO)  # `pytest` run directly does not put the repository on sys.path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here makes network namespaces (root)."""
    for item in items:
        if "integration/bench" in str(item.fspath):
            item.add_marker(pytest.mark.netns)
            if os.geteuid() != 0:
                item.add_marker(pytest.mark.skip(reason="needs root for network namespaces"))
