"""`python -m bench [--tiny] [--runs N] [--out FILE] [scenario ...]`: the issue #10 suite.

Runs the chosen scenarios (default: all seven, in order), prints every
figure with the load average at the start and end, a Markdown table (what
bench/README.md shows), and writes one JSON result file (default
bench/results/bench.json). A scenario that fails is reported as such and
the others still run. `--tiny` runs everything at smoke-test sizes.

`python -m bench datastore` runs the older engine-only suite (backend none)
into bench/results/datastore.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from bench import datastore
from bench.common import RESULTS_DIR, TINY, Scale, markdown_table, print_table
from bench.suite import SCENARIOS, run_suite

DEFAULT_OUT = RESULTS_DIR / "bench.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=", ".join(SCENARIOS))
    parser.add_argument("--tiny", action="store_true", help="smoke-test sizes")
    parser.add_argument("--runs", type=int, help="runs per scenario (default 3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    return parser


def main(argv: list[str]) -> int:
    """Run the suite; exit status 1 if a scenario failed (missed targets are not failures)."""
    if argv[:1] == ["datastore"]:
        datastore.main(argv[1:])
        return 0
    args = _parser().parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    scale = TINY if args.tiny else Scale()
    if args.runs is not None:
        scale = dataclasses.replace(scale, runs=args.runs)
    result = run_suite(args.scenarios or list(SCENARIOS), scale, args.out)
    print_table(f"flyos-agent bench, load average {result.load_text()}", result.figures)
    print("\n" + markdown_table(result.figures))
    for figure in result.figures:
        if figure.profile:
            print(f"\nprofile of the miss '{figure.scenario}':\n" + "\n".join(figure.profile))
    for failure in result.failures:
        print(f"\nFAILED {failure['scenario']}: {failure['error']}")
    print(f"\nresults: {args.out}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
