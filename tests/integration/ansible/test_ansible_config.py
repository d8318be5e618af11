"""flyos.agent.config, command and facts in one playbook against real agents.

The first agent takes DSL and XML (merge and replace), check mode, diff, a
backup, a rollback, confirmed commits (one left unconfirmed, which the agent
reverts; one confirmed, which stays), a DSL typo and an agent error (each
fails the task and leaves nothing locked or pending), then the show commands
and the facts. The second agent gets the DSL the agent itself renders from
examples/full.json and must end up holding exactly that configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flyos_collection import REPO, Ansible, Host, PlaybookRun, canonical

from flyos_agent.northbound.dsl import render_dsl
from flyos_agent.schema import load_schema

FULL = json.loads((REPO / "examples" / "full.json").read_text(encoding="utf-8"))
ROUTING_XML = """<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <routing xmlns="urn:flyos:yang:flyos-routing">
    <static><prefix>{prefix}</prefix><via>192.0.2.1</via></static>
  </routing>
</config>
"""
DSL = [
    "route set static { prefix 10.0.0.0/24; via 192.0.2.1; metric 5 }",
    "system set { hostname r1; location 'rack 4' }",
    "nic set interface { name dummy0; type dummy",
    "    ipv4 { address { ip 10.9.0.1; prefix-length 24 } } }",
]


def task(name: str, module: str, args: dict[str, Any], **keywords: Any) -> dict[str, Any]:
    return {"name": name, module: args, "register": name, **keywords}


def routes(name: str) -> dict[str, Any]:
    """Read the static routes into `name`."""
    return task(name, "flyos.agent.static_routes", {"state": "gathered"})


def first_agent_tasks(workdir: Path) -> list[dict[str, Any]]:
    (workdir / "routes-60.xml").write_text(ROUTING_XML.format(prefix="10.60.0.0/24"))
    (workdir / "routes-70.xml").write_text(ROUTING_XML.format(prefix="10.70.0.0/24"))
    config = "flyos.agent.config"
    return [
        task("dsl", config, {"lines": DSL}, diff=True),
        task("dsl_again", config, {"lines": DSL}),
        task(
            "checked",
            config,
            {"lines": ["route set static { prefix 10.50.0.0/24; via 192.0.2.1 }"]},
            check_mode=True,
        ),
        routes("after_check"),
        task("xml_merge", config, {"src": str(workdir / "routes-60.xml")}),
        task(
            "backup",
            config,
            {
                "backup": True,
                "backup_options": {"dir_path": str(workdir / "backups"), "filename": "r1.flyos"},
            },
        ),
        task("xml_replace", config, {"src": str(workdir / "routes-70.xml"), "update": "replace"}),
        routes("after_replace"),
        task("rollback", config, {"rollback": 1}),
        routes("after_rollback"),
        task(
            "unconfirmed",
            config,
            {
                "lines": ["route set static { prefix 10.80.0.0/24; via 192.0.2.1 }"],
                "confirm_timeout": 2,
                "persist_id": "t1",
            },
        ),
        routes("during_confirm"),
        {
            **routes("reverted"),
            "until": "'10.80.0.0/24' not in (reverted.gathered | map(attribute='prefix'))",
            "retries": 30,
            "delay": 1,
        },
        task(
            "confirmed",
            config,
            {
                "lines": ["route set static { prefix 10.81.0.0/24; via 192.0.2.1 }"],
                "confirm_timeout": 2,
                "persist_id": "t2",
            },
        ),
        task("confirming", config, {"confirm_commit": True, "persist_id": "t2"}),
        {"name": "Wait past the confirm timeout", "ansible.builtin.pause": {"seconds": 3}},
        routes("kept"),
        task(
            "commented",
            config,
            {"lines": ["system set { contact noc@example.net }"], "comment": "hello"},
        ),
        task(
            "typo",
            config,
            {"lines": ["route set static { prefix 10.1.0.0/24; vai 192.0.2.1 }"]},
            ignore_errors=True,
        ),
        task(
            "exists",
            config,
            {"lines": ["nic add interface { name dummy0; type dummy }"]},
            ignore_errors=True,
        ),
        task("after_errors", config, {"lines": ["system set { description 'still works' }"]}),
        task(
            "shown",
            "flyos.agent.command",
            {
                "commands": [
                    "show running route",
                    "show running route | set",
                    "show running system | json",
                    "show running | xml",
                    "show history",
                    "show compare",
                    "show sessions",
                    "show state",
                ]
            },
        ),
        task(
            "unknown_command",
            "flyos.agent.command",
            {"commands": ["request reboot"]},
            ignore_errors=True,
        ),
        task(
            "facts",
            "flyos.agent.facts",
            {"gather_subset": ["all"], "gather_network_resources": ["all"]},
        ),
    ]


@pytest.fixture(scope="module")
def run(ansible: Ansible, start_agents: Callable[[int], list[Host]]) -> PlaybookRun:
    first, second = start_agents(2)
    full_dsl = ansible.workdir / "full.flyos"
    full_dsl.write_text(render_dsl(load_schema(), FULL) + "\n", encoding="utf-8")
    tasks = first_agent_tasks(ansible.workdir)
    plays = [
        {
            "hosts": first.name,
            "gather_facts": False,
            "tasks": tasks,
            "save": [t["register"] for t in tasks if "register" in t],
        },
        {
            "hosts": second.name,
            "gather_facts": False,
            "tasks": [
                task("full", "flyos.agent.config", {"src": str(full_dsl)}),
                task("full_again", "flyos.agent.config", {"src": str(full_dsl)}),
                task("full_json", "flyos.agent.command", {"commands": ["show running | json"]}),
            ],
            "save": ["full", "full_again", "full_json"],
        },
    ]
    done = ansible.play(plays, [first, second])
    assert done.returncode == 0, done.output[-8000:]
    return done


def prefixes(run: PlaybookRun, name: str) -> set[str]:
    return {route["prefix"] for route in run.result("agent0", name)["gathered"]}


def test_dsl_is_committed_once_and_diffed(run: PlaybookRun) -> None:
    dsl = run.result("agent0", "dsl")
    assert dsl["changed"]
    assert "hostname r1" in dsl["diff"]["after"] and "hostname r1" not in dsl["diff"]["before"]
    assert {c["target"] for c in dsl["changes"]} >= {
        "/flyos-routing:routing/static[prefix='10.0.0.0/24']",
        "/flyos-interfaces:interfaces/interface[name='dummy0']",
    }
    assert not run.result("agent0", "dsl_again")["changed"]


def test_check_mode_reports_and_commits_nothing(run: PlaybookRun) -> None:
    assert run.result("agent0", "checked")["changed"]
    assert "10.50.0.0/24" not in prefixes(run, "after_check")


def test_xml_merges_or_replaces_and_rollback_undoes(run: PlaybookRun, ansible: Ansible) -> None:
    assert run.result("agent0", "xml_merge")["changed"]
    assert prefixes(run, "after_replace") == {"10.70.0.0/24"}
    assert run.result("agent0", "rollback")["changed"]
    assert prefixes(run, "after_rollback") == {"10.0.0.0/24", "10.60.0.0/24"}
    backup = run.result("agent0", "backup")
    assert Path(backup["backup_path"]) == ansible.workdir / "backups" / "r1.flyos"
    text = Path(backup["backup_path"]).read_text(encoding="utf-8")
    assert "static { prefix 10.60.0.0/24; via 192.0.2.1 }" in text


def test_an_unconfirmed_commit_is_rolled_back_and_a_confirmed_one_stays(run: PlaybookRun) -> None:
    assert run.result("agent0", "unconfirmed")["changed"]
    assert "10.80.0.0/24" in prefixes(run, "during_confirm")
    assert "10.80.0.0/24" not in prefixes(run, "reverted")
    assert run.result("agent0", "confirming")["changed"]
    assert "10.81.0.0/24" in prefixes(run, "kept")


def test_failures_name_the_problem_and_leave_nothing_pending(run: PlaybookRun) -> None:
    typo = run.result("agent0", "typo")
    assert typo["failed"] and "did you mean 'via'" in typo["msg"]
    exists = run.result("agent0", "exists")
    assert exists["failed"] and "data-exists" in exists["msg"], exists["msg"]
    assert run.result("agent0", "after_errors")["changed"]
    commented = run.result("agent0", "commented")
    assert commented["changed"]
    assert any("comment" in warning for warning in commented.get("warnings", []))


def test_show_commands_answer_like_the_repl(run: PlaybookRun) -> None:
    shown = run.result("agent0", "shown")["stdout"]
    route, route_set, system_json, xml, history, compare, sessions, state = shown
    assert (
        route.startswith("route sync {")
        and "static { prefix 10.0.0.0/24; via 192.0.2.1; metric 5 }" in route
    )
    assert "route set static { prefix 10.60.0.0/24; via 192.0.2.1 }" in route_set.splitlines()
    assert json.loads(system_json)["flyos-system:system"]["hostname"] == "r1"
    assert xml.startswith("<config") and "<hostname>r1</hostname>" in xml
    assert history.splitlines()[0].split() == [
        "rollback",
        "commit",
        "time",
        "user",
        "channel",
        "comment",
    ]
    assert compare == "no differences"
    assert "admin" in sessions and "netconf-ssh" in sessions
    assert state == "no operational state"
    unknown = run.result("agent0", "unknown_command")
    assert unknown["failed"] and "not a read-only command" in unknown["msg"]


def test_facts_hold_the_configuration_and_the_resources(run: PlaybookRun) -> None:
    facts = run.result("agent0", "facts")["ansible_facts"]
    assert facts["ansible_net_hostname"] == "r1"
    assert facts["ansible_net_gather_subset"] == ["min", "config", "state"]
    assert "flyos-routing@2026-11-26" in facts["ansible_net_modules"]
    assert facts["ansible_net_config"]["system"]["hostname"] == "r1"
    resources = facts["ansible_network_resources"]
    assert {r["prefix"] for r in resources["static_routes"]} >= {"10.0.0.0/24", "10.60.0.0/24"}
    assert resources["interfaces"] == [
        {
            "name": "dummy0",
            "type": "dummy",
            "ipv4": {"address": [{"ip": "10.9.0.1", "prefix_length": 24}]},
        }
    ]


def test_the_agents_own_dsl_rendering_loads_to_the_same_configuration(run: PlaybookRun) -> None:
    assert run.result("agent1", "full")["changed"]
    assert not run.result("agent1", "full_again")["changed"]
    assert canonical(json.loads(run.result("agent1", "full_json")["stdout"][0])) == canonical(FULL)
