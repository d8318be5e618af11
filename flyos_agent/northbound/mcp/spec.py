"""What an MCP tool is: data (name, description, input JSON Schema) plus a function.

The function takes the caller's `ToolSession` and the call's arguments and
returns a JSON-ready result or raises a `FlyosError`; the transports turn
both into MCP replies (server.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flyos_agent.northbound.mcp.guardrails import ToolSession

ToolRun = Callable[[ToolSession, dict[str, Any]], Any]


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool: its name, description, input JSON Schema and implementation."""

    name: str
    description: str
    input_schema: dict[str, Any]
    run: ToolRun
    read_only: bool = False
