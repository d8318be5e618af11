"""Refusals touch nothing; an nft failure names the rule and leaves the ruleset byte-identical."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Commit
from nft_kernel import Kernel, without_handles
from test_nft_commit import CONFIG

from flyos_agent.backends.linux import nft_apply
from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.backends.linux.nft_runner import CliRunner
from flyos_agent.errors import FlyosError, InvalidValue, OperationFailed
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema

RULE_20 = "/flyos-acl:acls/acl[name='web']/rule[sequence='20']"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "/acls/acl[name='web']/rule[sequence='30']",
            {"action": "drop", "family": "ipv6", "source": {"prefix": ["10.0.0.0/8"]}},
            "no address family in common",
        ),
        (
            "/acls/acl[name='web']/rule[sequence='30']",
            {"action": "drop", "protocol": "tcp", "destination": {"port": ["90-80"]}},
            "port range '90-80' is reversed",
        ),
        (
            "/acls/address-set[name='admins']/prefix",
            ["2001:db8::/32"],
            "prefix 2001:db8::/32 is not ipv4",
        ),
        (
            "/nat/rule[sequence='30']",
            {
                "action": "dnat",
                "to-address": "10.0.0.1",
                "in-interface": "eth0",
                "out-interface": "eth0",
            },
            "cannot match both in- and out-interface",
        ),
    ],
)
def test_rules_nft_cannot_express_are_refused_before_anything_runs(
    commit: Commit, kernel: Kernel, path: str, value: Any, message: str
) -> None:
    commit(CONFIG)
    before = kernel.ruleset()
    with pytest.raises(InvalidValue) as refused:
        commit(edits=[("merge", path, value)], dry_run=True)
    assert message in refused.value.message
    assert refused.value.path is not None and refused.value.path.startswith("/flyos-")
    assert kernel.ruleset() == before


def test_an_nft_refusal_names_the_rule_and_changes_nothing(
    commit: Commit, kernel: Kernel, manager: Manager, foreign: str
) -> None:
    commit(CONFIG)
    rule = kernel.rules()["acl web rule 20"]
    kernel.nft("delete", "rule", "inet", "flyos", rule["chain"], "handle", str(rule["handle"]))
    before = kernel.ruleset()
    running = manager.stores.running
    with pytest.raises(OperationFailed) as failed:
        commit(edits=[("merge", "/acls/acl[name='web']/rule[sequence='20']", {"action": "accept"})])
    assert failed.value.path == RULE_20
    assert "No such file or directory" in failed.value.message
    assert failed.value.info["nft-command"] == {
        "delete": {
            "rule": {
                "family": "inet",
                "table": "flyos",
                "chain": rule["chain"],
                "handle": rule["handle"],
            }
        }
    }
    assert kernel.ruleset() == before
    assert manager.stores.running is running
    assert repr(kernel.table("ip", "foreign")) == foreign


def test_a_failure_after_the_batch_undoes_it(
    commit: Commit, kernel: Kernel, manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit(CONFIG)
    before = kernel.ruleset()

    def broken(**_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(manager.journal, "append", broken)
    additions = [
        ("merge", "/acls/acl[name='web']/rule[sequence='30']", {"action": "drop"}),
        ("merge", "/acls/address-set[name='admins']/prefix", ["10.9.0.0/16"]),
        ("merge", "/acls/acl[name='more']", {"rule": [{"sequence": 1, "action": "accept"}]}),
    ]
    with pytest.raises(FlyosError, match="disk full"):
        commit(edits=additions)
    assert kernel.ruleset() == before  # the undo deleted exactly what the batch added
    changes = [
        ("merge", "/acls/acl[name='web']/rule[sequence='10']", {"action": "drop"}),
        ("delete", "/acls/acl[name='web']/rule[sequence='20']", None),
        ("delete", "/nat", None),
    ]
    with pytest.raises(FlyosError, match="disk full"):
        commit(edits=changes)
    after = json.loads(kernel.ruleset())["nftables"]
    assert without_handles(after) == without_handles(json.loads(before)["nftables"])


def test_handles_stay_right_when_others_use_up_numbers(
    commit: Commit,
    kernel: Kernel,
    manager: Manager,
    backend: NftBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_back = []
    original = nft_apply._read_back
    monkeypatch.setattr(nft_apply, "_read_back", lambda *a: read_back.append(1) or original(*a))
    commit(CONFIG)
    bucket = kernel.rules()["acl web rule 10"]["chain"]
    # a check run and a failing batch against our table both consume handle numbers
    kernel.nft("-c", "-f", "-", stdin=f"add rule inet flyos {bucket} accept\n" * 3)
    kernel.nft(
        "-f",
        "-",
        stdin=f"add rule inet flyos {bucket} accept\nadd rule inet nope c accept\n",
        check=False,
    )
    for seq in (30, 40):
        commit(
            edits=[("merge", f"/acls/acl[name='web']/rule[sequence='{seq}']", {"action": "drop"})]
        )
    commit(edits=[("delete", "/acls/acl[name='web']/rule[sequence='30']", None)])
    commit(edits=[("merge", "/acls/acl[name='web']/rule[sequence='40']", {"action": "accept"})])
    assert read_back == [1]  # the prediction was caught once, then right again
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]


def test_the_nft_command_runner_gives_the_same_ruleset(
    schema: Schema, netns: str, kernel: Kernel, tmp_path: Any
) -> None:
    from flyos_agent.datastore.journal import Journal

    backend = NftBackend(schema, netns, runner=CliRunner(netns))
    manager = Manager(schema, Journal(tmp_path / "cli.db", schema), backend)
    session = manager.open_session("root", "test")
    manager.copy(session, "running", "running", config=CONFIG)
    assert backend.reconcile(manager.stores.running, apply=False)["in-sync"]
    assert {"acl web rule 10", "nat rule 10"} <= set(kernel.rules())
    manager.close()
