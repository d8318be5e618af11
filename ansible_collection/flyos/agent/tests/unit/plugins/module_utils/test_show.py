# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""show commands over NETCONF, with a device that answers from fixed XML."""

from __future__ import annotations

import json

import pytest
from ansible_collections.flyos.agent.plugins.module_utils.show import CommandError, run_show
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import parse

DATA = (
    '<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
    '<routing xmlns="urn:flyos:yang:flyos-routing">'
    "<static><prefix>10.0.0.0/24</prefix><via>192.0.2.1</via></static></routing>"
    '<system xmlns="urn:flyos:yang:flyos-system"><hostname>r1</hostname></system></data>'
)


class Device:
    """Answers every read with DATA; records what was asked."""

    def __init__(self):
        self.asked = []

    def get_config(self, source, subtree=None):
        self.asked.append(("get-config", source, subtree))
        return parse(DATA)

    def get(self, subtree=None):
        self.asked.append(("get", subtree))
        return parse(DATA)

    def compare(self, source, target):
        self.asked.append(("compare", source, target))
        return [
            {
                "operation": "modify",
                "target": "/flyos-system:system",
                "leaves": {"hostname": {"old": "r0", "new": "r1"}},
            }
        ]

    def call(self, name, **kwargs):
        self.asked.append((name, kwargs))
        return [
            {
                "rollback": 0,
                "commit-id": 7,
                "time": "2026-11-26T00:00:00Z",
                "user": "admin",
                "channel": "netconf",
            }
        ]


def test_show_running_is_dsl_by_default_and_other_formats_on_request():
    device = Device()
    assert run_show(device, "show running") == (
        "route sync {\n    static { prefix 10.0.0.0/24; via 192.0.2.1 }\n}\n"
        "system sync {\n    hostname r1\n}"
    )
    assert run_show(device, "show running route | set").splitlines() == [
        "route set static { prefix 10.0.0.0/24; via 192.0.2.1 }",
        "system set { hostname r1 }",
    ]
    assert json.loads(run_show(device, "show candidate json"))["flyos-system:system"] == {
        "hostname": "r1"
    }
    assert device.asked[1] == (
        "get-config",
        "running",
        '<routing xmlns="urn:flyos:yang:flyos-routing"></routing>',
    )
    assert device.asked[2][1] == "candidate"


def test_history_compare_and_refusals():
    device = Device()
    assert run_show(device, "show history").splitlines()[1].split() == [
        "0",
        "7",
        "2026-11-26T00:00:00Z",
        "admin",
        "netconf",
    ]
    assert (
        run_show(device, "show compare rollback 2")
        == "modify /flyos-system:system; hostname: r0 -> r1"
    )
    assert ("compare", "rollback:2", "candidate") in device.asked
    assert run_show(device, "show compare") == "no differences"
    for command in ("request reboot", "show running | yaml", "show running nosuch"):
        with pytest.raises(CommandError):
            run_show(device, command)
