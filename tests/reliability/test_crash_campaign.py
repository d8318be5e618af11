"""Crash campaign: SIGKILL the agent at random points of a NETCONF commit stream.

The agent runs the real Linux backend (netlink + nftables) in a fresh
namespace. A client streams edit-config + commit on the candidate: route adds,
changes and deletes (IPv4 and IPv6), whole-interface replaces (MTU,
description, admin state, IPv4 address) and ACL rule adds/deletes, one to
three of them per commit. The agent is SIGKILLed after a random delay (so
kills land before, during and after kernel applies and journal writes), and
now and then during its own start-up; it is restarted over the same state dir.

After every restart: the store loads; running holds every acknowledged commit
(the one in flight may or may not have landed, but wholly or not at all);
the kernel equals running (agent-owned routes and the ports, read with
`ip -j`) and the agent's own reconcile check (routes, rules, links, the
nftables table that holds the ACL) reports no drift.

Sizes: 10 kills in CI, 200 with FLYOS_CAMPAIGN=full; FLYOS_CRASH_SEED replays a run.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from ncclient.operations.errors import TimeoutExpiredError  # type: ignore[import-untyped]
from ncclient.operations.rpc import RPCError  # type: ignore[import-untyped]
from ncclient.transport.errors import TransportError  # type: ignore[import-untyped]

from .agent_harness import (
    ACL_NS,
    IF_NS,
    RT_NS,
    AgentProcess,
    AgentStartFailed,
    Namespace,
    campaign_size,
    config_xml,
    reconcile_drift,
    route_xml,
    running_ports,
    running_routes,
    seed_from_env,
)

pytestmark = pytest.mark.netns

KILLS = campaign_size(short=10, full=200)
STREAM_SECONDS = 0.6  # the longest a commit stream runs before its kill
START_KILL_SHARE = 0.1  # the share of kills that land in the agent's start-up instead
START_SECONDS = 1.2  # about how long start-up takes (where a start-up kill lands)
PORTS = ("eth1", "eth2")  # the ports the stream replaces; eth0 carries the next hop
GATEWAY = "10.0.0.2"
ACL = "campaign"
MTUS = (1280, 1400, 1500, 9000)
ADDRESSES = tuple(f"10.{{}}.{n}.1/24" for n in range(0, 250, 7))
DISCONNECTED = (TransportError, TimeoutExpiredError, OSError, EOFError)

Port = dict[str, Any]


@dataclass
class Model:
    """What running must hold: the routes (prefix -> next hop or 'blackhole'), the
    ports (Namespace.port's form) and the ACL's rules (sequence -> TCP port)."""

    routes: dict[str, str] = field(default_factory=dict)
    ports: dict[str, Port] = field(default_factory=dict)
    rules: dict[int, int] = field(default_factory=dict)

    def copy(self) -> Model:
        return copy.deepcopy(self)

    @classmethod
    def of_running(cls, config: dict[str, Any]) -> Model:
        """The Model view of an RFC 7951 running config."""
        acls = config.get("flyos-acl:acls", {}).get("acl", [])
        rules: list[dict[str, Any]] = next(
            (acl.get("rule", []) for acl in acls if acl["name"] == ACL), []
        )
        return cls(
            routes={prefix: target for prefix, _table, target in running_routes(config)},
            ports=running_ports(config, PORTS),
            rules={rule["sequence"]: int(rule["destination"]["port"][0]) for rule in rules},
        )

    def differences(self, other: Model) -> list[str]:
        """Human-readable differences from `other` (empty when equal)."""
        out = [
            f"route {prefix}: {self.routes.get(prefix)} != {other.routes.get(prefix)}"
            for prefix in sorted(self.routes.keys() | other.routes.keys())
            if self.routes.get(prefix) != other.routes.get(prefix)
        ]
        out += [
            f"port {name}: {self.ports.get(name)} != {other.ports.get(name)}"
            for name in PORTS
            if self.ports.get(name) != other.ports.get(name)
        ]
        if self.rules != other.rules:
            out.append(f"acl rules: {self.rules} != {other.rules}")
        return out


# ---------------------------------------------------------------------- edits


@dataclass
class Edit:
    """One commit's edit-config: XML fragments per module, and the Model after it."""

    after: Model
    routes: list[str] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def xml(self) -> str:
        """The <config> of edit-config."""
        body = ""
        if self.routes:
            body += f'<routing xmlns="{RT_NS}">{"".join(self.routes)}</routing>'
        if self.interfaces:
            body += f'<interfaces xmlns="{IF_NS}">{"".join(self.interfaces)}</interfaces>'
        if self.rules:
            rules = "".join(self.rules)
            body += f'<acls xmlns="{ACL_NS}"><acl><name>{ACL}</name>{rules}</acl></acls>'
        return config_xml(body)


def port_xml(name: str, port: Port) -> str:
    """A whole interface entry, replaced."""
    description = f"<description>{port['description']}</description>" if port["description"] else ""
    addresses = "".join(
        f"<address><ip>{ip}</ip><prefix-length>{length}</prefix-length></address>"
        for ip, length in (address.split("/") for address in port["ipv4"])
    )
    return (
        f'<interface nc:operation="replace"><name>{name}</name><type>ethernet</type>'
        f"<mtu>{port['mtu']}</mtu>{description}<enabled>{str(port['enabled']).lower()}</enabled>"
        f"<ipv4>{addresses}</ipv4></interface>"
    )


def rule_xml(sequence: int, tcp_port: int | None) -> str:
    """An ACL rule dropping TCP to `tcp_port`, replaced; or deleted."""
    if tcp_port is None:
        return f'<rule nc:operation="delete"><sequence>{sequence}</sequence></rule>'
    return (
        f'<rule nc:operation="replace"><sequence>{sequence}</sequence><action>drop</action>'
        f"<protocol>tcp</protocol><destination><port>{tcp_port}</port></destination></rule>"
    )


class EditMaker:
    """Random edits over a Model: each commit makes 1-3 real changes to distinct
    objects (never a no-op, so every acknowledged commit is one history record)."""

    def __init__(self, rng: random.Random, weights: tuple[int, int, int]) -> None:
        self.rng = rng
        self.weights = weights  # of route, port and ACL rule changes
        self.serial = 0

    def make(self, model: Model) -> Edit:
        edit = Edit(model.copy())
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            kind = self.rng.choices(("route", "port", "rule"), weights=self.weights)[0]
            getattr(self, f"_{kind}")(edit)
        if not (edit.routes or edit.interfaces or edit.rules):
            self._new_route(edit)
        return edit

    def _new_route(self, edit: Edit) -> None:
        self.serial += 1
        n = self.serial
        if self.rng.random() < 0.2:
            prefix = f"2001:db8:{n % 65536:x}::/48"
            target = "blackhole"
        else:
            prefix = f"10.{64 + n // 65536 % 64}.{n // 256 % 256}.{n % 256}/32"
            target = self.rng.choice(("blackhole", GATEWAY))
        edit.after.routes[prefix] = target
        edit.routes.append(route_xml(prefix, target))
        edit.touched.add(prefix)

    def _route(self, edit: Edit) -> None:
        existing = sorted(set(edit.after.routes) - edit.touched)
        roll = self.rng.random()
        if not existing or roll < 0.6:
            self._new_route(edit)
            return
        prefix = self.rng.choice(existing)
        edit.touched.add(prefix)
        if roll < 0.85 or ":" in prefix:
            del edit.after.routes[prefix]
            edit.routes.append(route_xml(prefix, None))
        else:
            target = GATEWAY if edit.after.routes[prefix] == "blackhole" else "blackhole"
            edit.after.routes[prefix] = target
            edit.routes.append(route_xml(prefix, target))

    def _port(self, edit: Edit) -> None:
        free = [name for name in PORTS if name not in edit.touched]
        if not free:
            return
        name = self.rng.choice(free)
        edit.touched.add(name)
        port = edit.after.ports[name]
        index = PORTS.index(name) + 1
        for change in self.rng.sample(("mtu", "description", "enabled", "ipv4"), 2):
            if change == "mtu":
                port["mtu"] = self.rng.choice([m for m in MTUS if m != port["mtu"]])
            elif change == "description":
                self.serial += 1
                new = f"port {name} v{self.serial}"
                port["description"] = self.rng.choice((None, new)) if port["description"] else new
            elif change == "enabled":
                port["enabled"] = not port["enabled"]
            else:
                choices = [a.format(index) for a in ADDRESSES]
                port["ipv4"] = [self.rng.choice([a for a in choices if [a] != port["ipv4"]])]
        edit.interfaces.append(port_xml(name, port))

    def _rule(self, edit: Edit) -> None:
        if "acl" in edit.touched:
            return
        edit.touched.add("acl")
        rules = edit.after.rules
        if rules and self.rng.random() < 0.4:
            sequence = self.rng.choice(sorted(rules))
            del rules[sequence]
            edit.rules.append(rule_xml(sequence, None))
        else:
            sequence = self.rng.choice([n for n in range(1, 1000) if n not in rules])
            rules[sequence] = self.rng.randrange(1024, 65535)
            edit.rules.append(rule_xml(sequence, rules[sequence]))


def initial_config() -> tuple[Model, str]:
    """The first commit: eth0 (next-hop subnet), the ports, the ACL bound to eth0."""
    model = Model(
        ports={
            name: {"mtu": 1500, "description": None, "enabled": True, "ipv4": [f"10.{i}.0.1/24"]}
            for i, name in enumerate(PORTS, start=1)
        }
    )
    eth0 = (
        "<interface><name>eth0</name><type>ethernet</type><ipv4><address><ip>10.0.0.1</ip>"
        "<prefix-length>24</prefix-length></address></ipv4></interface>"
    )
    ports = "".join(port_xml(name, port) for name, port in model.ports.items())
    acl = (
        f'<acls xmlns="{ACL_NS}"><acl><name>{ACL}</name><default-action>accept</default-action>'
        f"</acl><interface><name>eth0</name><ingress>{ACL}</ingress></interface></acls>"
    )
    body = f'<interfaces xmlns="{IF_NS}">{eth0}{ports}</interfaces>{acl}'
    return model, config_xml(body)


# ---------------------------------------------------------------------- the stream


class CommitStream(threading.Thread):
    """Commits random edits over NETCONF until the agent dies.

    `acked` lists the Model after each acknowledged commit, in order;
    `in_flight` is the Model the unacknowledged commit would make (None
    between commits).
    """

    def __init__(self, agent: AgentProcess, model: Model, maker: EditMaker) -> None:
        super().__init__(daemon=True)
        self.agent = agent
        self.start_model = model
        self.acked: list[Model] = []
        self.maker = maker
        self.in_flight: Model | None = None
        self.failure: str | None = None
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            session = self.agent.netconf()
        except DISCONNECTED:
            return
        except Exception as exc:  # a kill during the SSH handshake surfaces as anything
            if self.agent.running:
                self.failure = f"connect failed with the agent up: {exc!r}"
            return
        self.connected.set()
        try:
            while True:
                edit = self.maker.make(self.acked[-1] if self.acked else self.start_model)
                self.in_flight = edit.after
                session.edit_config(target="candidate", config=edit.xml())
                session.commit()
                self.acked.append(edit.after)
                self.in_flight = None
        except RPCError as exc:
            if self.agent.running:
                self.failure = f"rpc-error with the agent up: {exc.tag}: {exc.message}"
        except DISCONNECTED:
            return  # the agent died mid-request: that commit was never acknowledged


# ---------------------------------------------------------------------- the campaign


@dataclass
class Figures:
    """What a campaign counted; `problems` describes every failed check."""

    kills: int = 0
    start_kills: int = 0
    commits: int = 0
    in_flight_landed: int = 0
    lost: int = 0
    unloadable: int = 0
    kernel_differs: int = 0
    reconcile_drift: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(f"kill {self.kills}: {text}")

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "kills": self.kills,
            "start-up kills": self.start_kills,
            "acked commits": self.commits,
            "in-flight landed": self.in_flight_landed,
            "lost": self.lost,
            "unloadable": self.unloadable,
            "kernel!=running": self.kernel_differs,
            "reconcile drift": self.reconcile_drift,
            "seconds": round(seconds, 1),
        }


class Campaign:
    """KILLS kills of `agent` amid a commit stream of `maker`'s edits (see the module).

    `model` is what running must hold; `last_id` the id of the last commit
    that must be in history; `samples` maps some commit ids to their Model.
    """

    def __init__(self, agent: AgentProcess, ns: Namespace, maker: EditMaker, seed: int) -> None:
        self.agent, self.ns, self.maker, self.seed = agent, ns, maker, seed
        self.rng = maker.rng
        self.figures = Figures()
        self.model = Model()
        self.in_flight: Model | None = None
        self.last_id = 0
        self.samples: dict[int, Model] = {}

    def run(self) -> Figures:
        """Commit the initial config, then kill, restart and check KILLS times."""
        self.agent.start()
        self.model, first = initial_config()
        with self.agent.netconf() as session:
            session.edit_config(target="candidate", config=first)
            session.commit()
        self.last_id, self.samples[1] = 1, self.model
        while self.figures.kills < KILLS:
            self.check()
            self.stream_and_kill()
            if self.rng.random() < START_KILL_SHARE and self.figures.kills < KILLS:
                self.agent.spawn()
                time.sleep(self.rng.uniform(0.0, START_SECONDS))
                self.kill()
                self.figures.start_kills += 1
            try:
                self.agent.start()
            except AgentStartFailed as exc:
                self.figures.unloadable += 1
                pytest.fail(f"seed {self.seed}: no restart after kill {self.figures.kills}: {exc}")
        self.check(every_sample=True)
        assert self.agent.stop() == 0
        return self.figures

    def kill(self) -> None:
        self.agent.kill()
        self.figures.kills += 1

    def stream_and_kill(self) -> None:
        stream = CommitStream(self.agent, self.model, self.maker)
        stream.start()
        stream.connected.wait(30)
        time.sleep(self.rng.uniform(0.0, STREAM_SECONDS))
        self.kill()
        stream.join(30)
        where = f"kill {self.figures.kills} (seed {self.seed})"
        assert not stream.is_alive(), f"{where}: the client hung"
        log = "\n".join(self.agent.lines[-20:])
        assert stream.failure is None, f"{where}: {stream.failure}\nagent log:\n{log}"
        self.figures.commits += len(stream.acked)
        if stream.acked:
            index = self.rng.randrange(len(stream.acked))
            self.samples[self.last_id + 1 + index] = stream.acked[index]
            self.model = stream.acked[-1]
            self.last_id += len(stream.acked)
        self.in_flight = stream.in_flight

    def check(self, every_sample: bool = False) -> None:
        """After a (re)start: running holds every acknowledged commit, history holds
        each of them, the kernel equals running."""
        figures = self.figures
        config = self.agent.ipc("get-config", {"source": "running"})
        running = Model.of_running(config)
        if self.in_flight is not None and not running.differences(self.in_flight):
            figures.in_flight_landed += 1
            self.model, self.last_id = self.in_flight, self.last_id + 1
        elif running.differences(self.model):
            figures.lost += 1
            figures.problem(f"running lost acknowledged changes: {running.differences(self.model)}")
            self.model = running
        self.in_flight = None
        self.check_history(every_sample)
        drift = reconcile_drift(self.agent.ipc("reconcile", {"check": True}))
        if drift:
            figures.reconcile_drift += 1
            figures.problem(f"reconcile check: {drift}")
        want, have = running_routes(config), self.ns.owned_routes()
        ports = {
            name: (self.ns.port(name), port)
            for name, port in running_ports(config, PORTS).items()
            if self.ns.port(name) != port
        }
        if want != have or ports:
            figures.kernel_differs += 1
        if want != have:
            lacks, extra = sorted(want - have), sorted(have - want)
            figures.problem(f"routes: kernel lacks {lacks}, has extra {extra}")
        if ports:
            figures.problem(f"ports (kernel, running): {ports}")

    def check_history(self, every_sample: bool) -> None:
        """History is commits 1..last_id, and sampled commits rebuild to their Model."""
        ids = [record["commit-id"] for record in self.agent.ipc("history", {})]
        if ids != list(range(self.last_id, 0, -1)):
            self.figures.lost += 1
            self.figures.problem(f"history holds {ids[:3]}..{ids[-3:]}, not {self.last_id}..1")
            return
        for commit_id in sorted(self.samples) if every_sample else [max(self.samples)]:
            config = self.agent.ipc("get-config", {"source": f"commit:{commit_id}"})
            differences = Model.of_running(config).differences(self.samples[commit_id])
            if differences:
                self.figures.lost += 1
                self.figures.problem(f"commit {commit_id} rebuilds wrong: {differences}")


def test_sigkill_at_random_points_loses_no_acknowledged_commit_and_kernel_matches_running(
    agent_factory: Any, netns: Namespace, campaign_report: Any
) -> None:
    seed = seed_from_env("FLYOS_CRASH_SEED")
    started = time.monotonic()
    maker = EditMaker(random.Random(seed), weights=(6, 3, 1))
    figures = Campaign(agent_factory(history_keep=1_000_000), netns, maker, seed).run()
    campaign_report(f"crash campaign (seed {seed})", figures.summary(time.monotonic() - started))
    assert not figures.problems, f"seed {seed}:\n" + "\n".join(figures.problems[:20])
    assert figures.commits >= KILLS, f"too few commits to mean anything (seed {seed})"
