"""/openapi.json: generated from the compiled schema, and schemathesis against it.

schemathesis (its CLI, as a user runs it) fuzzes every operation of the
document against a fresh agent, authenticated with a bearer token, checking
that no response is a 5xx and that every response matches the document. The
number of examples (positive and negative together) is bounded so the run
stays within the suite's budget: 12 per operation for the ~60 operations of
/api/v1, /restconf/operations and discovery, 3 per operation for the ~170
RESTCONF data-resource operations; FLYOS_REST_FUZZ_EXAMPLES=N sets both to N
for a thorough run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rest_helpers import RestAgent, start_agent, stop_agent

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
DATA_RESOURCES = r"^/restconf/data/flyos-"
THOROUGH = os.environ.get("FLYOS_REST_FUZZ_EXAMPLES")


def test_the_document_carries_the_yang_constraints(admin: requests.Session, base: str) -> None:
    document = admin.get(f"{base}/openapi.json").json()
    assert document["openapi"].startswith("3.0")
    paths = document["paths"]
    assert "/api/v1/route/add" in paths
    assert "/restconf/data/flyos-routing:routing/static={prefix}" in paths
    schemas = document["components"]["schemas"]
    static = schemas["flyos-routing.routing.static__edit"]
    assert static["required"] == ["prefix"] and static["additionalProperties"] is False
    prefix = static["properties"]["prefix"]["anyOf"][0]
    assert prefix["pattern"].startswith("^(?:") and prefix["pattern"].endswith(")$")
    assert static["properties"]["type"]["enum"] == [
        "unicast",
        "blackhole",
        "unreachable",
        "prohibit",
    ]
    weight = schemas["flyos-routing.routing.static.nexthop"]["properties"]["weight"]
    assert (weight["minimum"], weight["maximum"], weight["default"]) == (1, 256, 1)
    assert "static route" in static["description"]
    operations = {m for item in paths.values() for m in item}
    assert operations == {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def fuzzed_agent() -> Iterator[RestAgent]:
    """An agent of its own: fuzzing leaves odd configuration and pending commits behind."""
    workdir = Path(tempfile.mkdtemp(prefix="fly-st-"))
    agent = start_agent(workdir)
    yield agent
    assert stop_agent(agent) == 0
    shutil.rmtree(workdir, ignore_errors=True)


def schemathesis(agent: RestAgent, examples: int, *selection: str) -> None:
    """Run the schemathesis CLI; fail with its report unless every check passed."""
    token = agent.cli("token", "create", "admin", "--description", "schemathesis")
    assert token.returncode == 0, token.stderr
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{agent.base}/openapi.json",
        "--header",
        f"Authorization: Bearer {token.stdout.strip()}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        str(examples),
        "--phases",
        "fuzzing",
        "--mode",
        "all",
        "--seed",
        "20261126",
        "--workers",
        "2",
        "--generation-database",
        "none",
        "--no-color",
        *selection,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert "passed" in done.stdout and "failed" not in done.stdout.split("SUMMARY")[-1], report
    log = "\n".join(agent.lines)
    assert "Traceback" not in log and "unexpected failure" not in log, log[-4000:]


def test_schemathesis_routes_operations_and_discovery(fuzzed_agent: RestAgent) -> None:
    schemathesis(fuzzed_agent, int(THOROUGH or 12), "--exclude-path-regex", DATA_RESOURCES)


def test_schemathesis_restconf_data_resources(fuzzed_agent: RestAgent) -> None:
    schemathesis(fuzzed_agent, int(THOROUGH or 3), "--include-path-regex", DATA_RESOURCES)
