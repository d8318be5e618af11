"""flyos-agent as a process: start-up checks, the ready line, logging, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def one_line(done: Any) -> str:
    """The refusal: non-zero exit, exactly one stderr line, no traceback."""
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    line: str = lines[0]
    return line


def test_ready_line_names_socket_backend_and_last_commit(agent: Any) -> None:
    line = agent.ready_line
    assert f"ipc={agent.socket}" in line
    assert "backend=none" in line
    assert "last-commit=0" in line
    assert "netconf=off" in line and "rest=off" in line
    assert sum(1 for entry in agent.lines if entry.startswith("flyos-agent ready:")) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_ready_line_names_every_listener(make_agent: Any) -> None:
    netconf, rest = f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"
    agent = make_agent("--netconf-listen", netconf, "--rest-listen", rest)
    line = agent.start().ready_line
    assert f"netconf={netconf} " in line and f"rest={rest} " in line, line


def test_sigterm_closes_sessions_and_removes_the_socket(agent: Any) -> None:
    with agent.client() as client:
        client.ok("route add", ["prefix=10.0.0.0/24", "via=192.168.1.1"])
        client.ok("lock", {"target": "running"})
        assert agent.stop(signal.SIGTERM) == 0
        assert client.recv() is None
    assert not agent.socket.exists()
    assert any('"session-close' in line for line in agent.lines)
    agent.start()
    with agent.client() as client:
        assert "10.0.0.0/24" in client.routes()
        client.ok("lock", {"target": "running"})
    assert agent.stop(signal.SIGINT) == 0


def test_audit_lines_are_json_objects(agent: Any) -> None:
    with agent.client() as client:
        client.ok("route add", ["prefix=10.0.0.0/24", "via=192.168.1.1"])
    assert agent.stop() == 0
    audit = [json.loads(line) for line in agent.lines if line.startswith("{")]
    assert any(entry["message"].startswith("commit id=1 ") for entry in audit)
    assert all(entry["logger"] == "flyos.audit" and "time" in entry for entry in audit)


def test_state_dir_is_created_private(agent: Any) -> None:
    assert agent.state_dir.stat().st_mode & 0o777 == 0o700
    assert (agent.state_dir / "flyos.db").exists()


def test_startup_config_is_the_first_commit_of_an_empty_journal(
    make_agent: Any, tmp_path: Path
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(f'[agent]\nstartup_config = "{REPO / "examples/demo.json"}"\n')
    agent = make_agent(config=config).start()
    assert "last-commit=1" in agent.ready_line
    with agent.client() as client:
        assert client.ok("get-config")["flyos-system:system"]["hostname"] == "flyos-demo"
        client.ok("route delete", ["prefix=0.0.0.0/0"])
    assert agent.stop() == 0
    agent.start()
    with agent.client() as client:
        assert len(client.ok("history")) == 2
        assert "0.0.0.0/0" not in client.routes()


def test_boot_from_startup_commits_the_startup_datastore_over_running(
    make_agent: Any, tmp_path: Path
) -> None:
    agent = make_agent().start()
    with agent.client() as client:
        client.ok("route add", ["prefix=10.1.0.0/16", "type=blackhole"])
    agent.stop()
    agent.start()
    with agent.client() as client:
        client.ok("route delete", ["prefix=10.1.0.0/16"])
        client.ok("route add", ["prefix=10.2.0.0/16", "type=blackhole"])
        client.ok("copy", {"source": "running", "target": "startup"})
        client.ok("route add", ["prefix=10.3.0.0/16", "type=blackhole"])
    agent.stop()
    agent.start()
    with agent.client() as client:
        assert set(client.routes()) == {"10.2.0.0/16", "10.3.0.0/16"}  # journal wins
    agent.stop()
    config = tmp_path / "boot.toml"
    config.write_text('[agent]\nboot_from = "startup"\n')
    agent.args += ["--config", str(config)]
    agent.start()
    with agent.client() as client:
        assert set(client.routes()) == {"10.2.0.0/16"}
        assert "startup" in client.ok("history")[0]["comment"]


def test_flags_override_the_file_and_file_paths_are_relative_to_it(
    make_agent: Any, tmp_path: Path
) -> None:
    (tmp_path / "demo.json").write_text((REPO / "examples/demo.json").read_text())
    config = tmp_path / "agent.toml"
    config.write_text(
        '[agent]\nbackend = "linux"\nipc_socket = "/nonexistent/x.sock"\n'
        'state_dir = "/nonexistent/state"\nstartup_config = "demo.json"\n'
    )
    agent = make_agent(config=config).start()
    assert "backend=none" in agent.ready_line and f"ipc={agent.socket}" in agent.ready_line
    with agent.client() as client:
        assert client.ok("history")[0]["comment"].endswith(f"{tmp_path / 'demo.json'} to running")


# ---------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("startup", "expected"),
    [
        ("examples/invalid/dangling-leafref-route-dev.json", "'eth9' does not exist"),
        ("examples/nothing-here.json", "cannot read"),
        ("pyproject.toml", "not valid JSON"),
    ],
)
def test_a_bad_startup_config_is_refused_with_one_line(
    run_agent: Any, tmp_path: Path, short_dir: Path, startup: str, expected: str
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(f'[agent]\nstartup_config = "{REPO / startup}"\n')
    state = tmp_path / "s"
    sock = short_dir / "s.sock"
    args = ["--config", str(config), "--state-dir", str(state), "--ipc-socket", str(sock)]
    line = one_line(run_agent(*args, "--backend", "none"))
    assert line.startswith(f"flyos-agent: startup_config {REPO / startup}: ")
    assert expected in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[agent\n", "not valid TOML"),
        ("[agent]\ncolour = 'blue'\n", "unknown key [agent] colour"),
        ("[agent]\nconfirm_timeout = -5\n", "[agent] confirm_timeout"),
        ("[agent]\nbackend = 'vpp'\n", "[agent] backend"),
        ("[agent]\nnetconf_listen = 'everywhere'\n", "[agent] netconf_listen"),
        ("[[user]]\nname = 'x'\npassword_hash = 'plain'\ngroup = 'admin'\n", "password_hash"),
        (
            "[[user]]\nname = 'x'\npassword_hash = '$scrypt$n=2,r=1,p=1$AA==$AA=='\n"
            "group = 'root'\n",
            "[[user]] 'x' group",
        ),
    ],
)
def test_a_bad_config_is_refused_with_one_line(
    run_agent: Any, tmp_path: Path, short_dir: Path, content: str, expected: str
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(content)
    done = run_agent(
        "--config",
        str(config),
        "--state-dir",
        str(tmp_path / "s"),
        "--ipc-socket",
        str(short_dir / "s.sock"),
        "--backend",
        "none",
    )
    line = one_line(done)
    assert expected in line and str(config) in line
    assert not (short_dir / "s.sock").exists()


def test_bad_flags_are_refused_with_one_line(
    run_agent: Any, tmp_path: Path, short_dir: Path
) -> None:
    common = ["--state-dir", str(tmp_path / "s"), "--ipc-socket", str(short_dir / "s.sock")]
    assert "--rest-listen" in one_line(
        run_agent(*common, "--rest-listen", "nope", "--backend", "none")
    )
    assert "does not exist" in one_line(
        run_agent(*common, "--backend", "none", "--netns", "no-such-ns-x")
    )
    assert "cannot read config file" in one_line(run_agent("--config", str(tmp_path / "x.toml")))


def test_an_untrusted_state_dir_is_refused(run_agent: Any, tmp_path: Path, short_dir: Path) -> None:
    common = ["--ipc-socket", str(short_dir / "s.sock"), "--backend", "none"]
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o700)
    loose.chmod(0o777)
    assert "group/world-writable" in one_line(run_agent("--state-dir", str(loose), *common))
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert "not a directory" in one_line(run_agent("--state-dir", str(a_file), *common))
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    assert "owned by uid 65534" in one_line(run_agent("--state-dir", str(foreign), *common))
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir(mode=0o700)
    (journal_dir / "flyos.db").write_text("")
    (journal_dir / "flyos.db").chmod(0o666)
    assert "flyos.db" in one_line(run_agent("--state-dir", str(journal_dir), *common))


def test_a_socket_in_use_by_a_live_agent_is_refused(
    agent: Any, run_agent: Any, tmp_path: Path
) -> None:
    other_state = str(tmp_path / "other")
    done = run_agent(
        "--state-dir", other_state, "--ipc-socket", str(agent.socket), "--backend", "none"
    )
    assert "already serving" in one_line(done)
    with agent.client() as client:
        assert client.ok("ping") == {"pong": True}


def test_a_state_dir_in_use_is_refused(agent: Any, run_agent: Any, short_dir: Path) -> None:
    done = run_agent(
        "--state-dir",
        str(agent.state_dir),
        "--ipc-socket",
        str(short_dir / "other.sock"),
        "--backend",
        "none",
    )
    assert "in use by another flyos-agent" in one_line(done)


def test_a_stale_socket_file_is_replaced(make_agent: Any) -> None:
    agent = make_agent()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(agent.socket))
    stale.close()
    assert agent.socket.exists()
    agent.start()
    with agent.client() as client:
        assert client.ok("ping") == {"pong": True}


def test_a_sigkilled_agent_reverts_its_pending_confirmed_commit_at_restart(agent: Any) -> None:
    with agent.client() as client:
        client.ok("route add", ["prefix=10.0.0.0/24", "via=192.168.1.1"])
        client.ok(
            "route add", {"prefix": "10.0.1.0/24", "via": "192.168.1.1", "target": "candidate"}
        )
        client.ok("commit", {"confirmed": True, "timeout": 600})
        assert "10.0.1.0/24" in client.routes()
        agent.stop(signal.SIGKILL)
    agent.start()
    assert any("reverting to commit 1" in line for line in agent.lines)
    with agent.client() as client:
        assert set(client.routes()) == {"10.0.0.0/24"}
        newest = client.ok("history", {"limit": 1})[0]
        assert newest["commit-id"] == 3
        assert newest["comment"].startswith("confirmed commit reverted: agent restarted")
        assert client.error("confirm")["tag"] == "operation-failed"


# ---------------------------------------------------------------------- hash-password


def test_hash_password_reads_stdin(run_agent: Any) -> None:
    from flyos_agent.config import verify_password

    done = run_agent("hash-password", stdin="correct horse\n")
    assert done.returncode == 0, done.stderr
    hashed = done.stdout.strip()
    assert hashed.startswith("$scrypt$n=16384,r=8,p=1$")
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horse ", hashed)
    assert one_line(run_agent("hash-password")) == "flyos-agent: empty password"
