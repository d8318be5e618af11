"""Reconcile: compare the kernel's agent-owned routes and rules with running, and converge.

Ownership is the protocol number (FLYOS_PROTO): only routes and rules that
carry it are read, reported and changed, so foreign routes and rules (and
every link) are never touched. Drift is reported per object kind as
`missing` (configured, not in the kernel), `extra` (in the kernel with our
protocol, not configured) and `different` (same destination, other
content). Tracked routes belong to the Tracker: reconcile hands them over
(so they are tracked again after a restart) and leaves their presence to it.
"""

from __future__ import annotations

import socket
from typing import Any

from immutables import Map

from flyos_agent.backends.linux.bulk import MissingDevice, resolve
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.netlink_batch import Request
from flyos_agent.backends.linux.route_messages import (
    Route,
    encode_route,
    route_from_entry,
    same_route,
)
from flyos_agent.backends.linux.routes import owned_routes
from flyos_agent.backends.linux.rules import Rule, encode_rule, owned_rules, rules_from_entry
from flyos_agent.backends.linux.tracking import Tracker
from flyos_agent.backends.linux.vrf import VrfTables
from flyos_agent.datastore.paths import format_path
from flyos_agent.schema import Schema


def reconcile(
    schema: Schema, kernel: Kernel, tracker: Tracker, running: Map[str, Any], *, apply: bool
) -> dict[str, Any]:
    """The drift between running and the kernel; with `apply`, also converge the kernel.

    Returns {"routes": {"missing", "extra", "different"}, "rules": {"missing", "extra"},
    "applied": bool, "errors": [...]} with routes named by prefix (extra ones also by table)
    and rules by priority.
    """
    routing = running.get("routing", Map())
    tables = VrfTables(kernel, running)
    desired: dict[tuple[int, int, str, int, int], Route] = {}
    tracked_keys = set()
    with kernel.lock:
        actual = {route.key: route for route in owned_routes(kernel)}
        for key, entry in routing.get("static", Map()).items():
            route = route_from_entry(entry, tables)
            if entry.get("track"):
                tracked_keys.add(route.key)
                if apply and tracker.status(entry["prefix"]) is None:
                    path = format_path(schema, (("routing", None), ("static", key)))
                    tracker.adopt(entry["prefix"], route, path, installed=route.key in actual)
            else:
                desired[route.key] = route
        missing = [route for key, route in desired.items() if key not in actual]
        extra = [
            route for key, route in actual.items() if key not in desired and key not in tracked_keys
        ]
        different = [
            route
            for key, route in desired.items()
            if key in actual and not same_route(route, actual[key])
        ]
        wanted_rules = {
            rule
            for entry in routing.get("pbr", Map()).values()
            for rule in rules_from_entry(entry, tables)
        }
        have_rules = set(owned_rules(kernel))
        missing_rules = sorted(wanted_rules - have_rules, key=_rule_order)
        extra_rules = sorted(have_rules - wanted_rules, key=_rule_order)
        report: dict[str, Any] = {
            "routes": {
                "missing": [route.prefix for route in missing],
                "extra": [{"prefix": route.prefix, "table": route.table} for route in extra],
                "different": [route.prefix for route in different],
            },
            "rules": {
                "missing": [rule.priority for rule in missing_rules],
                "extra": [rule.priority for rule in extra_rules],
            },
            "applied": False,
            "errors": [],
        }
        if apply:
            report["errors"] = _converge(
                kernel,
                missing=missing,
                extra=extra,
                different=different,
                missing_rules=missing_rules,
                extra_rules=extra_rules,
            )
            report["applied"] = True
    if apply:
        tracker.evaluate()
    return report


def _converge(
    kernel: Kernel,
    *,
    missing: list[Route],
    extra: list[Route],
    different: list[Route],
    missing_rules: list[Rule],
    extra_rules: list[Rule],
) -> list[str]:
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
        ("route del", extra, "del"),
        ("route replace", different, "replace"),
        ("route add", missing, "add"),
    ]
    for label, routes, op in batches:
        for route in routes:
            add(
                f"{label} {route.prefix} table {route.table}",
                lambda route=route, op=op: encode_route(route, op, lambda d: resolve(names, d)),
            )
    for rule in extra_rules:
        add(f"rule del {rule.priority} {_family(rule)}", lambda rule=rule: encode_rule(rule, "del"))
    for rule in missing_rules:
        add(f"rule add {rule.priority} {_family(rule)}", lambda rule=rule: encode_rule(rule, "add"))
    failures = kernel.rtnl.execute(requests)
    return errors + [f"{labels[index]}: {error}" for index, error in sorted(failures.items())]


def _rule_order(rule: Rule) -> tuple[int, int]:
    return (rule.priority, rule.family)


def _family(rule: Rule) -> str:
    return "ipv6" if rule.family == socket.AF_INET6 else "ipv4"
