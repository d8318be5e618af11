"""Help topics from the schema, and a fuzzy search over topics.

Every module and every configuration node is a topic named by the words an
operator types to reach it (`route static via`); `search` finds topics by
exact name, by the last word, by substring, by close spelling (difflib) and
finally by words of the description.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from flyos_agent.northbound.dsl.binder import config_children, kind_nodes
from flyos_agent.northbound.dsl.complete import VERB_HELP, describe_node, describe_type
from flyos_agent.northbound.dsl.render import module_word
from flyos_agent.schema import Kind, Schema, SchemaNode


@dataclass(frozen=True)
class Topic:
    """A help topic: its name, a one-line summary and the full text."""

    name: str
    summary: str
    body: str


def schema_topics(schema: Schema) -> list[Topic]:
    """A topic for each module and each configuration node, in schema order."""
    topics: list[Topic] = []
    for root in schema.roots.values():
        word = module_word(root)
        topics.append(_module_topic(word, root))
        for node in root.walk():
            if node is not root and node.config:
                topics.append(_node_topic(word, root, node))
    return topics


def _module_topic(word: str, root: SchemaNode) -> Topic:
    lines = [f"{word}: {' '.join(root.description.split())}", "", "Statements:"]
    lines += [f"  {word} {verb} [KIND] {{ ... }}   {text}" for verb, text in VERB_HELP.items()]
    kinds = kind_nodes(root)
    if kinds:
        lines += ["", "Kinds:"]
        lines += [f"  {name:16} {describe_node(node)}" for name, node in kinds.items()]
    return Topic(word, describe_node(root), "\n".join(lines))


def _node_topic(word: str, root: SchemaNode, node: SchemaNode) -> Topic:
    steps = node.path.split(":", 1)[-1].strip("/").split("/")[1:]
    name = " ".join([word, *steps])
    lines = [f"{name}  ({node.kind.value}, {node.path})", "", " ".join(node.description.split())]
    if node.type is not None:
        lines += ["", f"Type: {describe_type(node.type)}"]
    facts = []
    if node.keys:
        facts.append(f"key: {' '.join(node.keys)}")
    if node.mandatory:
        facts.append("mandatory")
    if node.default is not None:
        facts.append(f"default: {node.default}")
    if node.units:
        facts.append(f"units: {node.units}")
    if facts:
        lines.append("; ".join(facts))
    if node.kind in (Kind.CONTAINER, Kind.LIST):
        lines += ["", "Keywords:"]
        lines += [f"  {n:16} {describe_node(c)}" for n, c in config_children(node).items()]
    return Topic(name, describe_node(node), "\n".join(lines))


def search(topics: Iterable[Topic], query: str) -> list[Topic]:
    """Topics matching `query`, best first: exact, last word, substring, spelling, text."""
    wanted = " ".join(query.lower().replace("_", "-").split())
    pool = list(topics)
    if not wanted:
        return pool
    ranks: dict[str, float] = {}
    for topic in pool:
        name = topic.name.lower()
        if name == wanted:
            ranks[topic.name] = 0
        elif name.endswith(" " + wanted):
            ranks[topic.name] = 1
        elif wanted in name:
            ranks[topic.name] = 2
        elif wanted in topic.body.lower():
            ranks[topic.name] = 4
    words = {topic.name.split()[-1] for topic in pool} | {topic.name for topic in pool}
    close = difflib.get_close_matches(wanted, sorted(words), n=5, cutoff=0.7)
    for position, word in enumerate(close):
        for topic in pool:
            if word in (topic.name, topic.name.split()[-1]):
                ranks[topic.name] = min(ranks.get(topic.name, 9.0), 3 + position / 10)
    order = {topic.name: index for index, topic in enumerate(pool)}
    found = [topic for topic in pool if topic.name in ranks]
    return sorted(found, key=lambda t: (ranks[t.name], order[t.name]))
