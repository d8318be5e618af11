"""The FlyOS DSL: module statements (`route add static { ... }`) as datastore edits.

lexer -> syntax (statements of words and blocks) -> binder (schema-driven
edits through the module verbs); render writes configuration back as DSL;
complete answers tab completion and `?` help from the schema.
"""

from flyos_agent.northbound.dsl.binder import EditStatement, bind, parse_edits
from flyos_agent.northbound.dsl.errors import DslError
from flyos_agent.northbound.dsl.lexer import needs_more
from flyos_agent.northbound.dsl.render import render_dsl, render_set, render_value
from flyos_agent.northbound.dsl.syntax import ListValue, Statement, Word, parse

__all__ = [
    "DslError",
    "EditStatement",
    "ListValue",
    "Statement",
    "Word",
    "bind",
    "needs_more",
    "parse",
    "parse_edits",
    "render_dsl",
    "render_set",
    "render_value",
]
