"""The one error class of the DSL library: where the text went wrong and what was expected."""

from __future__ import annotations

from collections.abc import Iterable

from flyos_agent.errors import InvalidValue


class DslError(InvalidValue):
    """DSL text that cannot be turned into edits.

    Carries the 1-based `line` and `column`, the tokens or keywords that would
    have been accepted (`expected`), a close match for a misspelt keyword
    (`suggestion`) and, for errors inside a module block, the YANG schema path
    of the node being written. The message starts with the position, so it
    survives any channel that only passes messages on.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int,
        column: int,
        expected: Iterable[str] = (),
        suggestion: str | None = None,
        path: str | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.expected = tuple(expected)
        self.suggestion = suggestion
        info: dict[str, object] = {"line": line, "column": column}
        if self.expected:
            info["expected"] = list(self.expected)
        if suggestion is not None:
            info["did-you-mean"] = suggestion
        super().__init__(f"line {line}, column {column}: {message}", path=path, info=info)
