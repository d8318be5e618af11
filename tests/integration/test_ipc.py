"""Every IPC command end to end against a real flyos-agent process."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROUTE_PATH = "/routing/static[prefix='{}']"


def add_route(client: Any, prefix: str, via: str = "192.168.1.1") -> Any:
    return client.ok("route add", [f"prefix={prefix}", f"via={via}"])


# ---------------------------------------------------------------------- the original shape


def test_original_request_shape_verbatim_over_a_raw_socket(shared_agent: Any) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.connect(str(shared_agent.socket))
        raw.sendall(
            b'{"id":"1","command":"route add","args":["prefix=10.0.0.0/24","via=192.168.1.1"]}\n'
        )
        reply = json.loads(raw.makefile("rb").readline())
    assert reply["id"] == "1"
    assert reply["ok"] is True
    assert reply["result"]["changed"] is True
    route = "/flyos-routing:routing/static[prefix='10.0.0.0/24']"
    assert {"operation": "create", "target": route} in reply["result"]["changes"]
    with shared_agent.client() as client:
        assert client.routes()["10.0.0.0/24"]["via"] == "192.168.1.1"


def test_module_verbs_take_objects_kind_words_and_kind_args(client: Any) -> None:
    client.ok("route add static", {"prefix": "10.1.1.0/24", "via": "192.168.1.2"})
    client.ok("route add", {"kind": "static", "prefix": "10.1.2.0/24", "via": "192.168.1.3"})
    client.ok("route set", ["prefix=10.1.1.0/24", "via=192.168.1.9", "metric=5"])
    assert client.routes()["10.1.1.0/24"] == {
        "prefix": "10.1.1.0/24",
        "via": "192.168.1.9",
        "metric": 5,
    }
    error = client.error("route add", ["prefix=10.1.2.0/24", "via=192.168.1.3"])
    assert error["tag"] == "data-exists"
    client.ok("route delete", ["prefix=10.1.2.0/24"])
    assert "10.1.2.0/24" not in client.routes()
    assert client.error("route add", ["prefix"])["tag"] == "invalid-value"
    assert client.error("route add", {"via": "192.168.1.1"})["tag"] == "missing-element"
    assert client.error("route add static", {"kind": "pbr", "priority": 1})["tag"] == (
        "invalid-value"
    )


def test_module_verbs_go_to_the_candidate_when_asked_or_private(client: Any) -> None:
    staged = {"prefix": "10.2.1.0/24", "via": "10.9.9.9", "target": "candidate"}
    assert client.ok("route add", staged) is None
    assert "10.2.1.0/24" not in client.routes()
    assert "10.2.1.0/24" in client.routes("candidate")
    client.ok("discard")
    client.ok("private")
    assert client.ok("whoami")["private"] is True
    assert client.ok("route add", ["prefix=10.2.2.0/24", "via=10.9.9.9"]) is None
    assert "10.2.2.0/24" in client.routes("candidate")
    assert client.ok("commit", {"comment": "private"})["changed"] is True
    assert "10.2.2.0/24" in client.routes()


# ---------------------------------------------------------------------- sessions


def test_ping_whoami_and_sessions(client: Any, shared_agent: Any) -> None:
    assert client.ok("ping") == {"pong": True}
    me = client.ok("whoami")
    assert (me["user"], me["group"], me["channel"]) == ("root", "admin", "ipc")
    assert me["peer"]["uid"] == 0
    with shared_agent.client() as other:
        other_id = other.ok("whoami")["session-id"]
        listed = {s["session-id"]: s for s in client.ok("sessions")}
        assert listed[me["session-id"]]["current"] is True
        assert listed[other_id]["current"] is False
        client.ok("kill-session", {"session-id": other_id})
        assert other.error("whoami")["tag"] == "access-denied"
        assert other.recv() is None  # the killed session's connection is closed
    assert client.error("kill-session", {})["tag"] == "bad-element"


def test_login_as_a_configured_user_and_group_rights(
    make_agent: Any, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flyos_agent.config import hash_password

    config = tmp_path / "agent.toml"
    config.write_text(
        f'[[user]]\nname = "vera"\npassword_hash = "{hash_password("viewpw")}"\ngroup = "viewer"\n'
    )
    agent = make_agent(config=config).start()
    with agent.client() as client:
        assert client.error("login", {"user": "vera", "password": "nope"})["tag"] == (
            "access-denied"
        )
        me = client.ok("login", {"user": "vera", "password": "viewpw"})
        assert (me["user"], me["group"]) == ("vera", "viewer")
        assert client.ok("get-config") == {}
        error = client.error("route add", ["prefix=10.3.0.0/24", "via=10.0.0.1"])
        assert error["tag"] == "access-denied"
    with agent.client() as guesser:
        for _ in range(3):
            assert guesser.error("login", {"user": "vera", "password": "x"})["tag"] == (
                "access-denied"
            )
        assert guesser.recv() is None  # three failures close the connection
    monkeypatch.setenv("FLYOS_PASSWORD", "viewpw")
    assert run_cli(agent.socket, "--user", "vera", "-c", "show running").returncode == 0
    denied = run_cli(
        agent.socket, "--user", "vera", "-c", "route add prefix=10.3.0.0/24 via=1.1.1.1"
    )
    assert denied.returncode == 1 and "may not write" in denied.stderr
    monkeypatch.setenv("FLYOS_PASSWORD", "wrong")
    refused = run_cli(agent.socket, "--user", "vera", "-c", "show running")
    assert refused.returncode == 1 and refused.stderr.startswith("error: login failed")


NOBODY_SCRIPT = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def call(command, args=None):
    f.write(json.dumps({"id": command, "command": command, "args": args or {}}).encode() + b"\n")
    f.flush()
    return json.loads(f.readline())
out = [call("ping"), call("whoami"), call("get-config"),
       call("login", {"user": "olga", "password": "wrong"}),
       call("login", {"user": "olga", "password": "s3cret"}),
       call("whoami"), call("route add", {"prefix": "10.4.0.0/24", "via": "10.0.0.1"})]
print(json.dumps(out))
"""


def test_a_non_root_peer_must_log_in(make_agent: Any, tmp_path: Path) -> None:
    from flyos_agent.config import hash_password

    config = tmp_path / "agent.toml"
    config.write_text(
        f'[[user]]\nname = "olga"\npassword_hash = "{hash_password("s3cret")}"\n'
        'group = "operator"\n'
    )
    agent = make_agent(config=config).start()
    assert agent.socket.stat().st_mode & 0o777 in (0o600, 0o660)
    agent.socket.chmod(0o666)  # let `nobody` reach the socket for this test
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else None
    if python is None or os.geteuid() != 0:
        pytest.skip("needs root and a system python3 that `nobody` can run")
    done = subprocess.run(
        [python, "-c", NOBODY_SCRIPT, str(agent.socket)],
        check=False,
        preexec_fn=_as_nobody,
        capture_output=True,
        text=True,
        timeout=20,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    ping, whoami, get, bad, good, me, edit = json.loads(done.stdout)
    assert ping["ok"]
    assert whoami["error"]["tag"] == "access-denied"
    assert get["error"]["tag"] == "access-denied"
    assert bad["error"]["tag"] == "access-denied"
    assert good["ok"] and good["result"]["user"] == "olga"
    assert me["result"]["group"] == "operator"
    assert me["result"]["peer"]["uid"] == 65534
    assert edit["ok"], edit
    with agent.client() as client:
        assert client.ok("history", {"limit": 1})[0]["user"] == "olga"


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


# ---------------------------------------------------------------------- reading


def test_get_config_get_with_paths_xpath_and_defaults(client: Any) -> None:
    client.ok("route add", ["prefix=10.5.0.0/24", "via=10.0.0.5"])
    only = client.ok("get-config", {"path": ROUTE_PATH.format("10.5.0.0/24")})
    assert only == {
        "flyos-routing:routing": {"static": [{"prefix": "10.5.0.0/24", "via": "10.0.0.5"}]}
    }
    selected = client.ok("get-config", {"xpath": "/routing/static[via='10.0.0.5']"})
    assert [r["prefix"] for r in selected["flyos-routing:routing"]["static"]] == ["10.5.0.0/24"]
    with_host = {**client.ok("get-config"), "flyos-system:system": {"hostname": "r1"}}
    client.ok("copy", {"target": "running", "config": with_host})
    explicit = client.ok("get-config", {"path": "/system"})
    assert explicit == {"flyos-system:system": {"hostname": "r1"}}
    full = client.ok("get-config", {"path": "/system", "with-defaults": "report-all"})
    assert full["flyos-system:system"]["ipv4-forwarding"] is True
    state = client.ok("get", {"path": "/system"})
    assert state["flyos-system:system"]["hostname"] == "r1"
    assert client.error("get-config", {"source": "nowhere"})["tag"] == "invalid-value"
    assert client.error("get-config", {"path": "/nothing"})["tag"] == "unknown-element"
    assert client.error("get-config", {"bogus": 1})["tag"] == "bad-element"


def test_edit_candidate_running_and_test_only(client: Any) -> None:
    path = ROUTE_PATH.format("10.6.0.0/24")
    edits = [
        {"operation": "create", "path": path, "value": {"prefix": "10.6.0.0/24", "via": "10.0.0.6"}}
    ]
    assert client.ok("edit", {"target": "candidate", "edits": edits}) is None
    assert client.ok("compare")[-1:] == [
        {
            "operation": "create",
            "target": "/flyos-routing:routing/static[prefix='10.6.0.0/24']",
            "value": {"prefix": "10.6.0.0/24", "via": "10.0.0.6"},
        }
    ]
    client.ok("validate")
    client.ok("discard")
    assert client.ok("compare") == []
    assert (
        client.ok("edit", {"target": "running", "edits": edits, "test-option": "test-only"}) is None
    )
    assert "10.6.0.0/24" not in client.routes()
    result = client.ok("edit", {"target": "running", "edits": edits})
    assert result["changed"] and "10.6.0.0/24" in client.routes()
    merge = [{"path": path + "/metric", "value": 7}]
    client.ok("edit", {"target": "running", "edits": merge, "default-operation": "merge"})
    assert client.routes()["10.6.0.0/24"]["metric"] == 7
    assert client.error("edit", {"target": "running", "edits": edits})["tag"] == "data-exists"
    bad_op = [{"operation": "explode", "path": path}]
    assert client.error("edit", {"edits": bad_op})["tag"] == "bad-element"
    assert client.error("edit", {"edits": edits, "error-option": "maybe"})["tag"] == "bad-element"


# ---------------------------------------------------------------------- commit and friends


def test_commit_check_comment_and_history(client: Any) -> None:
    add_route(client, "10.7.9.0/24")
    client.ok("route add", {"prefix": "10.7.0.0/24", "via": "10.0.0.7", "target": "candidate"})
    plan = client.ok("commit", {"check": True})
    assert plan["changed"] is False and "plan" in plan
    assert plan["changes"][-1]["target"] == "/flyos-routing:routing/static[prefix='10.7.0.0/24']"
    done = client.ok("commit", {"comment": "seventh"})
    assert done["changed"] and done["commit-id"] > 0
    newest = client.ok("history", {"limit": 2})
    assert len(newest) == 2
    assert newest[0]["commit-id"] == done["commit-id"] and newest[0]["comment"] == "seventh"
    assert newest[0]["rollback"] == 0 and newest[1]["rollback"] == 1
    assert client.ok("commit") == {"changed": False, "commit-id": None, "changes": []}


def test_confirmed_commit_confirm_and_cancel(client: Any, shared_agent: Any) -> None:
    client.ok("route add", {"prefix": "10.8.1.0/24", "via": "10.0.0.8", "target": "candidate"})
    pending = client.ok("commit", {"confirmed": True, "timeout": 60})
    assert 0 < pending["confirm-timeout"] <= 60
    with shared_agent.client() as other:
        assert other.error("confirm")["tag"] == "operation-failed"
    client.ok("confirm")
    assert "10.8.1.0/24" in client.routes()
    assert client.error("confirm")["tag"] == "operation-failed"

    client.ok("route add", {"prefix": "10.8.2.0/24", "via": "10.0.0.8", "target": "candidate"})
    client.ok("commit", {"confirmed": True, "persist": "tok-1"})
    with shared_agent.client() as other:
        assert other.error("cancel-commit", {"persist-id": "wrong"})["tag"] == "invalid-value"
        other.ok("cancel-commit", {"persist-id": "tok-1"})
    assert "10.8.2.0/24" not in client.routes()
    assert client.ok("history", {"limit": 1})[0]["comment"].startswith("confirmed commit reverted")


def test_locks(client: Any, shared_agent: Any) -> None:
    client.ok("lock", {"target": "running"})
    with shared_agent.client() as other:
        assert other.error("lock", {"target": "running"})["tag"] == "lock-denied"
        error = other.error("route add", ["prefix=10.9.0.0/24", "via=10.0.0.9"])
        assert error["tag"] == "in-use"
        assert other.error("unlock", {"target": "running"})["tag"] == "operation-failed"
    client.ok("unlock", {"target": "running"})
    client.ok("lock")
    client.ok("unlock")


def test_copy_delete_rollback_compare(client: Any) -> None:
    add_route(client, "10.10.1.0/24")
    before = client.ok("get-config")
    add_route(client, "10.10.2.0/24")
    client.ok("copy", {"source": "running", "target": "startup"})
    assert client.ok("get-config", {"source": "startup"}) == client.ok("get-config")
    client.ok("delete", {"target": "startup"})
    assert client.ok("get-config", {"source": "startup"}) == {}
    assert client.error("delete", {"target": "running"})["tag"] == "operation-not-supported"

    client.ok("rollback", {"index": 1})
    assert client.ok("get-config", {"source": "candidate"}) == before
    diff = client.ok("compare", {"source": "running", "target": "candidate"})
    assert diff == [
        {"operation": "delete", "target": "/flyos-routing:routing/static[prefix='10.10.2.0/24']"}
    ]
    client.ok("discard")
    first = client.ok("history")[-1]["commit-id"]
    client.ok("rollback", {"commit-id": first})
    assert client.ok("compare", {"source": f"commit:{first}", "target": "candidate"}) == []
    client.ok("discard")
    assert client.ok("compare", {"source": "rollback:1", "target": "running"})
    inline = {"flyos-system:system": {"hostname": "inline"}}
    assert client.ok("copy", {"target": "candidate", "config": inline}) is None
    assert client.ok("get-config", {"source": "candidate"}) == inline
    client.ok("discard")
    assert client.error("rollback", {"index": 1, "commit-id": 1})["tag"] == "bad-element"


# ---------------------------------------------------------------------- misbehaving clients


def test_malformed_json_and_unknown_commands_keep_the_connection(client: Any) -> None:
    client.send_raw(b'{"id": 1, "command": \n')
    reply = client.recv()
    assert reply is not None and reply["error"]["tag"] == "malformed-message"
    client.send_raw(b'[1, 2]\n{"id": 2}\n{"id": 3, "command": "ping", "args": 5}\n')
    assert [client.recv()["error"]["tag"] for _ in range(3)] == ["malformed-message"] * 3
    error = client.error("frobnicate the router")
    assert error["tag"] == "operation-not-supported"
    assert "frobnicate the router" in error["message"]
    assert client.error("route explode")["tag"] == "operation-not-supported"
    assert client.error("commit", ["confirmed=yes"])["tag"] == "bad-element"
    assert client.ok("ping") == {"pong": True}


def test_an_oversized_message_is_refused_and_the_connection_closed(
    make_agent: Any, tmp_path: Path
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("[agent]\nmax_message_bytes = 65536\n")
    agent = make_agent(config=config).start()
    with agent.client() as client:
        big = json.dumps({"id": 1, "command": "ping", "args": {"x": "y" * 100_000}}).encode()
        with contextlib.suppress(BrokenPipeError):
            client.send_raw(big + b"\n")
        reply = client.recv()
        assert reply is not None and reply["error"]["tag"] == "too-big"
        assert client.recv() is None
    with agent.client() as client:
        assert client.ok("ping") == {"pong": True}
        fits = {"x": "y" * 60_000}
        assert client.error("ping", fits)["tag"] == "bad-element"


def test_a_client_vanishing_mid_request_loses_its_locks(shared_agent: Any, wait_for: Any) -> None:
    leaver = shared_agent.client()
    leaver.ok("lock", {"target": "running"})
    leaver.ok("lock", {"target": "candidate"})
    leaver.send("route add", {"prefix": "10.11.0.0/24", "via": "10.0.0.11", "target": "candidate"})
    leaver.send_raw(b'{"id": "half-a-requ')
    leaver.close()
    with shared_agent.client() as other:
        wait_for(lambda: other.call("lock", {"target": "running"})["ok"])
        other.ok("lock", {"target": "candidate"})
        assert "10.11.0.0/24" not in other.routes("candidate")
        other.ok("unlock", {"target": "candidate"})
        other.ok("unlock", {"target": "running"})


def test_a_client_vanishing_reverts_its_unconfirmed_commit(
    shared_agent: Any, wait_for: Any
) -> None:
    leaver = shared_agent.client()
    leaver.ok("route add", {"prefix": "10.12.0.0/24", "via": "10.0.0.12", "target": "candidate"})
    assert leaver.ok("commit", {"confirmed": True, "timeout": 600})["changed"]
    leaver.send("get-config", {})
    leaver.close()
    with shared_agent.client() as other:
        wait_for(lambda: "10.12.0.0/24" not in other.routes())
        newest = other.ok("history", {"limit": 1})[0]
        assert newest["user"] == "system"
        assert "confirmed commit reverted" in newest["comment"]
        assert other.ok("ping") == {"pong": True}


def test_a_persistent_confirmed_commit_outlives_its_client(shared_agent: Any) -> None:
    leaver = shared_agent.client()
    leaver.ok("route add", {"prefix": "10.13.0.0/24", "via": "10.0.0.13", "target": "candidate"})
    leaver.ok("commit", {"confirmed": True, "persist": "keep-me"})
    leaver.close()
    with shared_agent.client() as other:
        assert other.error("confirm")["tag"] == "invalid-value"
        other.ok("confirm", {"persist-id": "keep-me"})
        assert "10.13.0.0/24" in other.routes()
        other.ok("route add", {"prefix": "10.13.1.0/24", "via": "10.0.0.13", "target": "candidate"})
        other.ok("commit", {"confirmed": True, "persist": "again"})
    with shared_agent.client() as third:
        assert third.ok("commit", {"persist-id": "again"})["changed"] is False
        assert third.error("cancel-commit", {"persist-id": "again"})["tag"] == "operation-failed"
        assert "10.13.1.0/24" in third.routes()
        third.ok("validate", {"source": "running"})


# ---------------------------------------------------------------------- the flyos client


def test_cli_runs_the_original_verb_and_shows_config(shared_agent: Any, run_cli: Any) -> None:
    sock = shared_agent.socket
    done = run_cli(sock, "-c", "route add prefix=10.20.0.0/24 via=192.168.1.1")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"commit \d+ complete \(\d+ changes?\)\n", done.stdout)
    text = run_cli(sock, "-c", "show running").stdout
    assert "route sync {" in text and "prefix 10.20.0.0/24;" in text
    config = json.loads(run_cli(sock, "-c", "show running json").stdout)
    prefixes = [r["prefix"] for r in config["flyos-routing:routing"]["static"]]
    assert "10.20.0.0/24" in prefixes
    assert json.loads(run_cli(sock, "--json", "-c", "show history").stdout)[0]["rollback"] == 0


def test_cli_errors_are_one_line_with_the_path(shared_agent: Any, run_cli: Any) -> None:
    done = run_cli(shared_agent.socket, "-c", "route add prefix=10.20.0.0/33 via=192.168.1.1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: ") and "prefix" in done.stderr
    missing = run_cli(shared_agent.socket.with_name("nothing.sock"), "-c", "show running")
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot connect")
    piped = run_cli(shared_agent.socket, stdin="show nonsense\n")  # not a terminal: a script
    assert piped.returncode == 1 and piped.stderr.startswith("error: usage: show")


def test_cli_script_stops_at_the_first_error_unless_continue(
    shared_agent: Any, run_cli: Any, tmp_path: Path
) -> None:
    script = tmp_path / "script.flyos"
    script.write_text(
        "# a comment\n"
        "lock\n"
        "route add prefix=10.21.0.0/24 via=192.168.1.1 target=candidate\n"
        "show compare\n"
        "bogus-verb\n"
        'commit comment "from a script"\n'
        "unlock\n"
    )
    stopped = run_cli(shared_agent.socket, "-f", str(script))
    assert stopped.returncode == 1
    assert "+    static { prefix 10.21.0.0/24; via 192.168.1.1 }" in stopped.stdout
    assert stopped.stderr == "error: unknown command 'bogus-verb'\n"
    assert "complete" not in stopped.stdout
    kept_going = run_cli(shared_agent.socket, "--continue", "-f", str(script))
    assert kept_going.returncode == 1
    assert re.search(r"commit \d+ complete", kept_going.stdout)
    with shared_agent.client() as client:
        assert client.ok("history", {"limit": 1})[0]["comment"] == "from a script"


def test_cli_commit_confirmed_then_confirm_from_another_run(
    shared_agent: Any, run_cli: Any
) -> None:
    sock = shared_agent.socket
    added = run_cli(sock, "-c", "route add prefix=10.22.0.0/24 via=10.0.0.1 target=candidate")
    assert added.returncode == 0
    assert "check succeeds" in run_cli(sock, "-c", "commit check").stdout
    pending = run_cli(sock, "-c", "commit confirmed 5 comment trial")
    assert pending.returncode == 0, pending.stderr
    assert "rolls back in 300 s" in pending.stdout
    confirmed = run_cli(sock, "-c", "confirm")
    assert confirmed.returncode == 0, confirmed.stderr
    with shared_agent.client() as client:
        assert "10.22.0.0/24" in client.routes()


def test_cli_rollback_compare_discard_validate_copy(shared_agent: Any, run_cli: Any) -> None:
    sock = shared_agent.socket
    assert run_cli(sock, "-c", "route add prefix=10.23.0.0/24 via=10.0.0.1").returncode == 0
    assert run_cli(sock, "-c", "rollback 1").stdout == "loaded rollback 1 into the candidate\n"
    diff = run_cli(sock, "-c", "show compare")
    assert "-    static { prefix 10.23.0.0/24; via 10.0.0.1 }" in diff.stdout
    assert "no differences" in run_cli(sock, "-c", "show compare rollback 1").stdout
    assert run_cli(sock, "-c", "validate").returncode == 0
    assert run_cli(sock, "-c", "discard").returncode == 0
    assert "no differences" in run_cli(sock, "-c", "show compare").stdout
    assert run_cli(sock, "-c", "copy running startup").returncode == 0
    assert "prefix 10.23.0.0/24;" in run_cli(sock, "-c", "show startup").stdout
    assert run_cli(sock, "-c", "lock running").returncode == 0
    assert run_cli(sock, "-c", "show nonsense").returncode == 1
