"""The bench unit tests import the `bench` package from the repository root."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[3])
if REPO not in sys.path:
    sys.path.insert(0, REPO)  # `pytest` run directly does not put the repository on sys.path
