"""The MCP tool set, built from the compiled schema.

`build_tools(schema, confirm_timeout)` returns the module tools generated
from yang/ (module_tools.py: `<word>_add`, `_set`, `_delete`, `_sync`,
`_get` per configuration module) followed by the fixed session tools
(session_tools.py: `get_config`, `get_state`, `compare`, `validate`,
`commit`, `confirm`, `cancel_commit`, `discard`, `rollback`, `history`).
Nothing here is written per module: a leaf, list or module added to yang/
shows up in the tools with no code change.
"""

from __future__ import annotations

from flyos_agent.northbound.mcp.module_tools import module_tools
from flyos_agent.northbound.mcp.session_tools import session_tools
from flyos_agent.northbound.mcp.spec import ToolSpec
from flyos_agent.schema import Schema


def build_tools(schema: Schema, *, confirm_timeout: int) -> dict[str, ToolSpec]:
    """Every tool, by name: the module tools of `schema`, then the session tools."""
    tools = [*module_tools(schema), *session_tools(confirm_timeout)]
    return {tool.name: tool for tool in tools}
