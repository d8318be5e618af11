"""The DSL's lexical and statement syntax: comments, separators, lists, strings, errors."""

from __future__ import annotations

import pytest

from flyos_agent.northbound.dsl import DslError, ListValue, Word, needs_more, parse
from flyos_agent.northbound.dsl.lexer import TokenKind, inside_string, tokenize


def texts(data: str) -> list[str]:
    return [t.text for t in tokenize(data) if t.kind is not TokenKind.EOF]


def test_words_keep_ipv6_prefixes_communities_and_ranges_whole() -> None:
    assert texts("via fe80::1 2001:db8::/32 65001:100 8000-8080 a|b") == [
        "via",
        "fe80::1",
        "2001:db8::/32",
        "65001:100",
        "8000-8080",
        "a|b",
    ]


def test_hash_and_double_slash_comments_only_at_the_start_of_a_token() -> None:
    assert texts("a # c\nb // d\nhttp://x c#d") == ["a", "\n", "b", "\n", "http://x", "c#d"]


def test_strings_unescape_and_report_unterminated_with_position() -> None:
    assert texts(r'"a \"b\" \\ \n \u00e9" ' + "'x;y'") == ['a "b" \\ \n é', "x;y"]
    with pytest.raises(DslError) as caught:
        tokenize('route add\n  "open')
    assert (caught.value.line, caught.value.column) == (2, 3)
    assert "unterminated string" in caught.value.message


def test_bytes_must_be_utf8_and_control_characters_are_refused() -> None:
    with pytest.raises(DslError, match="not UTF-8"):
        tokenize(b"route \xff")
    with pytest.raises(DslError, match="U\\+0001"):
        tokenize("a\x01")


def test_statements_with_semicolons_newlines_lists_and_nested_blocks() -> None:
    script = parse(
        "route sync {\n"
        "  static { prefix 10.0.0.0/24; via 192.168.1.1 }\n"
        "  bgp { community [ 65001:100, 65002:200 ] } ospf { area 0.0.0.0 }\n"
        "}\n"
        'commit comment "x y"\n'
    )
    assert [s.keyword.text for s in script] == ["route", "commit"]
    block = script[0].block
    assert block is not None
    assert [s.keyword.text for s in block] == ["static", "bgp", "ospf"]
    bgp_block = block[1].block
    assert bgp_block is not None
    community = bgp_block[0].values[0]
    assert isinstance(community, ListValue)
    assert [w.text for w in community.items] == ["65001:100", "65002:200"]
    assert script[1].values == (Word("comment", 5, 8), Word("x y", 5, 16, quoted=True))


def test_an_opening_brace_may_start_on_the_next_line() -> None:
    (statement,) = parse("route add static\n\n{ prefix 10.0.0.0/24 }")
    assert statement.block is not None


@pytest.mark.parametrize(
    ("text", "where", "expected", "message"),
    [
        ("route add static { prefix 10.0.0.0/24", (1, 38), "'}'", "missing '}'"),
        ("}", (1, 1), "a keyword", "no block is open"),
        ("a [ b", (1, 6), "']'", "missing ']'"),
        ("a [ b { ]", (1, 7), "']'", "in a list"),
        ("a b ]", (1, 5), "'{'", "unexpected ']'"),
        ("{ a }", (1, 1), "a keyword", "expected a keyword"),
    ],
)
def test_syntax_errors_say_where_and_what_was_expected(
    text: str, where: tuple[int, int], expected: str, message: str
) -> None:
    with pytest.raises(DslError) as caught:
        parse(text)
    error = caught.value
    assert (error.line, error.column) == where
    assert expected in error.expected
    assert message in error.message
    assert error.message.startswith(f"line {where[0]}, column {where[1]}: ")
    assert error.info["line"] == where[0]


def test_needs_more_while_a_brace_bracket_or_string_is_open() -> None:
    assert needs_more("route sync {")
    assert needs_more("route sync {\n static { prefix 1.0.0.0/8 }")
    assert needs_more('system set { description "open')
    assert needs_more("bgp { community [ a")
    assert not needs_more("route sync {\n static { prefix 1.0.0.0/8 }\n}")
    assert not needs_more("commit # {")
    assert not needs_more("}")


def test_each_statement_keeps_its_own_source_text() -> None:
    text = 'commit comment "a \\" b" # why\nroute sync {\n  static { prefix 1.0.0.0/8 }\n} ; lock'
    assert [s.source for s in parse(text)] == [
        'commit comment "a \\" b"',
        "route sync {\n  static { prefix 1.0.0.0/8 }\n}",
        "lock",
    ]


def test_inside_string_tells_a_question_mark_to_type_itself() -> None:
    assert inside_string('system set { description "why')
    assert not inside_string('system set { description "why" ')
    assert not inside_string("route add ")
