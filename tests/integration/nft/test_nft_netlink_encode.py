"""Batches sent as raw nf_tables netlink leave exactly the ruleset libnftables leaves.

Two agents (Manager + NftBackend) commit the same configurations into two
fresh namespaces: one sends every batch through libnftables as JSON
(`encode=False`), the other encodes what nft_encode covers itself. After each
commit both rulesets must be identical: `nft -j list ruleset` byte for byte
(handles included, so the handles were allocated alike) and the bytecode of
every rule as the kernel dumps it (`nft --debug=netlink list ruleset`: the
dependencies nft adds, merged payloads, registers, lengths).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nft_kernel import Kernel, interfaces, sh

from flyos_agent.backends.linux.nft_backend import NftBackend
from flyos_agent.backends.linux.nft_runner import open_runner
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import parse_path
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema


def acl_rule(seq: int, action: str = "accept", **fields: Any) -> dict[str, Any]:
    return {"sequence": seq, "action": action, **fields}


def src(*prefixes: str) -> dict[str, Any]:
    return {"source": {"prefix": list(prefixes)}}


def dst(*prefixes: str) -> dict[str, Any]:
    return {"destination": {"prefix": list(prefixes)}}


SETS: list[dict[str, Any]] = [
    {"name": "admins", "family": "ipv4", "prefix": ["10.1.0.0/16", "10.2.0.1/32"]},
    {"name": "v6nets", "family": "ipv6", "prefix": ["2001:db8::/32"]},
]

RULES: list[dict[str, Any]] = [
    # protocols and families
    acl_rule(1, protocol="tcp"),
    acl_rule(2, protocol="udp"),
    acl_rule(3, "drop", protocol="icmp"),
    acl_rule(4, "drop", protocol="icmpv6"),
    acl_rule(5, protocol="sctp"),
    acl_rule(6, protocol="gre"),
    acl_rule(7, protocol="esp"),
    acl_rule(8, protocol="ah"),
    acl_rule(9, protocol=200, family="ipv6"),
    acl_rule(10, family="ipv4"),
    acl_rule(11, "drop", family="ipv6"),
    acl_rule(12, protocol="icmp", family="ipv4"),
    # addresses: hosts, prefixes on and off byte boundaries, /0, merged into a range
    acl_rule(20, **src("192.0.2.1/32")),
    acl_rule(21, **dst("10.0.0.0/8")),
    acl_rule(22, **src("172.16.0.0/12")),
    acl_rule(23, **src("10.0.0.0/23")),
    acl_rule(24, **dst("0.0.0.0/0")),
    acl_rule(25, **src("10.0.1.0/24", "10.0.2.0/24")),
    acl_rule(26, **src("2001:db8::1/128")),
    acl_rule(27, **dst("2001:db8::/32")),
    acl_rule(28, **src("2001:db8:1::/48")),
    acl_rule(29, **src("2001:db8::/33")),
    acl_rule(30, **dst("::/0")),
    acl_rule(31, **src("2001:db8::/64")),
    acl_rule(32, **dst("2001:db8::1/128", "192.0.2.0/24")),
    # source and destination together: adjacent fields nft merges, and ones it does not
    acl_rule(40, **src("192.0.2.1/32"), **dst("198.51.100.7/32")),
    acl_rule(41, **src("192.0.2.1/32"), **dst("10.0.0.0/8")),
    acl_rule(42, **src("192.0.2.0/24"), **dst("198.51.100.7/32")),
    acl_rule(43, **src("2001:db8::1/128"), **dst("2001:db8::2/128")),
    acl_rule(44, **src("10.0.0.0/23"), **dst("10.9.0.0/16")),
    # ports
    acl_rule(50, protocol="tcp", destination={"port": ["22"]}),
    acl_rule(51, protocol="udp", source={"port": ["53"]}),
    acl_rule(52, protocol="tcp", source={"port": ["1024"]}, destination={"port": ["80"]}),
    acl_rule(53, protocol="tcp", destination={"port": ["8000-8080"]}),
    acl_rule(54, protocol="udp", source={"port": ["1000-2000", "1500-2500"]}),
    acl_rule(55, protocol="sctp", destination={"port": ["9"]}, family="ipv4"),
    acl_rule(56, protocol="tcp", source={"prefix": ["192.0.2.9/32"], "port": ["7"]}),
    acl_rule(
        57, protocol="tcp", **src("2001:db8::9/128"), destination={"port": ["443", "444", "445"]}
    ),
    # icmp types
    acl_rule(60, "drop", protocol="icmp", **{"icmp-type": 8}),
    acl_rule(61, "drop", protocol="icmpv6", **{"icmp-type": 128}),
    acl_rule(62, protocol="icmp", **{"icmp-type": 0}, **src("192.0.2.0/24")),
    acl_rule(63, protocol="icmpv6", **{"icmp-type": 135}, **dst("2001:db8::1/128")),
    # connection tracking, interfaces
    acl_rule(70, **{"ct-state": ["new"]}),
    acl_rule(71, **{"ct-state": ["related", "established"]}),
    acl_rule(72, "drop", **{"ct-state": ["invalid", "untracked", "new"]}),
    acl_rule(73, **{"in-interface": "eth0"}),
    acl_rule(74, "drop", **{"in-interface": "eth0", "out-interface": "wan.100"}),
    acl_rule(75, **{"out-interface": "eth1"}, protocol="tcp", destination={"port": ["25"]}),
    # named address sets
    acl_rule(80, source={"address-set": "admins"}),
    acl_rule(81, source={"address-set": "admins"}, destination={"address-set": "admins"}),
    acl_rule(82, source={"address-set": "v6nets"}, protocol="tcp"),
    acl_rule(83, source={"address-set": "admins", "prefix": ["10.1.2.0/24"]}),
    # counter, log
    acl_rule(90, counter=False, protocol="gre"),
    acl_rule(91, log=True, protocol=50),
    acl_rule(92, "drop", log=True, **{"log-prefix": "flyos drop: "}),
    acl_rule(93, "drop", log=True, counter=False, **{"log-prefix": 'quote " and %'}),
    # every reject
    acl_rule(100, "reject", protocol="tcp"),
    acl_rule(101, "reject", protocol="tcp", destination={"port": ["23"]}),
    acl_rule(102, "reject", family="ipv4"),
    acl_rule(103, "reject", family="ipv6"),
    acl_rule(104, "reject"),
    acl_rule(105, "reject", **src("10.0.0.0/8")),
    acl_rule(106, "reject", **src("2001:db8::/32")),
    acl_rule(107, "reject", protocol="icmp"),
    acl_rule(108, "reject", protocol="udp", **dst("192.0.2.0/24")),
]

NAT: list[dict[str, Any]] = [
    {"sequence": 1, "action": "masquerade", "out-interface": "wan.100"},
    {"sequence": 2, "action": "masquerade", "protocol": "udp", "to-port": "1024-2048"},
    {"sequence": 3, "action": "masquerade", "protocol": "tcp", "to-port": "4000"},
    {"sequence": 4, "action": "snat", "to-address": "198.51.100.1"},
    {
        "sequence": 5,
        "action": "snat",
        "to-address": "198.51.100.1",
        "protocol": "tcp",
        "to-port": "1000-2000",
        "source": {"address-set": "admins"},
    },
    {
        "sequence": 6,
        "action": "dnat",
        "protocol": "tcp",
        "destination": {"port": ["8080"]},
        "to-address": "10.0.0.5",
        "to-port": "80",
    },
    {
        "sequence": 7,
        "action": "dnat",
        "protocol": "tcp",
        "to-address": "2001:db8::5",
        "to-port": "80-90",
        "in-interface": "eth0",
    },
    {"sequence": 8, "action": "dnat", "to-address": "10.0.0.6", "out-interface": "eth1"},
    {
        "sequence": 9,
        "action": "snat",
        "to-address": "2001:db8::9",
        "source": {"prefix": ["2001:db8:1::/48", "10.0.0.0/8"]},
    },
    {"sequence": 10, "action": "snat", "to-address": "192.0.2.1", **dst("192.0.2.0/24")},
]

BASE: dict[str, Any] = {
    "flyos-interfaces:interfaces": interfaces("eth0", "eth1", "wan.100"),
    "flyos-acl:acls": {"address-set": SETS},
}

FORMS: dict[str, Any] = {
    "flyos-interfaces:interfaces": interfaces("eth0", "eth1", "wan.100"),
    "flyos-acl:acls": {
        "address-set": SETS,
        "acl": [
            {"name": "all", "default-action": "reject", "rule": RULES},
            {"name": "out", "rule": [acl_rule(1, "drop", **dst("0.0.0.0/0"))]},
            {"name": "empty", "default-action": "accept"},
        ],
        "interface": [
            {"name": "eth0", "ingress": "all", "egress": "out"},
            {"name": "eth1", "egress": "empty"},
        ],
        "global": {"input": "all", "forward": "empty", "output": "out"},
    },
    "flyos-nat:nat": {"rule": NAT},
}

ALL = "/acls/acl[name='all']"

CHANGES: list[list[tuple[str, str, Any]]] = [
    [("merge", f"{ALL}/rule[sequence='21']", {"action": "drop"})],
    [
        ("merge", f"{ALL}/rule[sequence='45']", {"action": "drop", "protocol": "udp"}),
        ("delete", f"{ALL}/rule[sequence='3']", None),
        ("merge", "/nat/rule[sequence='11']", {"action": "masquerade"}),
    ],
    [("merge", ALL, {"default-action": "drop"}), ("delete", "/acls/interface[name='eth1']", None)],
    [
        ("delete", "/acls/global/output", None),
        ("delete", "/acls/interface[name='eth0']", None),
        ("delete", "/acls/acl[name='out']", None),
    ],
    [("delete", "/nat", None)],
]


class Agent:
    """A Manager with the nftables backend in its own fresh namespace."""

    def __init__(self, schema: Schema, state: Path, *, encode: bool) -> None:
        self.ns = f"h8-{uuid.uuid4().hex[:8]}"
        sh("ip", "netns", "add", self.ns)
        self.kernel = Kernel(self.ns)
        self.backend = NftBackend(schema, self.ns, runner=open_runner(self.ns, encode=encode))
        self.sent: list[int] = []  # sizes of the transactions sent encoded
        original = self.backend.runner.send

        def send(transaction: bytes) -> None:
            self.sent.append(len(transaction))
            original(transaction)

        self.backend.runner.send = send
        self.manager = Manager(schema, Journal(state / f"{self.ns}.db", schema), self.backend)
        self.manager.start()
        self.session = self.manager.open_session("root", "test")

    def commit(self, config: dict[str, Any] | None, edits: list[tuple[str, str, Any]]) -> None:
        if config is not None:
            self.manager.copy(self.session, "running", "candidate", config=config)
        for operation, path, value in edits:
            edit = Edit(operation, parse_path(self.manager.schema, path), value)
            self.manager.edit(self.session, "candidate", [edit])
        self.manager.commit(self.session)

    def listing(self) -> tuple[str, str]:
        """The ruleset as JSON and as the bytecode nft reads back."""
        return self.kernel.ruleset(), sh("nft", "--debug=netlink", "list", "ruleset", ns=self.ns)

    def close(self) -> None:
        self.manager.close()
        sh("ip", "netns", "del", self.ns)


@pytest.fixture
def agents(schema: Schema, tmp_path: Path) -> Iterator[tuple[Agent, Agent]]:
    """(through libnftables, encoded), each in its own namespace."""
    made: list[Agent] = []
    try:
        made.append(Agent(schema, tmp_path, encode=False))
        made.append(Agent(schema, tmp_path, encode=True))
        yield made[0], made[1]
    finally:
        for agent in made:
            agent.close()


def both(
    agents: tuple[Agent, Agent],
    config: dict[str, Any] | None = None,
    edits: list[tuple[str, str, Any]] | None = None,
) -> tuple[str, str]:
    """Commit the same into both; the listings, asserted identical."""
    for agent in agents:
        agent.commit(config, edits or [])
    library, encoded = (agent.listing() for agent in agents)
    assert encoded[0] == library[0]
    assert encoded[1].splitlines() == library[1].splitlines()
    return encoded


def test_every_rule_form_encoded_leaves_the_ruleset_libnftables_leaves(
    agents: tuple[Agent, Agent],
) -> None:
    library, encoded = agents
    both(agents, BASE)  # the sets: through libnftables on both sides
    assert encoded.sent == []
    json_listing, bytecode = both(agents, FORMS)
    assert len(encoded.sent) == 1 and library.sent == []
    assert json_listing.count('"rule"') > len(RULES) + len(NAT)
    assert "payload load 4b @ transport header + 0" in bytecode  # sport + dport, merged
    for number, edits in enumerate(CHANGES, 2):
        both(agents, edits=edits)
        assert len(encoded.sent) == number, edits
    both(agents, {})
    assert len(encoded.sent) == len(CHANGES) + 2
    assert '"flyos"' not in encoded.kernel.ruleset()


def test_carried_counters_are_encoded(agents: tuple[Agent, Agent]) -> None:
    rules = [acl_rule(seq, protocol="udp", destination={"port": [str(seq)]}) for seq in (10, 20)]
    listing, _ = both(agents, {"flyos-acl:acls": {"acl": [{"name": "web", "rule": rules}]}})
    for agent in agents:  # the same traffic counted on both sides
        last = agent.kernel.rules()["acl web rule 20"]
        agent.kernel.nft(
            *f"replace rule inet flyos {last['chain']} handle {last['handle']}".split(),
            *["udp", "dport", "20", "counter", "packets", "7", "bytes", "700", "accept"],
            *["comment", '"acl web rule 20"'],
        )
    listing, _ = both(
        agents, edits=[("merge", "/acls/acl[name='web']/rule[sequence='15']", {"action": "drop"})]
    )
    assert '{"counter": {"packets": 7, "bytes": 700}}' in listing
    assert len(agents[1].sent) == 2


def test_a_form_the_encoder_lacks_goes_through_libnftables(agents: tuple[Agent, Agent]) -> None:
    encoded = agents[1]
    both(agents, FORMS)
    assert len(encoded.sent) == 0  # the same batch creates the sets
    anonymous = acl_rule(200, protocol="udp", destination={"port": ["53", "67-68"]})
    both(agents, edits=[("merge", f"{ALL}/rule[sequence='200']", anonymous)])
    assert len(encoded.sent) == 0
    both(agents, edits=[("merge", f"{ALL}/rule[sequence='201']", {"action": "drop"})])
    assert len(encoded.sent) == 1
