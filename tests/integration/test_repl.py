"""The interactive CLI driven through prompt_toolkit pipe input against a real flyos-agent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from cli.ipc_client import IpcClient
from cli.repl import Repl, ReplCompleter
from cli.repl_commands import Commands
from cli.repl_session import AgentSession
from flyos_agent.errors import AccessDenied
from flyos_agent.schema import default_schema

ENTER, CTRL_C, CTRL_D = "\r", "\x03", "\x04"


@dataclass
class Terminal:
    """A REPL on a pipe: type into `keys`, read what it printed from `shown`."""

    repl: Repl
    keys: PipeInput
    shown: list[str] = field(default_factory=list)

    def type(self, *lines: str) -> None:
        for line in lines:
            self.keys.send_text(line + ENTER)

    def run(self) -> str:
        """Run until the input ends (Ctrl-D); everything printed."""
        self.keys.send_text(CTRL_D)
        assert self.repl.run() == 0
        return "\n".join(self.shown)


@contextmanager
def terminal(agent: Any) -> Iterator[Terminal]:
    with create_pipe_input() as keys, IpcClient(str(agent.socket), timeout=10) as client:
        shown: list[str] = []
        session = AgentSession(client, default_schema())
        repl = Repl(Commands(session), input=keys, output=DummyOutput(), write=shown.append)
        yield Terminal(repl, keys, shown)


@pytest.fixture(scope="module")
def ready(shared_agent: Any) -> Any:
    """The module's agent, with eth0 and eth1 configured."""
    agent = shared_agent
    with agent.client() as client:
        client.ok("dsl", {"text": "nic add interface { name eth0; type ethernet }\n"
                                  "nic add interface { name eth1; type ethernet }",
                          "target": "running"})  # fmt: skip
    return agent


def test_edit_compare_confirmed_commit_confirm_and_rollback(ready: Any) -> None:
    with terminal(ready) as term:
        assert term.repl.prompt() == f"root@{term.repl.host}# "
        term.type("route add static { prefix 10.40.0.0/24; via 10.0.0.4; dev eth0 }")
        term.type("route add bgp {", "  prefix 10.41.0.0/16", "  community [ 65001:1 ]", "}")
        term.type("show compare", "commit confirmed 1", "confirm")
        output = term.run()
        assert term.repl.prompt() == f"root@{term.repl.host}# "
    assert output.startswith("FlyOS agent CLI: root (admin)")
    assert "+    static { prefix 10.40.0.0/24; via 10.0.0.4; dev eth0 }" in output
    assert "+    bgp { prefix 10.41.0.0/16; community [ 65001:1 ] }" in output
    assert re.search(
        r"commit \d+ complete \(\d+ changes\); rolls back in 60 s unless confirmed", output
    )
    assert "commit confirmed: it stays" in output
    with ready.client() as client:
        assert "10.40.0.0/24" in client.routes()
        assert client.ok("compare") == []

    with terminal(ready) as term:
        term.type("rollback 1")
        term.repl.execute("")  # nothing to run
        output = term.run()
        assert term.repl.prompt().endswith("*# ")
    assert "loaded rollback 1 into the candidate" in output
    with terminal(ready) as term:
        term.type("show compare", "commit", "show compare")
        output = term.run()
    assert "-    static { prefix 10.40.0.0/24; via 10.0.0.4; dev eth0 }" in output
    assert re.search(r"commit \d+ complete", output) and output.endswith("no differences")
    with ready.client() as client:
        assert "10.40.0.0/24" not in client.routes()


def test_ctrl_c_drops_the_line_and_question_mark_lists_keywords_with_descriptions(
    ready: Any,
) -> None:
    with terminal(ready) as term:
        term.keys.send_text("route add static { prefix 10.50.0.0/24; ?" + CTRL_C)
        term.type('system set { description "why? because" }')
        output = term.run()
    assert "keywords of routing/static" in output
    assert "  via" in output and "The gateway address" in output
    assert "  track" in output and "Track the reachability of the next hop" in output
    assert "  prefix " not in output  # already given in this block
    with ready.client() as client:
        candidate = client.ok("get-config", {"source": "candidate"})
        assert candidate["flyos-system:system"] == {"description": "why? because"}
        assert "10.50.0.0/24" not in client.routes("candidate")
        client.ok("discard")


def test_completion_from_the_schema_and_the_configuration(ready: Any) -> None:
    def offered(text: str) -> dict[str, str]:
        with terminal(ready) as term:
            completer = ReplCompleter(term.repl.commands.help)
            found = completer.get_completions(
                Document(text), CompleteEvent(completion_requested=True)
            )
            return {c.text: c.display_meta_text for c in found}

    first = offered("")
    assert {"route", "nic", "acl", "system", "commit", "show", "help"} <= set(first)
    assert set(offered("route a")) == {"add"}
    assert list(offered("route add ")) == ["static", "pbr", "bgp", "ospf", "{"]
    keywords = offered("route add static { prefix 10.0.0.0/8; ")
    assert "prefix" not in keywords and keywords["via"].endswith("The gateway address")
    assert list(offered("route add static { dev ")) == ["eth0", "eth1"]
    assert list(offered("route add static { type u")) == ["unicast", "unreachable"]
    assert list(offered("show running | ")) == ["dsl", "set", "json", "xml"]
    assert list(offered("commit c")) == ["comment", "confirmed", "check"]


def test_errors_are_shown_with_the_column_and_the_session_goes_on(ready: Any) -> None:
    with terminal(ready) as term:
        term.type(
            "route add static { prefix 10.0.0.0/24; vai 1.1.1.1 }",
            "route add static { prefix 10.0.0.0/24; via 1.1.1.1 }",
            "route add static { prefix 10.0.0.0/24; via 1.1.1.2 }",
            "route delete static { prefix 10.9.9.0/24 }",
            "route add static { prefix 10.1.0.0/24; metric -1 }",
            "show nonsense",
        )
        output = term.run()
    assert "unknown keyword 'vai' in routing static; did you mean 'via'?" in output
    assert "\n  route add static { prefix 10.0.0.0/24; vai 1.1.1.1 }\n" + " " * 41 + "^" in output
    assert "cannot create: the data already exists" in output
    assert "/flyos-routing:routing/static[prefix='10.9.9.0/24']: cannot delete" in output
    assert "invalid value for 'metric'" in output
    assert "usage: show running|candidate|startup" in output
    with ready.client() as client:
        client.ok("discard")


def test_lock_private_candidate_env_help_list_and_exit(ready: Any) -> None:
    with terminal(ready) as holder, terminal(ready) as other:
        holder.repl.execute("lock")
        other.repl.execute("system set { hostname blocked }")
        assert "the candidate datastore is locked by session" in other.shown[-1]
        holder.repl.execute("unlock")
        other.repl.execute("configure private")
        other.repl.execute("system set { hostname mine }")
        assert other.repl.prompt().endswith("*# ")
        assert holder.repl.prompt().endswith("@" + holder.repl.host + "# ")
        other.type("env", "help commit", "help loca_pref", "list", "exit", "show history")
        output = other.run()
    assert "candidate   private" in output
    assert 'commit [comment "TEXT"] [confirmed [MINUTES]] [check]' in output
    assert "route bgp local-pref" in output and "The LOCAL_PREF attribute" in output
    assert "static pbr bgp ospf" in output
    assert "rollback  commit" not in output  # `exit` ended the session first


def test_a_configured_user_logs_in_at_the_prompt(make_agent: Any, tmp_path: Path) -> None:
    from flyos_agent.config import hash_password

    config = tmp_path / "agent.toml"
    config.write_text(
        f'[[user]]\nname = "vera"\npassword_hash = "{hash_password("viewpw")}"\ngroup = "viewer"\n'
    )
    agent = make_agent(config=config).start()
    with terminal(agent) as term:
        term.type("wrong", "viewpw")
        term.repl.session.ensure_login(term.repl.ask, "vera")
        assert term.repl.prompt() == f"vera@{term.repl.host}> "
        term.type("system set { hostname x }")
        output = term.run()
    assert "user 'vera' (group viewer) may not write" in output
    with terminal(agent) as term:
        term.type("bad", "bad", "bad")
        with pytest.raises(AccessDenied):
            term.repl.session.ensure_login(term.repl.ask, "vera")
