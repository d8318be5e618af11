"""Scenario 5, validation: a full validate of an N-route configuration vs libyang 2.8.

"Full validate" is what libyang does with the same input: from the RFC 7951
JSON text to a verdict on the whole tree. Ours: json.loads, tree_from_plain
(the datastore tree, every value parsed and type-checked as it is built)
and validate_tree (every constraint of the whole tree: mandatory, unique,
leafrefs, must/when, counts) -- the work Manager.validate does on a
datastore, plus building the tree. Reference: libyang parse_data_mem
(strict, config only) with validation, in one call. Both must find the
data valid. Runs alternate.

Manager.validate runs outside the Manager's MutationLock, so with the cyclic
GC on, and so does the figure; the notes also give our time under that lock
(GC paused, as copy-config and commit run), to show what the GC costs.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, Scale, route_config, timed
from bench.profiling import cprofile_top
from flyos_agent.datastore.tree import tree_from_plain
from flyos_agent.datastore.validate import validate_tree
from flyos_agent.runtime.locking import MutationLock
from flyos_agent.schema import Schema, load_schema

YANG_DIR = Path(__file__).resolve().parents[1] / "yang"
RATIO_LIMIT = 1.0


def ours(schema: Schema, text: str) -> tuple[float, float, float]:
    """Seconds of (json.loads, tree_from_plain, validate_tree) on `text`."""
    start = time.perf_counter()
    data = json.loads(text)
    parsed = time.perf_counter()
    tree = tree_from_plain(schema, data)
    built = time.perf_counter()
    errors = validate_tree(schema, tree)
    validated = time.perf_counter()
    if errors:
        raise RuntimeError(f"the benchmark configuration is invalid: {errors[0]}")
    return parsed - start, built - parsed, validated - built


def libyang_context() -> Any:
    """A libyang context with every module of yang/ loaded."""
    import libyang

    context = libyang.Context(str(YANG_DIR))
    for path in sorted(YANG_DIR.glob("*.yang")):
        context.load_module(path.stem.partition("@")[0])
    return context


def reference(context: Any, text: str) -> float:
    """Seconds of libyang parsing and validating `text`."""

    def parse() -> None:
        tree = context.parse_data_mem(text, "json", strict=True, no_state=True)
        tree.free()

    return timed(parse)


def run(scale: Scale) -> list[Figure]:
    """The validation figure (profiled if it misses its target)."""
    schema = load_schema()
    text = json.dumps(route_config(scale.routes))
    context = libyang_context()
    totals, loads, builds, checks, paused, theirs = [], [], [], [], [], []
    try:
        for _ in range(max(scale.runs, 3)):
            load, build, check = ours(schema, text)
            loads.append(load)
            builds.append(build)
            checks.append(check)
            totals.append(load + build + check)
            theirs.append(reference(context, text))
            with MutationLock():
                paused.append(sum(ours(schema, text)))
    finally:
        context.destroy()
    figure = Figure(
        scenario=f"5. full validate of {scale.routes:,} routes from JSON text",
        unit="s",
        ours=totals,
        reference=theirs,
        reference_name="libyang 2.8 parse+validate",
        target=f"ratio <= {RATIO_LIMIT}",
        ratio_limit=RATIO_LIMIT,
        notes={
            "json.loads median s": statistics.median(loads),
            "tree_from_plain median s": statistics.median(builds),
            "validate_tree median s": statistics.median(checks),
            "ours with the GC paused (MutationLock) median s": statistics.median(paused),
        },
    )
    if not figure.met:
        figure.profile = cprofile_top(lambda: ours(schema, text))
    return [figure]
