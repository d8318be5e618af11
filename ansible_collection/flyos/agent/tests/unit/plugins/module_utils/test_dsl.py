# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""DSL statements as edits."""

from __future__ import annotations

import pytest
from ansible_collections.flyos.agent.plugins.module_utils.dsl import DslError, parse_edits
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import Op


def edit(text):
    (found,) = parse_edits(text)
    return found.root, found.value


def test_verbs_mean_operations():
    entry = {"prefix": "10.0.0.0/24", "via": "192.0.2.1", "track": True}
    assert edit("route add static { prefix 10.0.0.0/24; via 192.0.2.1; track yes }") == (
        "routing",
        {"static": [Op("create", entry)]},
    )
    assert edit("route set { prefix 10.0.0.0/24; via 192.0.2.1; track on }") == (
        "routing",
        {"static": [Op("replace", entry)]},
    )
    assert edit("route delete static { prefix 10.0.0.0/24; via 192.0.2.1 }") == (
        "routing",
        {"static": [Op("delete", {"prefix": "10.0.0.0/24"})]},
    )
    assert edit("acl set global { input web }") == (
        "acls",
        {"global": Op("replace", {"input": "web"})},
    )
    assert edit("system set { hostname r1 }") == ("system", {"hostname": "r1"})
    assert edit("system delete { description; contact }") == (
        "system",
        {"description": Op("remove"), "contact": Op("remove")},
    )


def test_sync_replaces_the_module_and_blocks_nest():
    root, value = edit(
        "route sync {\n"
        "    static { prefix 10.0.0.0/24; via 192.0.2.1 }\n"
        "    bgp { prefix 172.16.0.0/16; local_pref 200; community [ 65001:100, no-export ] }\n"
        "}"
    )
    assert root == "routing"
    assert value == Op(
        "replace",
        {
            "static": [{"prefix": "10.0.0.0/24", "via": "192.0.2.1"}],
            "bgp": [
                {
                    "prefix": "172.16.0.0/16",
                    "local-pref": "200",
                    "community": ["65001:100", "no-export"],
                }
            ],
        },
    )


def test_strings_comments_and_statement_ends():
    edits = parse_edits(
        '# a comment\nsystem set { description "edge; rack \\"4\\""  // another\n'
        " location 'row 2' }\n"
        "system set { contact noc }; system set { hostname r1 }"
    )
    assert [e.value for e in edits] == [
        {"description": 'edge; rack "4"', "location": "row 2"},
        {"contact": "noc"},
        {"hostname": "r1"},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "route set static { prefix 10.0.0.0/24; vai 192.0.2.1 }",
            "line 1, column 40: unknown keyword 'vai'; did you mean 'via'?",
        ),
        ("commit", "unknown module 'commit'"),
        ("route set static", "needs a block"),
        ("route set static { via 1.2.3.4 }", "a static entry needs prefix"),
        (
            "route set static { prefix 10.0.0.0/24\n",
            "missing '}' to close the '{' at line 1, column 18",
        ),
        ("route set static { prefix [ a b ] }", "'prefix' takes one value"),
        ("route set static { prefix a; prefix b }", "'prefix' is given twice"),
    ],
)
def test_mistakes_say_where(text, message):
    with pytest.raises(DslError) as info:
        parse_edits(text)
    assert message in str(info.value)
