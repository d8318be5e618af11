"""The Linux backend against a stock Debian kernel in a VM: every driver test passes there."""

from __future__ import annotations

import os

import pytest
from guest_pytest import GuestRun, Outcome
from runner import find_kernel

pytestmark = pytest.mark.vm

DRIVER_TESTS = "tests.integration.linux.test_linux_vm_drivers::"


def listing(outcomes: dict[str, Outcome]) -> str:
    return "\n".join(f"  {test}: {o.status} {o.message}".rstrip() for test, o in outcomes.items())


def test_the_guest_runs_the_debian_kernel_not_the_hosts(linux_suite_in_vm: GuestRun) -> None:
    release = linux_suite_in_vm.vm.kernel_release
    assert release == find_kernel().release
    assert release != os.uname().release


def test_every_driver_test_passes_in_the_vm(linux_suite_in_vm: GuestRun) -> None:
    drivers = {t: o for t, o in linux_suite_in_vm.outcomes.items() if t.startswith(DRIVER_TESTS)}
    if not drivers:
        pytest.fail("no driver test ran in the VM:\n" + linux_suite_in_vm.vm.output[-3000:])
    # The drivers exist in the guest: a test that skips there did not prove anything.
    not_passed = {t: o for t, o in drivers.items() if o.status != "passed"}
    if not_passed:
        pytest.fail(
            "driver tests that did not pass in the VM:\n" + listing(not_passed), pytrace=False
        )


def test_the_linux_backend_suite_passes_on_a_stock_kernel(linux_suite_in_vm: GuestRun) -> None:
    outcomes = linux_suite_in_vm.outcomes
    broken = {t: o for t, o in outcomes.items() if o.status in ("failed", "error")}
    if broken:
        pytest.fail("Linux backend tests that failed in the VM:\n" + listing(broken), pytrace=False)
