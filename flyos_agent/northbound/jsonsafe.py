"""Parsing untrusted JSON: well-formed, nested no deeper than a bound, no lone surrogates.

Every channel that reads JSON from a client (REST/RESTCONF bodies, MCP and
the FlyOS JSON-RPC, IPC request lines) parses it with `load_json`: a
document nested 10 000 levels deep is refused with one malformed-message
error naming the bound, not a RecursionError somewhere down the stack; a
string holding a lone UTF-16 surrogate (`"\\ud800"`, which I-JSON forbids)
is refused too, as no reply quoting it could be encoded.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flyos_agent.errors import MalformedMessage

DEFAULT_MAX_DEPTH = 128
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")  # escaped, or raw UTF-8


def load_json(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The value `data` holds; MalformedMessage if it is not JSON, is nested
    deeper than `max_depth` objects and arrays, or holds a lone surrogate."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise MalformedMessage(_too_deep(max_depth)) from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise MalformedMessage(f"not valid JSON: {exc}") from None
    if _deeper_than(value, max_depth):
        raise MalformedMessage(_too_deep(max_depth))
    if _SURROGATE.search(data) and _has_lone_surrogate(value):
        raise MalformedMessage("not valid JSON: a string holds a lone UTF-16 surrogate")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """True if a string of `value` cannot be encoded as UTF-8 (only paired surrogates can)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _too_deep(max_depth: int) -> str:
    return f"JSON nested deeper than {max_depth} levels"


def _deeper_than(value: Any, max_depth: int) -> bool:
    """True if objects and arrays nest more than `max_depth` levels (level by level,
    no recursion; what json.loads builds is exactly dict and list)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return True
        below: list[Any] = []
        for node in level:
            children = node.values() if node.__class__ is dict else node
            below += [c for c in children if c.__class__ is dict or c.__class__ is list]
        level = below
    return False
