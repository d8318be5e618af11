"""The objects of the nftables table the agent owns, their names, keys and comments.

The table is `inet flyos` (inet handles nat since Linux 5.2, so one table serves
both families and NAT rules can match the same address sets):

- filter base chains `input`, `forward`, `output` (priority 0, policy accept)
  hold the attachments: per interface (ingress: `iifname` in input and
  forward; egress: `oifname` in forward and output), then the global hooks.
  Each attachment is a jump to the ACL followed, when the ACL has a
  default-action, by that verdict (reached only when the ACL returns).
- ordered rule lists: one per ACL (head chain `acl-<name>`) and one per nat
  hook (heads `nat-prerouting`, `nat-output` for dnat, `nat-postrouting` for
  snat and masquerade, base chains of type nat). A head holds only jumps to
  its buckets `<head>/<n>`, regular chains of at most BUCKET_CAPACITY rules
  in key order. Why buckets: libnftables 1.0.6 fetches and parses the whole
  ruleset for a `replace`, a positioned `add`/`insert` or `--echo` (1.5-4 s
  at 50k rules, measured), and the kernel rebuilds a chain's rule blob on
  every change; appends, deletes by handle and flushes of a small chain cost
  next to nothing, so a change rewrites at most the tail of one bucket.
- named interval sets `v4-<name>` / `v6-<name>` for address sets (the family
  is part of the name, so a set is never retyped under the rules using it).

Every rule carries a comment naming its configuration unit ("acl web rule 10",
"nat rule 5", "interface eth0 ingress"); the comment is parsed back into the
rule's key when the table is read from the kernel.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NamedTuple

from flyos_agent.backends.linux.nft_match import IPV4, Expr, element_json
from flyos_agent.datastore.paths import InstancePath

TABLE = "flyos"
FAMILY = "inet"
Hook = tuple[str, str, int]
FILTER_CHAINS: dict[str, Hook] = {
    "input": ("filter", "input", 0),
    "forward": ("filter", "forward", 0),
    "output": ("filter", "output", 0),
}
NAT_CHAINS: dict[str, Hook] = {
    "nat-prerouting": ("nat", "prerouting", -100),
    "nat-output": ("nat", "output", -100),
    "nat-postrouting": ("nat", "postrouting", 100),
}
ACL_PREFIX = "acl-"
BUCKET_SEPARATOR = "/"  # not allowed in ACL names, so bucket names never clash
BUCKET_CAPACITY = 64
BUCKET_FILL = 48  # rules per bucket when a list is (re)built: room for inserts
DIRECTIONS = {
    "ingress": (("input", "forward"), "iifname"),
    "egress": (("forward", "output"), "oifname"),
}

RuleKey = tuple[int, str, int]
"""A rule's place in its list or chain: rules are kept in ascending key order."""


class UnitKind(enum.StrEnum):
    """The configuration units that compile into nft objects."""

    ACL_RULE = "acl-rule"
    ACL = "acl"
    ATTACH = "attach"
    GLOBAL = "global"
    SET = "set"
    NAT_RULE = "nat-rule"
    ACLS = "acls"
    NAT = "nat"


class Unit(NamedTuple):
    """One configuration unit: an ACL (`name`) rule (`seq`), an interface, a set, ..."""

    kind: UnitKind
    name: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One nft rule as the configuration wants it, in chain or list `chain`
    (`anonymous_sets`: how many sets nft creates for it, each taking a handle)."""

    chain: str
    key: RuleKey
    comment: str
    expr: list[Expr]
    path: InstancePath
    anonymous_sets: int = 0

    def body(self, chain: str | None = None) -> dict[str, Any]:
        """The rule object of an nft JSON command (in `chain`, default its own)."""
        return {
            "family": FAMILY,
            "table": TABLE,
            "chain": chain or self.chain,
            "comment": self.comment,
            "expr": self.expr,
        }

    def with_counter(self, packets: int, bytes_: int) -> RuleSpec:
        """The same rule with its counter starting at these values (carried over)."""
        expr = [
            {"counter": {"packets": packets, "bytes": bytes_}} if "counter" in item else item
            for item in self.expr
        ]
        return RuleSpec(self.chain, self.key, self.comment, expr, self.path, self.anonymous_sets)


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """One chain: a base chain has a hook (type, hook, priority)."""

    name: str
    hook: Hook | None = None

    def body(self) -> dict[str, Any]:
        """The chain object of an nft JSON command."""
        out: dict[str, Any] = {"family": FAMILY, "table": TABLE, "name": self.name}
        if self.hook is not None:
            kind, hook, prio = self.hook
            out.update(type=kind, hook=hook, prio=prio, policy="accept")
        return out


@dataclass(frozen=True, slots=True)
class SetSpec:
    """One named interval set of prefixes (collapsed, sorted)."""

    name: str
    family: str
    elements: tuple[str, ...]
    path: InstancePath

    def body(self) -> dict[str, Any]:
        """The set object of an nft JSON command, elements included."""
        out: dict[str, Any] = {
            "family": FAMILY,
            "table": TABLE,
            "name": self.name,
            "type": "ipv4_addr" if self.family == IPV4 else "ipv6_addr",
            "flags": ["interval"],
        }
        if self.elements:
            out["elem"] = [element_json(prefix) for prefix in self.elements]
        return out


def table_body() -> dict[str, Any]:
    """The table object of an nft JSON command."""
    return {"family": FAMILY, "name": TABLE}


def named_ref(name: str) -> dict[str, Any]:
    """A chain or set of the table, by name (flush and delete commands)."""
    return {"family": FAMILY, "table": TABLE, "name": name}


def rule_ref(chain: str) -> dict[str, Any]:
    """The table and chain of a rule command."""
    return {"family": FAMILY, "table": TABLE, "chain": chain}


def acl_chain(acl: str) -> str:
    """The head chain of an ACL's rule list."""
    return ACL_PREFIX + acl


def bucket_name(head: str, number: int) -> str:
    """The name of bucket `number` of a list."""
    return f"{head}{BUCKET_SEPARATOR}{number}"


def bucket_number(name: str) -> int:
    """The number of a bucket chain (-1 if the name is not a bucket's)."""
    tail = name.rpartition(BUCKET_SEPARATOR)[2]
    return int(tail) if BUCKET_SEPARATOR in name and tail.isdigit() else -1


def head_of(chain: str) -> str | None:
    """The list a chain belongs to as head or bucket (None for the filter base chains)."""
    head = chain.partition(BUCKET_SEPARATOR)[0]
    if head in NAT_CHAINS or head.startswith(ACL_PREFIX):
        return head
    return None


def unit_path(unit: Unit) -> InstancePath:
    """The instance path of the YANG node a unit comes from."""
    acls: InstancePath = (("acls", None),)
    kind = unit.kind
    if kind is UnitKind.ACL_RULE:
        return (*acls, ("acl", (unit.name,)), ("rule", (unit.seq,)))
    if kind is UnitKind.ACL:
        return (*acls, ("acl", (unit.name,)))
    if kind is UnitKind.ATTACH:
        return (*acls, ("interface", (unit.name,)))
    if kind is UnitKind.GLOBAL:
        return (*acls, ("global", None))
    if kind is UnitKind.SET:
        return (*acls, ("address-set", (unit.name,)))
    if kind is UnitKind.NAT_RULE:
        return (("nat", None), ("rule", (unit.seq,)))
    return (("nat", None),) if kind is UnitKind.NAT else acls


def chain_path(name: str) -> InstancePath:
    """The instance path of the configuration a chain comes from."""
    head = head_of(name)
    if head is None:
        return unit_path(Unit(UnitKind.ACLS))
    if head in NAT_CHAINS:
        return unit_path(Unit(UnitKind.NAT))
    return unit_path(Unit(UnitKind.ACL, head.removeprefix(ACL_PREFIX)))


def parse_comment(comment: str) -> RuleKey | None:
    """The key of a rule from its comment; None for a comment the agent never writes."""
    match comment.split(" "):
        case ["acl", _, "rule", seq] | ["nat", "rule", seq] if seq.isdigit():
            return (int(seq), "", 0)
        case ["acl", _, "rule", seq, "ipv6"] | ["nat", "rule", seq, "ipv6"] if seq.isdigit():
            return (int(seq), "", 1)
        case ["interface", name, "ingress" | "egress" as direction, *rest]:
            return (0, name, 2 * list(DIRECTIONS).index(direction) + (1 if rest else 0))
        case ["global", _, *rest]:
            return (1, "", 1 if rest else 0)
    return None
