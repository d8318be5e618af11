"""The real-kernel tier: one VM boot runs the Linux backend's tests on a stock Debian kernel.

The host kernel lacks drivers the backend configures (VRF, GRE, IPIP, WireGuard, VLAN, dummy);
tests/integration/linux skips those tests here, and the VM runs them where the drivers exist.
"""

from __future__ import annotations

import os

import pytest
from guest_pytest import GuestRun, run_pytest_in_vm

LINUX = "tests/integration/linux"
# A fault at every step of one commit over VRF, VLAN, GRE, IPIP, WireGuard, routes, rules, ACL
# and NAT leaves the kernel as it was (it skips on the host, which lacks those drivers).
FAULT_CAMPAIGN = (
    "tests/reliability/test_fault_campaign.py::"
    "test_a_fault_at_any_step_of_a_vrf_vlan_tunnel_commit_leaves_the_kernel_as_it_was"
)
# The driver tests first, then the modules whose kernel side differs between kernels (links,
# reconcile dumps, neighbour tracking, sysctls) on a stock Debian kernel. Routes, rules, the
# failure campaign and the 100k-route bulk test are plain netlink that the host's namespace
# tier proves; under emulation they would add minutes. FLYOS_VM_TESTS (paths or node ids,
# separated by spaces) runs another selection.
GUEST_TESTS = [
    f"{LINUX}/test_linux_vm_drivers.py",
    f"{LINUX}/test_linux_interfaces.py",
    f"{LINUX}/test_linux_reconcile.py",
    f"{LINUX}/test_linux_tracking.py",
    f"{LINUX}/test_linux_system.py",
    FAULT_CAMPAIGN,
]
VM_TIMEOUT = 600.0  # about 2 minutes on this machine; generous for a loaded one
GUEST_RUN = pytest.StashKey[GuestRun]()


@pytest.fixture(scope="session")
def linux_suite_in_vm(request: pytest.FixtureRequest) -> GuestRun:
    """The outcome of every test of GUEST_TESTS, run once inside the VM (root only: the guest's
    file system is the host's whole root)."""
    if os.geteuid() != 0:
        pytest.skip("the VM tier shares the host's root file system: needs root")
    job_dir = request.getfixturevalue("tmp_path_factory").mktemp("vm-job")
    selection = os.environ.get("FLYOS_VM_TESTS", "").split() or GUEST_TESTS
    run = run_pytest_in_vm(selection, job_dir=job_dir, timeout=VM_TIMEOUT)
    request.config.stash[GUEST_RUN] = run
    return run


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    run = config.stash.get(GUEST_RUN, None)
    if run is None:
        return
    counts: dict[str, int] = {}
    for outcome in run.outcomes.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    terminalreporter.write_line(
        f"vm tier: kernel {run.vm.kernel_release}, boot {run.vm.boot_seconds:.1f} s, "
        f"whole run {run.vm.total_seconds:.1f} s; in the guest: {summary}; "
        f"output and console in {run.vm.job_dir}"
    )
