"""Compile ACL and NAT configuration into the owned table's objects (see nft_model).

Compilation is per YANG unit (an ACL rule, a NAT rule, an address set),
memoised per tree, so a commit compiles only what it changes; validate and
prepare share the memo through the backend.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from immutables import Map

from flyos_agent.backends.linux.nft_match import (
    IPV4,
    IPV6,
    Expr,
    MatchError,
    Part,
    collapse,
    compile_match,
    match,
    meta,
    parse_port_range,
    protocol_number,
    set_name,
)
from flyos_agent.backends.linux.nft_model import (
    ACL_PREFIX,
    DIRECTIONS,
    FILTER_CHAINS,
    NAT_CHAINS,
    ChainSpec,
    RuleKey,
    RuleSpec,
    SetSpec,
    Unit,
    UnitKind,
    acl_chain,
    unit_path,
)
from flyos_agent.datastore.paths import InstancePath, format_path
from flyos_agent.errors import InvalidValue
from flyos_agent.schema import Schema

Slot = tuple[str, RuleKey]
"""Where a rule may live: (list head, key)."""
NAT_HEADS = tuple(NAT_CHAINS)


class Compiler:
    """The nft objects one configuration tree compiles to, unit by unit (memoised)."""

    def __init__(self, schema: Schema, tree: Map[str, Any]) -> None:
        self.schema = schema
        self.tree = tree
        self.acls: Map[str, Any] = tree.get("acls") or Map()
        self.nat: Map[str, Any] = tree.get("nat") or Map()
        self._rules: dict[Unit, list[RuleSpec]] = {}
        self._acl_rules: dict[str, Map[Any, Any] | None] = {}

    # ------------------------------------------------------------------ chains and lists

    def table_needed(self) -> bool:
        """Whether the configuration needs the table at all."""
        return bool(self.acls) or bool(self.nat)

    def base_chains(self) -> list[ChainSpec]:
        """The filter base chains (present with any ACL configuration)."""
        return [ChainSpec(name, hook) for name, hook in FILTER_CHAINS.items() if self.acls]

    def heads(self) -> list[ChainSpec]:
        """The head chain of every rule list: nat hooks, then ACLs by name."""
        out = [ChainSpec(name, hook) for name, hook in NAT_CHAINS.items() if self.nat]
        names = sorted(key[0] for key in _entries(self.acls, "acl"))
        return out + [ChainSpec(acl_chain(name)) for name in names]

    def head(self, name: str) -> ChainSpec | None:
        """The head chain `name` if the configuration has that list."""
        if name in NAT_CHAINS:
            return ChainSpec(name, NAT_CHAINS[name]) if self.nat else None
        acl = name.removeprefix(ACL_PREFIX)
        return ChainSpec(name) if (acl,) in _entries(self.acls, "acl") else None

    def base_rules(self, chain: str) -> list[RuleSpec]:
        """The rules of a filter base chain: attachments, then the global hook."""
        specs = [
            spec
            for name in sorted(_entries(self.acls, "interface"))
            for spec in self._attach(name[0])
        ]
        specs += self._global()
        return sorted((spec for spec in specs if spec.chain == chain), key=lambda spec: spec.key)

    def list_rules(self, head: str) -> list[RuleSpec]:
        """Every rule of the list `head`, in order (a rule's parts follow its sequence)."""
        if head in NAT_CHAINS:
            seqs = sorted(key[0] for key in _entries(self.nat, "rule"))
            units = [Unit(UnitKind.NAT_RULE, seq=seq) for seq in seqs]
        else:
            acl = head.removeprefix(ACL_PREFIX)
            entry = _entries(self.acls, "acl").get((acl,))
            keys = _entries(entry, "rule") if entry is not None else Map()
            units = [Unit(UnitKind.ACL_RULE, acl, seq) for seq in sorted(key[0] for key in keys)]
        rules = self.rules
        return [spec for unit in units for spec in rules(unit) if spec.chain == head]

    def spec_at(self, head: str, key: RuleKey) -> RuleSpec | None:
        """The rule at `key` of list `head`."""
        unit = (
            Unit(UnitKind.NAT_RULE, seq=key[0])
            if head in NAT_CHAINS
            else Unit(UnitKind.ACL_RULE, head.removeprefix(ACL_PREFIX), key[0])
        )
        return next((s for s in self.rules(unit) if s.chain == head and s.key == key), None)

    # ------------------------------------------------------------------ rules

    def rules(self, unit: Unit) -> list[RuleSpec]:
        """The nft rules of an ACL or NAT rule (memoised); InvalidValue naming its path."""
        cached = self._rules.get(unit)
        if cached is None:
            if unit.kind is UnitKind.ACL_RULE:
                cached = self._acl_rule(unit.name, unit.seq)
            elif unit.kind is UnitKind.NAT_RULE:
                cached = self._nat_rule(unit.seq)
            else:
                cached = []
            self._rules[unit] = cached
        return cached

    @staticmethod
    def slots(unit: Unit) -> list[Slot]:
        """Every (list, key) an ACL or NAT rule's nft rules may occupy, whatever its content."""
        return [(head, (unit.seq, "", part)) for head in Compiler.lists(unit) for part in (0, 1)]

    @staticmethod
    def lists(unit: Unit) -> tuple[str, ...]:
        """The lists an ACL or NAT rule's nft rules may be in, whatever its content."""
        if unit.kind is UnitKind.ACL_RULE:
            return (acl_chain(unit.name),)
        if unit.kind is UnitKind.NAT_RULE:
            return NAT_HEADS
        return ()

    def _acl_rule(self, acl: str, seq: int) -> list[RuleSpec]:
        if acl not in self._acl_rules:
            entry = _entries(self.acls, "acl").get((acl,))
            self._acl_rules[acl] = _entries(entry, "rule") if entry is not None else None
        rules = self._acl_rules[acl]
        rule = rules.get((seq,)) if rules is not None else None
        if rule is None:
            return []
        path = unit_path(Unit(UnitKind.ACL_RULE, acl, seq))
        action = rule["action"]
        proto = protocol_number(rule.get("protocol")) if action == "reject" else None
        chain = acl_chain(acl)
        specs = []
        for index, part in enumerate(self._parts(rule, path)):
            tail = _counter_log(rule, rule.get("log-prefix"))
            tail.append(_verdict(action, part, proto))
            comment = f"acl {acl} rule {seq}{' ipv6' if index else ''}"
            expr = part.expr + tail
            specs.append(
                RuleSpec(chain, (seq, "", index), comment, expr, path, part.anonymous_sets)
            )
        return specs

    def _attach(self, name: str) -> list[RuleSpec]:
        entry = _entries(self.acls, "interface")[(name,)]
        path = unit_path(Unit(UnitKind.ATTACH, name))
        specs = []
        for direction, (leaf, (chains, key)) in enumerate(DIRECTIONS.items()):
            acl = entry.get(leaf)
            if acl is not None:
                where = f"interface {name} {leaf}"
                selector = [match(meta(key), name)]
                for chain in chains:
                    jump = RuleSpec(chain, (0, name, 2 * direction), where, selector, path)
                    specs += self._jump(jump, acl)
        return specs

    def _global(self) -> list[RuleSpec]:
        hooks = self.acls.get("global") or Map()
        path = unit_path(Unit(UnitKind.GLOBAL))
        specs = []
        for chain in FILTER_CHAINS:
            if hooks.get(chain) is not None:
                jump = RuleSpec(chain, (1, "", 0), f"global {chain}", [], path)
                specs += self._jump(jump, hooks[chain])
        return specs

    def _jump(self, site: RuleSpec, acl: str) -> list[RuleSpec]:
        """At `site` (its expr: the selector), a jump to an ACL and, if the ACL has
        one, its default action right after (reached when the ACL returns)."""
        selector = site.expr
        jump = [*selector, {"jump": {"target": acl_chain(acl)}}]
        specs = [RuleSpec(site.chain, site.key, site.comment, jump, site.path)]
        entry = _entries(self.acls, "acl").get((acl,))
        action = entry.get("default-action") if entry is not None else None
        if action is not None:
            verdict = _verdict(action, Part(None, False, []), None)
            default = (site.key[0], site.key[1], site.key[2] + 1)
            expr = [*selector, {"counter": None}, verdict]
            specs.append(RuleSpec(site.chain, default, f"{site.comment} default", expr, site.path))
        return specs

    def _nat_rule(self, seq: int) -> list[RuleSpec]:
        rule = _entries(self.nat, "rule").get((seq,))
        if rule is None:
            return []
        path = unit_path(Unit(UnitKind.NAT_RULE, seq=seq))
        to_address = rule.get("to-address")
        family = None
        if to_address is not None:
            family = IPV4 if ipaddress.ip_address(to_address).version == 4 else IPV6
        heads = ["nat-postrouting"]
        if rule["action"] == "dnat":
            # before routing the out-interface is unknown; output sees no in-interface
            heads = [
                head
                for head, leaf in (
                    ("nat-prerouting", "out-interface"),
                    ("nat-output", "in-interface"),
                )
                if rule.get(leaf) is None
            ]
            if not heads:
                raise self._error("a dnat rule cannot match both in- and out-interface", path)
        statement = self._nat_statement(rule, family, path)
        specs = []
        for index, part in enumerate(self._parts(rule, path, family)):
            expr = part.expr + _counter_log(rule, None) + [statement]
            comment = f"nat rule {seq}{' ipv6' if index else ''}"
            key = (seq, "", index)
            sets = part.anonymous_sets
            specs += [RuleSpec(head, key, comment, expr, path, sets) for head in heads]
        return specs

    def _nat_statement(self, rule: Map[str, Any], family: str | None, path: InstancePath) -> Expr:
        args: dict[str, Any] = {}
        if family is not None:
            args["family"] = "ip" if family == IPV4 else "ip6"
            args["addr"] = rule["to-address"]
        if rule.get("to-port") is not None:
            try:
                low, high = parse_port_range(rule["to-port"])
            except MatchError as exc:
                raise self._error(str(exc), path) from None
            args["port"] = low if low == high else {"range": [low, high]}
        return {rule["action"]: args or None}

    def _parts(
        self, rule: Map[str, Any], path: InstancePath, family: str | None = None
    ) -> list[Part]:
        try:
            return compile_match(rule, self._set_family, family=family)
        except MatchError as exc:
            raise self._error(str(exc), path) from None

    # ------------------------------------------------------------------ sets

    def set_spec(self, name: str) -> SetSpec | None:
        """The nft set of address set `name`; InvalidValue for a prefix of the other family."""
        entry = _entries(self.acls, "address-set").get((name,))
        if entry is None:
            return None
        family = entry["family"]
        path = unit_path(Unit(UnitKind.SET, name))
        version = 4 if family == IPV4 else 6
        prefixes = entry.get("prefix", ())
        strangers = [p for p in prefixes if ipaddress.ip_network(p).version != version]
        if strangers:
            raise self._error(f"prefix {strangers[0]} is not {family}", path)
        return SetSpec(set_name(name, family), family, collapse(prefixes), path)

    def sets(self) -> list[SetSpec]:
        """Every nft set of the configuration."""
        keys = sorted(_entries(self.acls, "address-set"))
        return [spec for key in keys if (spec := self.set_spec(key[0])) is not None]

    def referencing(self, name: str) -> list[Unit]:
        """The rule units that match on address set `name` (a full scan: family changes only)."""
        units: list[Unit] = []
        for (acl,), entry in _entries(self.acls, "acl").items():
            for (seq,), rule in _entries(entry, "rule").items():
                if _uses_set(rule, name):
                    units.append(Unit(UnitKind.ACL_RULE, acl, seq))
        for (seq,), rule in _entries(self.nat, "rule").items():
            if _uses_set(rule, name):
                units.append(Unit(UnitKind.NAT_RULE, seq=seq))
        return units

    def _set_family(self, name: str) -> str:
        entry = _entries(self.acls, "address-set").get((name,))
        if entry is None:
            raise MatchError(f"address set '{name}' does not exist")
        family: str = entry["family"]
        return family

    def _error(self, message: str, path: InstancePath) -> InvalidValue:
        return InvalidValue(message, path=format_path(self.schema, path))


def _entries(container: Map[str, Any] | None, name: str) -> Map[Any, Any]:
    if container is None:
        return Map()
    entries: Map[Any, Any] = container.get(name) or Map()
    return entries


def _uses_set(rule: Map[str, Any], name: str) -> bool:
    return any(
        (rule.get(end) or Map()).get("address-set") == name for end in ("source", "destination")
    )


def _counter_log(rule: Map[str, Any], prefix: str | None) -> list[Expr]:
    tail: list[Expr] = []
    if rule.get("counter", True):
        tail.append({"counter": None})
    if rule.get("log", False):
        tail.append({"log": {"prefix": prefix} if prefix is not None else None})
    return tail


def _verdict(action: str, part: Part, proto: int | None) -> Expr:
    """accept, drop, or the reject nft lists for the rule's context."""
    if action != "reject":
        return {action: None}
    if proto == 6:
        return {"reject": {"type": "tcp reset"}}
    if part.network_known and part.family == IPV4:
        return {"reject": {"type": "icmp", "expr": 3}}
    if part.network_known and part.family == IPV6:
        return {"reject": {"type": "icmpv6", "expr": 4}}
    return {"reject": {"type": "icmpx", "expr": 1}}
