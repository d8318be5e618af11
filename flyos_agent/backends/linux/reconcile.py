"""Reconcile: compare the kernel's agent-owned objects with running, and converge.

Four kinds of objects, each with its ownership rule:
- links (reconcile_links): devices marked with links.OWNED_GROUP are the
  agent's; configured devices are compared, foreign ones never touched;
- addresses (reconcile_addresses): the configured set is authoritative on
  configured interfaces; elsewhere only addresses marked IFA_PROTO 177 count;
- routes and rules (here): those with protocol FLYOS_PROTO are the agent's;
  routes are compared by form (route_index), so a 100k-route kernel that
  matches running costs one dump and no Route per route.
Drift is reported per kind as `missing` (configured, not in the kernel),
`extra` (the agent's, not configured) and `different` (same identity, other
content). Converging runs links, then addresses, then routes and rules, each
read again after the kind before it changed the kernel (a re-created device
comes back without its routes). Tracked routes belong to the Tracker:
reconcile hands them over (so they are tracked again after a restart) and
leaves their presence to it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from immutables import Map

from flyos_agent.backends.linux.bulk import MissingDevice, resolve
from flyos_agent.backends.linux.drift import DriftedObject
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.netlink_batch import Request
from flyos_agent.backends.linux.reconcile_addresses import (
    AddressDrift,
    address_drift,
    converge_addresses,
)
from flyos_agent.backends.linux.reconcile_links import LinkDrift, converge_links, link_drift
from flyos_agent.backends.linux.route_index import RouteDump, RouteMatcher, Verdict
from flyos_agent.backends.linux.route_messages import Route, encode_route, route_from_entry
from flyos_agent.backends.linux.rules import Rule, encode_rule, owned_rules, rules_from_entry
from flyos_agent.backends.linux.tracking import Tracker
from flyos_agent.backends.linux.vrf import VrfTables
from flyos_agent.datastore.paths import format_path
from flyos_agent.schema import Schema


@dataclass
class RouteDrift:
    """The routes and rules of running against the kernel's agent-owned ones."""

    missing: list[Route]
    extra: list[Route]
    different: list[Route]
    missing_rules: list[Rule]
    extra_rules: list[Rule]

    @property
    def empty(self) -> bool:
        """Whether nothing drifts."""
        return not (
            self.missing or self.extra or self.different or self.missing_rules or self.extra_rules
        )


@dataclass
class Drift:
    """Everything that drifts, by kind."""

    links: LinkDrift
    addresses: AddressDrift
    routes: RouteDrift

    def report(self) -> dict[str, Any]:
        """The report's drift keys: routes named by prefix (extra ones also by table), rules
        by priority, links by name (different ones with their attributes), addresses as
        {"interface", "address"}."""
        routes = self.routes
        return {
            "routes": {
                "missing": [route.prefix for route in routes.missing],
                "extra": [{"prefix": route.prefix, "table": route.table} for route in routes.extra],
                "different": [route.prefix for route in routes.different],
            },
            "rules": {
                "missing": [rule.priority for rule in routes.missing_rules],
                "extra": [rule.priority for rule in routes.extra_rules],
            },
            "links": self.links.report(),
            "addresses": self.addresses.report(),
        }

    def objects(self) -> list[DriftedObject]:
        """Every drifted object, for the drift record."""
        links, addresses, routes = self.links, self.addresses, self.routes
        return [
            *(DriftedObject("link", link.name, "missing") for link in links.missing),
            *(DriftedObject("link", name, "extra") for name in links.extra),
            *(
                DriftedObject("link", c.wanted.name, "different", ", ".join(sorted(c.changes)))
                for c in links.different
            ),
            *(DriftedObject("address", a.name, "missing") for a in addresses.missing),
            *(DriftedObject("address", a.name, "extra") for a in addresses.extra),
            *(DriftedObject("route", _route_name(r), "missing") for r in routes.missing),
            *(DriftedObject("route", _route_name(r), "extra") for r in routes.extra),
            *(DriftedObject("route", _route_name(r), "different") for r in routes.different),
            *(DriftedObject("rule", _rule_name(r), "missing") for r in routes.missing_rules),
            *(DriftedObject("rule", _rule_name(r), "extra") for r in routes.extra_rules),
        ]


def reconcile(
    schema: Schema, kernel: Kernel, tracker: Tracker, running: Map[str, Any], *, apply: bool
) -> tuple[dict[str, Any], list[DriftedObject]]:
    """The drift between running and the kernel; with `apply`, also converge the kernel.

    Returns the report — {"links": {"missing", "extra", "different"}, "addresses":
    {"missing", "extra"}, "routes": {"missing", "extra", "different"}, "rules":
    {"missing", "extra"}, "applied": bool, "errors": [...]} — and what still drifts
    (all of it after a check; after converging, what a fresh check finds if the
    kernel refused something, else nothing).
    """
    with kernel.lock:
        drift = check(schema, kernel, tracker, running, adopt=apply)
        report = drift.report() | {"applied": False, "errors": []}
        if not apply:
            return report, drift.objects()
        errors = converge_links(kernel, running, drift.links)
        errors += converge_addresses(schema, kernel, running, drift.links.foreign)
        routes = drift.routes
        if any(drift.links.report().values()) or any(drift.addresses.report().values()):
            routes = route_drift(schema, kernel, tracker, running, adopt=False)
        if not routes.empty:
            errors += _converge(kernel, routes)
        report |= {"applied": True, "errors": errors}
        remaining = check(schema, kernel, tracker, running, adopt=False) if errors else None
    tracker.evaluate()
    return report, remaining.objects() if remaining is not None else []


def check(
    schema: Schema, kernel: Kernel, tracker: Tracker, running: Map[str, Any], *, adopt: bool
) -> Drift:
    """Everything that drifts (with `adopt`, tracked routes not yet tracked are handed to
    the tracker)."""
    with kernel.lock:
        links = link_drift(schema, kernel, running)
        return Drift(
            links,
            address_drift(schema, kernel, running, links.foreign),
            route_drift(schema, kernel, tracker, running, adopt=adopt),
        )


def route_drift(
    schema: Schema, kernel: Kernel, tracker: Tracker, running: Map[str, Any], *, adopt: bool
) -> RouteDrift:
    """The agent-owned routes and rules against running's (tracked routes excluded).

    Routes are compared by form (route_index): only drifted ones become Routes.
    """
    routing = running.get("routing", Map())
    tables = VrfTables(kernel, running)
    missing: list[Route] = []
    different: list[Route] = []
    with kernel.lock:
        dump = RouteDump.read(kernel)
        matcher = RouteMatcher(dump, tables)
        for key, entry in routing.get("static", Map()).items():
            verdict = matcher.check(entry)
            if verdict is Verdict.SAME:
                continue
            route = route_from_entry(entry, tables)
            if verdict is Verdict.MISSING:
                missing.append(route)
            elif verdict is Verdict.DIFFERENT:
                different.append(route)
            else:
                installed = matcher.claim(route)
                if adopt and tracker.status(entry["prefix"]) is None:
                    path = format_path(schema, (("routing", None), ("static", key)))
                    tracker.adopt(entry["prefix"], route, path, installed=installed)
        wanted_rules = {
            rule
            for entry in routing.get("pbr", Map()).values()
            for rule in rules_from_entry(entry, tables)
        }
        have_rules = set(owned_rules(kernel))
    return RouteDrift(
        missing=missing,
        extra=[dump.route(route_id) for route_id in matcher.unmatched],
        different=different,
        missing_rules=sorted(wanted_rules - have_rules, key=_rule_order),
        extra_rules=sorted(have_rules - wanted_rules, key=_rule_order),
    )


def _converge(kernel: Kernel, drift: RouteDrift) -> list[str]:
    """Delete extras, replace differing routes, add missing ones; the kernel's refusals."""
    names = kernel.ifindex_map()
    labels: list[str] = []
    requests: list[Request] = []

    def add(label: str, build: Any) -> None:
        try:
            requests.append(build())
        except MissingDevice as exc:
            errors.append(f"{label}: ENODEV: no device '{exc.args[0]}'")
            return
        labels.append(label)

    errors: list[str] = []
    batches: list[tuple[str, list[Route], str]] = [
        ("route del", drift.extra, "del"),
        ("route replace", drift.different, "replace"),
        ("route add", drift.missing, "add"),
    ]
    for label, routes, op in batches:
        for route in routes:
            add(
                f"{label} {route.prefix} table {route.table}",
                lambda route=route, op=op: encode_route(route, op, lambda d: resolve(names, d)),
            )
    for rule in drift.extra_rules:
        add(f"rule del {_rule_name(rule)}", lambda rule=rule: encode_rule(rule, "del"))
    for rule in drift.missing_rules:
        add(f"rule add {_rule_name(rule)}", lambda rule=rule: encode_rule(rule, "add"))
    failures = kernel.rtnl.execute(requests)
    return errors + [f"{labels[index]}: {error}" for index, error in sorted(failures.items())]


def _route_name(route: Route) -> str:
    return f"{route.prefix} table {route.table} metric {route.metric}"


def _rule_name(rule: Rule) -> str:
    family = "ipv6" if rule.family == socket.AF_INET6 else "ipv4"
    return f"{rule.priority} {family}"


def _rule_order(rule: Rule) -> tuple[int, int]:
    return (rule.priority, rule.family)
