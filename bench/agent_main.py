"""`python -m bench.agent_main ARGS`: flyos-agent's own main (kept so older result
files and scripts that launch agents this way still work)."""

from __future__ import annotations

import sys

from flyos_agent.daemon import main

if __name__ == "__main__":
    sys.exit(main())
