"""The collection's XML, DSL and rendering code against the agent's own, no agent process.

The modules cannot import the agent (they run in the Ansible venv), so the
collection carries its own small XML codec, DSL reader and DSL renderer over
the schema snapshot. Each is checked here against the agent's implementation
on the example configurations: XML the agent's NETCONF codec writes decodes
to the same data; XML the collection writes is read by the agent's NETCONF
edit-config code into the same datastore; DSL the collection translates to
edit-config gives the datastore the agent's DSL gives; the rendering is the
agent's, character for character.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flyos_collection import REPO, import_module_utils
from lxml import etree

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.edit import apply_edits
from flyos_agent.northbound.dsl import parse_edits, render_dsl, render_set
from flyos_agent.northbound.netconf.editconfig import flatten
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.schema import load_schema

SCHEMA = load_schema()
CODEC = XmlCodec(SCHEMA)
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
EXAMPLES = {
    name: json.loads((REPO / "examples" / f"{name}.json").read_text(encoding="utf-8"))
    for name in ("full", "demo")
}
STATEMENTS = [  # after examples/full.json
    "route add static { prefix 10.9.0.0/24; via 192.0.2.1; track yes }",
    "route set static { prefix 10.9.0.0/24; via 192.0.2.2; metric 7 }",
    "route add bgp { prefix 172.31.0.0/16; local_pref 200; community [ 65001:100, no-export ] }",
    'system set { hostname r9; description "edge router; rack 4" }',
    "system delete { description }",
    "acl set global { input wan-in }",
    "nic delete interface { name eth4 }",
    "tunnel set { gre { name gre1; remote 203.0.113.99 } }",
    "nat delete rule { sequence 10 }",
]


@pytest.fixture(scope="module")
def utils(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return import_module_utils(tmp_path_factory.mktemp("collections"))


def local(config: dict[str, Any]) -> dict[str, Any]:
    """RFC 7951 members (`flyos-routing:routing`) by their container names."""
    return {member.rpartition(":")[2]: value for member, value in config.items()}


def agent_tree(config: dict[str, Any]) -> Any:
    return trees.tree_from_plain(SCHEMA, config)


def apply_xml(tree: Any, config_xml: str) -> Any:
    """What the agent's edit-config does with a <config> text (default merge)."""
    result = apply_edits(SCHEMA, tree, flatten(CODEC, etree.fromstring(config_xml.encode())))
    assert not result.errors, result.errors
    return result.tree


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_agent_xml_decodes_to_the_same_data(utils: Any, name: str) -> None:
    config = EXAMPLES[name]
    data = etree.Element(f"{{{NC}}}data")
    CODEC.to_xml(config, data)
    decoded = utils.xmldata.decode_roots(utils.xmldata.parse(etree.tostring(data)), yang_names=True)
    assert decoded == local(config)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_collection_xml_is_read_by_the_agent_as_the_same_data(utils: Any, name: str) -> None:
    config = EXAMPLES[name]
    elements = [utils.xmldata.encode(root, value) for root, value in local(config).items()]
    tree = apply_xml(trees.EMPTY, utils.xmldata.config_xml(elements))
    assert trees.tree_to_plain(SCHEMA, tree) == trees.tree_to_plain(SCHEMA, agent_tree(config))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("render", [render_dsl, render_set], ids=["dsl", "set"])
def test_collection_dsl_edits_match_the_agents_dsl(utils: Any, name: str, render: Any) -> None:
    text = render(SCHEMA, EXAMPLES[name]) + "\n" + "\n".join(STATEMENTS if name == "full" else [])
    start = agent_tree(EXAMPLES["full"])
    ours = start
    for edit in utils.dsl.parse_edits(text):
        ours = apply_xml(
            ours, utils.xmldata.config_xml([utils.xmldata.encode(edit.root, edit.value)])
        )
    theirs = start
    for statement in parse_edits(SCHEMA, text):
        result = apply_edits(SCHEMA, theirs, statement.edits)
        assert not result.errors, result.errors
        theirs = result.tree
    assert trees.tree_to_plain(SCHEMA, ours) == trees.tree_to_plain(SCHEMA, theirs)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rendering_is_the_agents(utils: Any, name: str) -> None:
    config = EXAMPLES[name]
    assert utils.render.render_dsl(local(config)) == render_dsl(SCHEMA, config)
    assert utils.render.render_set(local(config)) == render_set(SCHEMA, config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("route set static { prefix 10.0.0.0/24; vai 1.2.3.4 }", "did you mean 'via'"),
        ("rout set static { prefix 10.0.0.0/24 }", "unknown module 'rout'; did you mean 'route'"),
        ("route sett static { prefix 10.0.0.0/24 }", "expected a verb"),
        ("route set static { via 1.2.3.4 }", "a static entry needs prefix"),
        ("route set static { prefix 10.0.0.0/24", "missing '}'"),
        ("system set { hostname 'r1 }", "unterminated string"),
        ("nic set interface { name eth0; state { ifindex 3 } }", "state data"),
    ],
)
def test_dsl_mistakes_are_refused_with_where(utils: Any, text: str, message: str) -> None:
    with pytest.raises(utils.dsl.DslError, match="line 1, column") as info:
        utils.dsl.parse_edits(text)
    assert message in str(info.value)


def test_xml_a_user_gives_with_an_unknown_element_is_refused(utils: Any) -> None:
    xml = (
        '<routing xmlns="urn:flyos:yang:flyos-routing">'
        "<static><prefix>10.0.0.0/8</prefix><vai>192.0.2.1</vai></static></routing>"
    )
    with pytest.raises(utils.xmldata.XmlDataError, match="/routing/static: unknown element 'vai'"):
        utils.xmldata.decode_roots(utils.xmldata.parse(xml), strict=True)
