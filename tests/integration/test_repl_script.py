"""`flyos -f` / `flyos -c` with DSL statements against a real flyos-agent, and `dsl` over IPC."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli.main import main

Flyos = Callable[..., tuple[int, str, str]]

ORIGINAL = """\
route add static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
route set static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
route delete static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
route sync {
    static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
    bgp { prefix 172.16.0.0/16; local_pref 200; community [ 65001:100 ] }
    ospf { prefix 192.168.10.0/24; area 0.0.0.0; type external }
    pbr { prefix 10.1.0.0/16; fwmark 100; priority 1000; iif eth1 }
    static { prefix 20.0.0.0/24; via 192.168.2.1; dev eth1; track yes }
}
"""
INTERFACES = """\
nic add interface { name eth0; type ethernet }   # the routes name these devices
nic add interface { name eth1; type ethernet }   // and these must exist to commit
"""
EXPECTED = """\
nic sync {
    interface { name eth0; type ethernet }
    interface { name eth1; type ethernet }
}
route sync {
    static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track true }
    static { prefix 20.0.0.0/24; via 192.168.2.1; dev eth1; track true }
    pbr { priority 1000; prefix 10.1.0.0/16; fwmark 100; iif eth1 }
    bgp { prefix 172.16.0.0/16; local-pref 200; community [ 65001:100 ] }
    ospf { prefix 192.168.10.0/24; area 0.0.0.0; type external }
}
"""


def script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "script.flyos"
    path.write_text(text)
    return str(path)


@pytest.fixture
def flyos(shared_agent: Any, capsys: pytest.CaptureFixture[str]) -> Flyos:
    """`flyos(*args)` in this process against the shared agent: (status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(["--socket", str(shared_agent.socket), *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_the_original_examples_verbatim_then_commit_then_show_running_dsl(
    agent: Any, run_cli: Any, tmp_path: Path
) -> None:
    path = script(tmp_path, INTERFACES + ORIGINAL + 'commit comment "original"\n')
    done = run_cli(agent.socket, "-f", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("commit 1 complete")
    shown = run_cli(agent.socket, "-c", "show running | dsl")
    assert shown.stdout == EXPECTED
    with agent.client() as client:
        assert client.ok("compare") == []
        # the rendering is itself a script: replaying it changes nothing
        client.ok("dsl", {"text": shown.stdout})
        assert client.ok("compare") == []


def test_route_sync_replaces_exactly_the_routing_configuration(
    shared_agent: Any, flyos: Flyos, tmp_path: Path
) -> None:
    setup = INTERFACES + (
        "system set { hostname edge1 }\n"
        "route add static { prefix 10.9.0.0/16; via 10.0.0.9 }\n"
        "route add bgp { prefix 10.8.0.0/16; med 5 }\n"
        "acl add acl { name web; rule { sequence 10; action accept; protocol tcp\n"
        "                               destination { port [ 80, 443 ] } } }\n"
        "commit\n"
    )
    assert flyos("-f", script(tmp_path, setup))[0] == 0
    with shared_agent.client() as client:
        before = client.ok("get-config")
    sync = "route sync {\n  static { prefix 10.7.0.0/16; dev eth1 }\n}\ncommit\n"
    status, _, err = flyos("-f", script(tmp_path, sync))
    assert status == 0, err
    with shared_agent.client() as client:
        after = client.ok("get-config")
    assert after["flyos-routing:routing"] == {"static": [{"prefix": "10.7.0.0/16", "dev": "eth1"}]}
    del before["flyos-routing:routing"], after["flyos-routing:routing"]
    assert after == before


def test_a_script_with_a_dsl_error_changes_nothing_and_says_where(
    shared_agent: Any, flyos: Flyos, tmp_path: Path
) -> None:
    text = "system set { hostname a1 }\ncommit\nroute add static {\n  prefix 1.0.0.0/8\n"
    text += "  vai 1.1.1.1\n}"
    assert flyos("-f", script(tmp_path, text)) == (
        1,
        "",
        "error: /flyos-routing:routing/static: line 5, column 3: "
        "unknown keyword 'vai' in routing static; did you mean 'via'?\n",
    )
    with shared_agent.client() as client:
        assert client.ok("get-config", {"source": "candidate", "path": "/system/hostname"}) != {
            "flyos-system:system": {"hostname": "a1"}
        }


def test_scripts_stop_at_the_first_runtime_error_unless_told_to_continue(
    flyos: Flyos, tmp_path: Path
) -> None:
    text = (
        "system set { location lab }\n"
        "route delete static { prefix 10.1.0.0/16 }\n"
        'commit comment "after the error"\n'
    )
    path = script(tmp_path, text)
    status, out, err = flyos("-f", path)
    assert status == 1 and "complete" not in out
    assert err == (
        "error: /flyos-routing:routing/static[prefix='10.1.0.0/16']: cannot delete: no such data\n"
    )
    status, out, err = flyos("--continue", "-f", path)
    assert status == 1 and re.fullmatch(r"commit \d+ complete \(\d+ changes\)\n", out)


def test_one_line_errors_for_every_kind_of_mistake(flyos: Flyos) -> None:
    def error(line: str) -> str:
        status, out, err = flyos("-c", line)
        assert status == 1 and out == ""
        assert len(err.splitlines()) == 1, err
        return err

    assert "missing '}' to close the '{' at line 1, column 18" in error(
        "route add static { prefix 10.0.0.0/24"
    )
    bad_type = error("route add static { prefix 10.0.0.0/24; metric ten }")
    assert bad_type.startswith("error: /flyos-routing:routing/static/metric: line 1, column 47")
    assert "'ten' is not an integer" in bad_type
    assert "did you mean 'route'?" in error("rout add static { prefix 10.0.0.0/24 }")
    assert "unknown command 'comit'; did you mean 'commit'?" in error("comit")
    assert error("route add static { prefix 10.60.0.0/24; via 10.0.0.1 }; "
                 "route add static { prefix 10.60.0.0/24; via 10.0.0.2 }") == (
        "error: /flyos-routing:routing/static[prefix='10.60.0.0/24']: "
        "cannot create: the data already exists\n"
    )  # fmt: skip
    assert "no such data" in error("route delete static { prefix 10.99.0.0/24 }")
    assert "usage: commit" in error("commit now")
    assert flyos("-c", "discard")[0] == 0


def test_edit_while_another_session_holds_the_lock(shared_agent: Any, flyos: Flyos) -> None:
    with shared_agent.client() as holder:
        holder.ok("lock", {"target": "candidate"})
        status, _, err = flyos("-c", "system set { hostname other }")
        assert status == 1
        assert err.startswith("error: the candidate datastore is locked by session")
        holder.ok("unlock", {"target": "candidate"})
    assert flyos("-c", "system set { hostname other }; discard")[0] == 0


def test_dsl_over_ipc_edits_the_candidate_or_running(shared_agent: Any) -> None:
    with shared_agent.client() as client:
        assert client.ok("dsl", {"text": "system set { hostname r1 }"}) is None
        candidate = client.ok("get-config", {"source": "candidate", "path": "/system"})
        assert candidate["flyos-system:system"]["hostname"] == "r1"
        result = client.ok("dsl", {"text": "system set { contact noc }", "target": "running"})
        assert result["changed"] is True
        error = client.error("dsl", {"text": "system set {\n  hostnme r2\n}"})
        assert error["tag"] == "invalid-value"
        assert error["path"] == "/flyos-system:system"
        assert error["info"]["line"] == 2 and error["info"]["column"] == 3
        assert error["info"]["did-you-mean"] == "hostname"
        assert error["message"].startswith("line 2, column 3: unknown keyword 'hostnme'")
        client.ok("discard")


def test_show_formats_and_json_output(flyos: Flyos) -> None:
    assert flyos("-c", "system set { hostname r1 }; commit")[0] == 0
    assert "system set { hostname r1" in flyos("-c", "show running system | set")[1]
    xml = flyos("-c", "show running | xml")[1]
    assert (
        '<system xmlns="urn:flyos:yang:flyos-system">' in xml and "<hostname>r1</hostname>" in xml
    )
    assert '"flyos-system:system"' in flyos("--json", "-c", "show candidate system")[1]
    history = flyos("-c", "show history")[1].splitlines()
    assert history[0].split() == ["rollback", "commit", "time", "user", "channel", "comment"]
    assert flyos("-c", "show state")[1] == "no operational state\n"
    assert "static pbr bgp ospf" in flyos("-c", "list")[1]
