# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""Which facts subsets are collected."""

from __future__ import annotations

import pytest
from ansible_collections.flyos.agent.plugins.module_utils.facts import subsets, yang_modules


@pytest.mark.parametrize(
    ("requested", "collected"),
    [
        ([], ["min"]),
        (["config"], ["min", "config"]),
        (["all"], ["min", "config", "state"]),
        (["all", "!state"], ["min", "config"]),
        (["!min"], ["min"]),
    ],
)
def test_subsets(requested, collected):
    assert subsets(requested) == collected


def test_unknown_subset():
    with pytest.raises(ValueError, match="unknown gather_subset 'hardware'"):
        subsets(["hardware"])


def test_module_capabilities():
    assert yang_modules(
        [
            "urn:ietf:params:netconf:base:1.1",
            "urn:flyos:yang:flyos-vrf?module=flyos-vrf&revision=2026-11-26",
        ]
    ) == ["flyos-vrf@2026-11-26"]
