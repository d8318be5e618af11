"""The MCP resources: configuration, commit history and the YANG modules, as text.

- `flyos://config/running` and `flyos://config/candidate` (this session's
  private candidate): RFC 7951 JSON;
- `flyos://history`: the commit history, newest first (JSON);
- `flyos://yang/<module>`: the text of each YANG module the agent loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.schema import Schema

CONFIG = "flyos://config/"
HISTORY = "flyos://history"
YANG = "flyos://yang/"
JSON_TYPE = "application/json"
YANG_TYPE = "application/yang"


@dataclass(frozen=True)
class ResourceInfo:
    """One listed resource."""

    uri: str
    name: str
    description: str
    mime_type: str


def list_resources(schema: Schema) -> list[ResourceInfo]:
    """Every resource: the two configurations, the history, one per YANG module."""
    fixed = [
        ResourceInfo(
            CONFIG + "running", "running", "the running configuration (RFC 7951)", JSON_TYPE
        ),
        ResourceInfo(
            CONFIG + "candidate",
            "candidate",
            "this session's private candidate: running plus its uncommitted edits",
            JSON_TYPE,
        ),
        ResourceInfo(HISTORY, "history", "the commit history, newest first", JSON_TYPE),
    ]
    modules = [
        ResourceInfo(
            YANG + info.name,
            info.name,
            " ".join(info.description.split()) or f"YANG module {info.name}",
            YANG_TYPE,
        )
        for info in schema.modules
    ]
    return fixed + modules


def read_resource(session: ToolSession, uri: str) -> tuple[str, str]:
    """(text, MIME type) of the resource `uri`; InvalidValue if there is none."""
    ops = session.ops
    if uri in (CONFIG + "running", CONFIG + "candidate"):
        config = ops.get_config(uri[len(CONFIG) :], path=None, xpath=None, with_defaults="explicit")
        return json.dumps(config, indent=1, ensure_ascii=False), JSON_TYPE
    if uri == HISTORY:
        return json.dumps(ops.history(None), indent=1, ensure_ascii=False), JSON_TYPE
    if uri.startswith(YANG):
        name = uri[len(YANG) :]
        info = next((m for m in ops.schema.modules if m.name == name), None)
        if info is not None:
            return Path(info.source).read_text(encoding="utf-8"), YANG_TYPE
    raise InvalidValue(f"no resource '{uri}'")
