"""The tools come from the compiled schema: a leaf added to yang/ changes them, no code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema

from flyos_agent.northbound.mcp.spec import ToolSpec
from flyos_agent.northbound.mcp.tools import build_tools
from flyos_agent.schema import build_schema, default_schema
from flyos_agent.schema.schema import DEFAULT_YANG_DIR

LEAF = """
      leaf mcp-probe-weight {
        type uint8 {
          range "1..9";
        }
        description
          "A leaf the MCP test adds to a copy of the models.";
      }
"""


def test_a_leaf_added_to_yang_changes_the_tool_schemas(tmp_path: Path) -> None:
    yang = shutil.copytree(DEFAULT_YANG_DIR, tmp_path / "yang")
    routing = yang / "flyos-routing.yang"
    text = routing.read_text(encoding="utf-8")
    anchor = re.search(r"\n(\s*)leaf via \{", text)
    assert anchor is not None
    routing.write_text(text[: anchor.start()] + LEAF + text[anchor.start() :], encoding="utf-8")

    before = build_tools(default_schema(), confirm_timeout=120)
    after = build_tools(build_schema(yang), confirm_timeout=120)

    def static_entry(tools: dict[str, ToolSpec], verb: str) -> dict[str, Any]:
        properties: dict[str, Any] = tools[f"route_{verb}"].input_schema["properties"]
        entry: dict[str, Any] = properties["static"]["properties"]
        return entry

    assert "mcp-probe-weight" not in static_entry(before, "add")
    for verb in ("add", "set"):
        leaf = static_entry(after, verb)["mcp-probe-weight"]
        assert leaf["type"] == "integer" and (leaf["minimum"], leaf["maximum"]) == (1, 9)
        assert "A leaf the MCP test adds" in str(leaf["description"])
    sync = after["route_sync"].input_schema["properties"]["static"]["items"]
    assert "mcp-probe-weight" in sync["properties"]
    assert after.keys() == before.keys()
    for tool in after.values():
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
