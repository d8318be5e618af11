"""The MCP channel: tools generated from YANG, with guardrails for autonomous agents.

`McpHttpApp` is the ASGI app the daemon mounts at /mcp on the REST listener
(MCP over streamable HTTP, and the original FlyOS JSON-RPC `<module>.<verb>`
calls); `flyos mcp` (cli/mcp_bridge.py) serves the same tools over stdio.
docs/mcp.md describes the whole channel.
"""

from flyos_agent.northbound.mcp.http import McpHttpApp

__all__ = ["McpHttpApp"]
