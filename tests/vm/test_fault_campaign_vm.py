"""The fault campaign over the drivers the host lacks passed inside the VM (a skip there would
prove nothing: every driver exists in the guest)."""

from __future__ import annotations

import os

import pytest
from guest_pytest import GuestRun

pytestmark = pytest.mark.vm

CAMPAIGN = "tests.reliability.test_fault_campaign::"


def test_the_driver_fault_campaign_passes_in_the_vm(linux_suite_in_vm: GuestRun) -> None:
    ran = {t: o for t, o in linux_suite_in_vm.outcomes.items() if t.startswith(CAMPAIGN)}
    if not ran and os.environ.get("FLYOS_VM_TESTS"):
        pytest.skip("FLYOS_VM_TESTS chose a selection without the fault campaign")
    assert ran, "the fault campaign did not run in the VM:\n" + linux_suite_in_vm.vm.output[-3000:]
    not_passed = {t: f"{o.status} {o.message}" for t, o in ran.items() if o.status != "passed"}
    assert not not_passed
