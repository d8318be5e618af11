# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The netconf plugin's own operations, with a fake ncclient manager."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleConnectionFailure
from ansible_collections.flyos.agent.plugins.netconf import flyos

pytest.importorskip("ncclient")
from ncclient.operations import RPCError
from ncclient.xml_ import to_ele

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
OK = f'<rpc-reply xmlns="{NC}" message-id="1"><ok/></rpc-reply>'


def rpc_error(tag, message, bad_element=None):
    info = (
        f"<error-info><bad-element>{bad_element}</bad-element></error-info>" if bad_element else ""
    )
    return RPCError(
        to_ele(
            f'<rpc-error xmlns="{NC}"><error-type>application</error-type>'
            f"<error-tag>{tag}</error-tag>"
            f"<error-severity>error</error-severity><error-message>{message}</error-message>{info}</rpc-error>"
        )
    )


class Reply:
    def __init__(self, xml):
        self.xml = xml


class Manager:
    """Records dispatched RPCs; fails those whose text contains a key of `errors`."""

    def __init__(self, errors=None, reply=OK):
        self.sent, self.errors, self.reply = [], errors or {}, reply

    def dispatch(self, element):
        from lxml import etree

        text = etree.tostring(element).decode()
        self.sent.append(text)
        for needle, error in self.errors.items():
            if needle in text:
                raise error
        return Reply(self.reply)


class Plugin(flyos.Netconf):
    def __init__(self, manager):  # pylint: disable=super-init-not-called
        self.manager = manager

    @property
    def m(self):
        return self.manager


def test_a_comment_the_agent_does_not_take_is_dropped_and_reported():
    manager = Manager(
        {
            "comment": rpc_error(
                "unknown-element", "'comment' is not a parameter of commit", "comment"
            )
        }
    )
    assert Plugin(manager).commit_candidate(
        confirmed=True, timeout=60, persist="p1", comment="x"
    ) == {
        "comment_recorded": False,
    }
    assert (
        "<confirm-timeout>60</confirm-timeout>" in manager.sent[-1]
        and "comment" not in manager.sent[-1]
    )


def test_other_commit_errors_are_raised_as_one_line():
    manager = Manager(
        {"commit": rpc_error("operation-failed", "a gre tunnel needs an interface of type gre")}
    )
    with pytest.raises(AnsibleConnectionFailure, match="operation-failed: a gre tunnel needs"):
        Plugin(manager).commit_candidate(comment="x")


def test_compare_reads_changes_and_leaves():
    ops = "urn:flyos:yang:flyos-agent-ops"
    reply = (
        f'<rpc-reply xmlns="{NC}" message-id="1"><change xmlns="{ops}">'
        "<operation>modify</operation>"
        "<target>/flyos-system:system</target><leaf><name>hostname</name><old>r0</old><new>r1</new></leaf>"
        f'</change><change xmlns="{ops}"><operation>create</operation><target>/x</target>'
        '<value>{"a": 1}</value></change></rpc-reply>'
    )
    assert Plugin(Manager(reply=reply)).compare() == [
        {
            "operation": "modify",
            "target": "/flyos-system:system",
            "leaves": {"hostname": {"old": "r0", "new": "r1"}},
        },
        {"operation": "create", "target": "/x", "value": {"a": 1}},
    ]
