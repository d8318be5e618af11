#!/usr/bin/env bash
# Install everything (idempotent), then run lint, type checks and the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k confirmed).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
