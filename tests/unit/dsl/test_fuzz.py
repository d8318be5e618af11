"""Whatever comes in, the DSL parser answers with edits or a DslError, nothing else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyos_agent.northbound.dsl import DslError, needs_more, parse_edits
from flyos_agent.northbound.dsl.complete import SchemaHelp
from flyos_agent.schema import Schema, load_schema

SCHEMA: Schema = load_schema()
HELP = SchemaHelp(SCHEMA, existing=lambda path: ["eth0"])

PIECES = [
    "route", "nic", "acl", "system", "tunnel", "add", "set", "delete", "sync", "static", "bgp",
    "rule", "acl", "global", "destination", "prefix", "via", "dev", "community", "sequence",
    "track", "type", "area", "local_pref", "state", "hostname", "10.0.0.0/24", "fe80::1", "yes",
    "10", "-1", "99999999999", "eth0", "{", "}", "[", "]", ";", ",", "\n", "#c\n", "//c\n", '"',
    '"s"', "'", "\\", "\\u12", "\x00", "\udcff", "é",
]  # fmt: skip
dsl_like = st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join)
SLOW = [HealthCheck.too_slow]


def parses_or_refuses(data: str | bytes) -> None:
    try:
        parse_edits(SCHEMA, data)
    except DslError as error:
        assert error.line >= 1 and error.column >= 1
        assert error.message.startswith(f"line {error.line}, column {error.column}: ")


@settings(max_examples=500, deadline=None, suppress_health_check=SLOW)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    parses_or_refuses(data)


@settings(max_examples=500, deadline=None, suppress_health_check=SLOW)
@given(text=st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    parses_or_refuses(text)


@settings(max_examples=1000, deadline=None, suppress_health_check=SLOW)
@given(text=dsl_like)
def test_text_made_of_dsl_pieces(text: str) -> None:
    parses_or_refuses(text)
    parses_or_refuses(text.encode("utf-8", "surrogatepass"))
    needs_more(text)
    HELP.at(text)
