"""Run benchmark suites: `python -m bench [suite ...]` (default: all)."""

from __future__ import annotations

import sys

from bench import datastore, netconf

SUITES = {"datastore": datastore.main, "netconf": netconf.main}


def main() -> None:
    chosen = sys.argv[1:] or list(SUITES)
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        sys.exit(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    for suite in chosen:
        SUITES[suite]([])


if __name__ == "__main__":
    main()
