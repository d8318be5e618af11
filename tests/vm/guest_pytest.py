"""Run pytest on the project's own tests inside the VM and read back what each test did.

The guest runs the host's venv from the shared root with only the pytest-timeout plugin
(plugin auto-loading costs seconds under emulation), no cache, and a JUnit XML report in the
job directory, which the host parses: outcomes come from the report, never from scraping text.
"""

from __future__ import annotations

import shlex
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from runner import GUEST_JOB_DIR, VmResult, run_in_vm

REPO = Path(__file__).resolve().parents[2]
REPORT = "junit.xml"
KILLED = 128 + 9  # the guest's init kills a job that outlives its time limit with SIGKILL


@dataclass(frozen=True)
class Outcome:
    """One test's result: passed, failed, error or skipped, with the reason if it did not pass."""

    status: str
    message: str = ""


@dataclass(frozen=True)
class GuestRun:
    vm: VmResult
    outcomes: dict[str, Outcome]  # by "dotted.module::test_name[params]"


def pytest_command(paths: list[str], *, per_test_timeout: float) -> str:
    """The job script: pytest on `paths` (relative to the repository), run by this venv."""
    args = [
        sys.executable,
        *("-m", "pytest", *paths),
        *("-p", "pytest_timeout", f"--timeout={per_test_timeout:.0f}"),
        *("-p", "no:cacheprovider", "-v"),
        f"--junitxml={GUEST_JOB_DIR}/{REPORT}",
    ]
    return "\n".join(
        [
            f"cd {shlex.quote(str(REPO))}",
            "export PYTHONDONTWRITEBYTECODE=1 PYTEST_DISABLE_PLUGIN_AUTOLOAD=1",
            "exec " + shlex.join(args),
        ]
    )


def run_pytest_in_vm(
    paths: list[str],
    *,
    job_dir: Path,
    timeout: float,
    per_test_timeout: float = 120,
) -> GuestRun:
    """Boot the VM once, run pytest on `paths` in it and return every test's outcome."""
    command = pytest_command(paths, per_test_timeout=per_test_timeout)
    report = job_dir / REPORT
    report.unlink(missing_ok=True)
    result = run_in_vm(command, timeout, job_dir=job_dir)
    if not report.exists():
        killed = " (killed at the VM's time limit)" if result.exit_code == KILLED else ""
        raise AssertionError(
            f"pytest in the VM wrote no report: exit {result.exit_code}{killed}; its output:\n"
            + result.output[-5000:]
        )
    return GuestRun(result, parse_junit(report))


def parse_junit(report: Path) -> dict[str, Outcome]:
    """The outcome of each test case in a JUnit XML report written by pytest."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcomes[test_id] = Outcome("passed")
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = "failed" if child.tag == "failure" else child.tag
                outcomes[test_id] = Outcome(status, child.get("message") or "")
                break
    return outcomes
