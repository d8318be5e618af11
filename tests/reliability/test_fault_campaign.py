"""A fault at any step of one commit spanning every module, netlink and nftables together,
leaves the kernel as it was and running unchanged; without a fault the commit lands.

The faults come from `FaultInjector` around the daemon's own backend (netlink part plus
nftables part), so every undo that runs is the real one. For each step N of the commit and
each mode (fail instead of applying; apply, then fail) the commit must fail naming the
step's YANG path, and `ip -j -d link`, `ip -j addr`, `ip [-6] -j route show table all`,
`ip [-6] -j rule`, `nft -j list ruleset`, the forwarding sysctls and the host name must
read as before, byte for byte, with only what the kernel assigns itself allowed to move
(docs/backends.md, "Failed commits and rollback"):

- a device the commit deleted comes back with its ifindex, but the kernel lists its own
  link-local and multicast routes after those of the same prefix on other devices;
- an nft batch undone after it applied (a failure after the last step: the journal
  write) re-adds rules under new handles; every other rule keeps its handle.

Masked as statistics, not state: the bridge's running timers and the rules' packet counters.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flyos_agent.backends.composite import CompositeBackend
from flyos_agent.backends.faults import Fault, FaultInjector, FaultMode, InjectedFault
from flyos_agent.backends.linux import LinuxBackend
from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.datastore.journal import Journal
from flyos_agent.errors import OperationFailed
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session
from flyos_agent.schema import Schema, load_schema

from .fault_config import (
    BASE,
    DRIVER_BASE,
    IF,
    SYSTEM,
    change_drivers,
    change_everything,
    missing_drivers,
)
from .fault_kernel import Allowance, Lab, difference, kept_handles, new_lab, strip_handles

pytestmark = pytest.mark.netns

CLONE_NEWUTS = 0x04000000
OwnUts = Callable[[Callable[[], Any]], Any]
Report = Callable[[str, dict[str, Any]], None]  # the reliability conftest's campaign_report


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


@pytest.fixture
def lab() -> Iterator[Lab]:
    """Two fresh namespaces (prefix h2-): eth0/eth1 here, their peers answering 10.0.x.2."""
    yield from new_lab()


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs for the journal, so that a test can fill the disk for real."""
    path = tmp_path / "state"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)], check=True)
    yield path
    subprocess.run(["umount", "-l", str(path)], check=True)


@pytest.fixture
def injector(schema: Schema, lab: Lab) -> FaultInjector:
    """The daemon's Linux backend (netlink part, nftables part) behind a fault injector."""
    parts = [LinuxBackend(schema, lab.ns, track_interval=0.2), NftBackend(schema, lab.ns)]
    return FaultInjector(CompositeBackend(schema, parts, "linux"))


@pytest.fixture
def manager(state_dir: Path, schema: Schema, injector: FaultInjector) -> Iterator[Manager]:
    mgr = Manager(schema, Journal(state_dir / "flyos.db", schema), injector)
    mgr.start()
    yield mgr
    mgr.close()


@pytest.fixture
def session(manager: Manager) -> Session:
    return manager.open_session("tester", "test")


@dataclass(frozen=True)
class Rig:
    """A Manager on the faulty backend, in a lab."""

    lab: Lab
    manager: Manager
    session: Session
    injector: FaultInjector


@pytest.fixture
def rig(lab: Lab, manager: Manager, session: Session, injector: FaultInjector) -> Rig:
    return Rig(lab, manager, session, injector)


@pytest.fixture
def own_uts() -> Iterator[OwnUts]:
    """Runs a function in a thread with a UTS namespace of its own: sethostname there leaves
    the host's name alone (as the agent run under `unshare --uts`)."""
    host = socket.gethostname()
    with ThreadPoolExecutor(1, initializer=_unshare_uts) as thread:
        yield lambda function: thread.submit(function).result()
    assert socket.gethostname() == host


def _unshare_uts() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUTS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUTS)")


def commit(manager: Manager, session: Session, config: dict[str, Any]) -> None:
    """Make `config` the whole running configuration (one transaction)."""
    manager.copy(session, "running", "running", config=config)


def dry_run(
    manager: Manager, session: Session, config: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The plan and the changed units' paths of the commit that would make `config` running."""
    manager.copy(session, "running", "candidate", config=config)
    result = manager.commit(session, dry_run=True)
    manager.discard(session)
    assert result.plan is not None
    return result.plan, [change["target"] for change in result.changes]


def undone(plan: list[dict[str, Any]], applied: int) -> Allowance:
    """What may move when the first `applied` steps of `plan` were applied, then undone."""
    last = plan[applied - 1] if applied else {}
    return Allowance(
        recreated=any(step["op"] == "link del" for step in plan[:applied]),
        nft_batch=last["commands"] if last.get("op") == "nft" else None,
    )


def assert_as_before(lab: Lab, before: dict[str, str], allowance: Allowance, where: str) -> None:
    """The kernel reads as `before`, but for what `allowance` lets move."""
    after = lab.like(before, allowance)
    assert allowance.view(after) == allowance.view(before), (
        f"{where}\n{difference(allowance.view(before), allowance.view(after))}"
    )
    if allowance.nft_batch is not None:
        assert kept_handles(before["nft"], after["nft"], allowance.nft_batch) == [], where


@dataclass(frozen=True)
class Figures:
    """What a campaign did: the commit's steps and changed units, the failed commits it
    checked (every one left the kernel as it was, or the campaign stopped), its run time."""

    steps: int
    changes: int
    cases: int
    seconds: float

    def report(self) -> dict[str, Any]:
        """The figures for the reliability summary."""
        restored = f"{self.cases}/{self.cases}"
        return {**dataclasses.asdict(self), "restored": restored}


def run_campaign(
    rig: Rig, target: dict[str, Any], modes: tuple[FaultMode, ...] = tuple(FaultMode)
) -> Figures:
    """Fail the commit to `target` at every step in each of `modes`, then after its last
    step (a full disk under the journal), checking the kernel after each; then let it land."""
    lab, manager, session, injector = rig.lab, rig.manager, rig.session, rig.injector
    start = time.monotonic()
    plan, units = dry_run(manager, session, target)
    assert plan[-1]["op"] == "nft" and all(step["op"] != "nft" for step in plan[:-1])
    before = lab.settled()
    running, last_commit = manager.stores.running, manager.last_commit()
    for number, step in enumerate(plan, start=1):
        for mode in modes:
            where = f"step {number} ({mode.value}): {step}"
            injector.arm(Fault(number, mode))
            with pytest.raises(InjectedFault) as failed:
                commit(manager, session, target)
            path = failed.value.path or ""
            # a netlink step names its unit (or a leaf of it), the nft batch their subtree
            assert any(path.startswith(unit) or unit.startswith(path) for unit in units), where
            applied = number if mode is FaultMode.AFTER_APPLY else number - 1
            assert_as_before(lab, before, undone(plan, applied), where)
            assert manager.stores.running is running, where
            assert manager.last_commit() == last_commit, where
    with full_disk(manager.journal.path.parent), pytest.raises(OperationFailed) as unrecorded:
        commit(manager, session, target)
    assert "commit not recorded" in unrecorded.value.message
    assert_as_before(lab, before, undone(plan, len(plan)), "journal write failed")
    assert manager.stores.running is running
    commit(manager, session, target)
    cases = len(modes) * len(plan) + 1
    return Figures(len(plan), len(units), cases, round(time.monotonic() - start, 1))


@contextlib.contextmanager
def full_disk(directory: Path) -> Iterator[None]:
    """The file system of `directory` full (ENOSPC) for the duration of a with-block."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(bytes(1 << 16))
    try:
        yield
    finally:
        filler.unlink()


def assert_kernel_holds(lab: Lab, injector: FaultInjector, manager: Manager, config: Any) -> None:
    """The kernel matches `config`: links with their settings and addresses; no route, rule
    or nftables drift; forwarding and host name."""
    dumps = lab.settled()
    links = {link["ifname"]: link for link in json.loads(dumps["link"])}
    addresses = {link["ifname"]: link["addr_info"] for link in json.loads(dumps["addr"])}
    for entry in config[IF]["interface"]:
        link = links[entry["name"]]
        assert ("UP" in link["flags"]) == entry.get("enabled", True), entry["name"]
        assert link.get("ifalias", "") == entry.get("description", ""), entry["name"]
        for leaf, key in (("mtu", "mtu"), ("mac", "address"), ("bridge", "master")):
            if leaf in entry:
                assert link[key] == entry[leaf], (entry["name"], leaf)
        wanted = {
            f"{a['ip']}/{a['prefix-length']}"
            for family in ("ipv4", "ipv6")
            for a in entry.get(family, {}).get("address", [])
        }
        have = {f"{a['local']}/{a['prefixlen']}" for a in addresses[entry["name"]]}
        assert {a for a in have if not a.startswith("fe80:")} == wanted, entry["name"]
    drift = injector.reconcile(manager.stores.running, apply=False)
    assert drift["linux"]["routes"] == {"missing": [], "extra": [], "different": []}
    assert drift["linux"]["rules"] == {"missing": [], "extra": []}
    assert drift["nftables"]["in-sync"], drift["nftables"]
    system = config.get(SYSTEM)
    if system is not None:
        assert dumps["hostname"] == system["hostname"]
        assert dumps["sysctl"] == (
            f"net.ipv4.ip_forward = {int(system['ipv4-forwarding'])}\n"
            f"net.ipv6.conf.all.forwarding = {int(system['ipv6-forwarding'])}\n"
        )


def campaign(
    rig: Rig, base: dict[str, Any], target: dict[str, Any], modes: tuple[FaultMode, ...]
) -> Figures:
    """From running `base`, the campaign on the commit to `target`; the kernel then holds it."""
    commit(rig.manager, rig.session, base)
    figures = run_campaign(rig, target, modes)
    assert_kernel_holds(rig.lab, rig.injector, rig.manager, target)
    return figures


def test_a_fault_at_any_step_leaves_the_kernel_as_it_was(
    rig: Rig, own_uts: OwnUts, campaign_report: Report
) -> None:
    target = change_everything(BASE)
    figures = own_uts(lambda: campaign(rig, BASE, target, tuple(FaultMode)))
    campaign_report("fault campaign, every module (host kernel)", figures.report())
    assert figures.steps >= 30 and figures.changes >= 30


def test_rollback_restores_the_ruleset_with_new_handles_only_for_re_added_rules(
    rig: Rig, own_uts: OwnUts
) -> None:
    lab, manager, session = rig.lab, rig.manager, rig.session
    target = change_everything(BASE)

    def rollback() -> None:
        commit(manager, session, BASE)
        earlier = lab.settled()["nft"]
        forward, _ = dry_run(manager, session, target)
        commit(manager, session, target)
        back, _ = dry_run(manager, session, BASE)
        manager.rollback(session, 1)
        manager.commit(session)
        now = lab.settled()["nft"]
        assert strip_handles(now) == strip_handles(earlier)  # the same rules in the same order
        assert now != earlier  # those deleted and re-added have new handles, no other rule
        assert kept_handles(earlier, now, forward[-1]["commands"] + back[-1]["commands"]) == []
        assert_kernel_holds(lab, rig.injector, manager, BASE)

    own_uts(rollback)


def test_a_fault_at_any_step_of_a_vrf_vlan_tunnel_commit_leaves_the_kernel_as_it_was(
    rig: Rig, own_uts: OwnUts, campaign_report: Report
) -> None:
    missing = missing_drivers()
    if missing:
        pytest.skip(f"kernel lacks {', '.join(missing)}: runs in the VM tier (tests/vm)")
    wired = dataclasses.replace(rig, lab=dataclasses.replace(rig.lab, wireguard=("wg0",)))
    target = change_drivers(DRIVER_BASE)
    # Apply-then-fail only (emulation is slow): at step N it runs the same undos, in the same
    # order, as fail-instead-of-applying at step N + 1 (undo N, then N-1 ... 1).
    modes = (FaultMode.AFTER_APPLY,)
    figures = own_uts(lambda: campaign(wired, DRIVER_BASE, target, modes))
    campaign_report("fault campaign, VRF/VLAN/GRE/IPIP/WireGuard", figures.report())
    assert figures.steps >= 12
