"""`flyos mcp`: the MCP tools on stdin/stdout, for AI clients that launch a command.

A desktop AI client starts `flyos mcp` and speaks MCP over its stdio; the
bridge serves the very tools, guardrails and resources of the agent's /mcp
endpoint (flyos_agent.northbound.mcp), with `IpcOperations` in place of the
in-process Manager: every tool is one or two IPC calls on the bridge's own
connection, which is one agent session with a private candidate. When the
client hangs up the connection closes, and the agent reverts an unconfirmed
commit made without `persist`, as for any session that ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from cli.ipc_client import ClientError, IpcClient
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import OperationFailed
from flyos_agent.northbound.mcp.guardrails import ToolSession
from flyos_agent.northbound.mcp.server import build_server, serve_stdio
from flyos_agent.northbound.mcp.tools import build_tools
from flyos_agent.schema import Schema, default_schema


class IpcOperations:
    """The MCP tools' `Operations` over one IPC connection (one agent session)."""

    def __init__(self, client: IpcClient, schema: Schema) -> None:
        self._client = client
        self._schema = schema

    @property
    def schema(self) -> Schema:
        """The local copy of the compiled models (the client ships the same yang/)."""
        return self._schema

    def call(self, command: str, **args: Any) -> Any:
        """The result of an IPC command (arguments that are None are left out)."""
        given = {name.replace("_", "-"): value for name, value in args.items() if value is not None}
        try:
            return self._client.call(command, given)
        except ClientError as exc:
            raise OperationFailed(f"the agent is unreachable: {exc}") from None

    def edit_candidate(self, edits: Sequence[Edit]) -> None:
        """Send `edits` to the session's private candidate (IPC `edit`)."""
        items = [_edit_json(self._schema, edit) for edit in edits]
        self.call("edit", target="candidate", edits=items)

    def get_config(
        self, source: str, *, path: str | None, xpath: str | None, with_defaults: str
    ) -> dict[str, Any]:
        """IPC `get-config`."""
        found: dict[str, Any] = self.call(
            "get-config", source=source, path=path, xpath=xpath, with_defaults=with_defaults
        )
        return found

    def get_state(
        self, *, path: str | None, xpath: str | None, with_defaults: str
    ) -> dict[str, Any]:
        """IPC `get`."""
        found: dict[str, Any] = self.call(
            "get", path=path, xpath=xpath, with_defaults=with_defaults
        )
        return found

    def compare(self, source: str, target: str) -> list[dict[str, Any]]:
        """IPC `compare`."""
        found: list[dict[str, Any]] = self.call("compare", source=source, target=target)
        return found

    def validate(self, source: str) -> None:
        """IPC `validate`."""
        self.call("validate", source=source)

    def commit(
        self,
        *,
        confirmed: bool = False,
        timeout: int | None = None,
        persist: str | None = None,
        persist_id: str | None = None,
        comment: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """IPC `commit` (`check` for a dry run)."""
        found: dict[str, Any] = self.call(
            "commit",
            confirmed=confirmed,
            timeout=timeout,
            persist=persist,
            persist_id=persist_id,
            comment=comment,
            check=dry_run,
        )
        return found

    def confirm(self, persist_id: str | None) -> dict[str, Any]:
        """IPC `confirm`."""
        found: dict[str, Any] = self.call("confirm", persist_id=persist_id)
        return found

    def cancel_commit(self, persist_id: str | None) -> None:
        """IPC `cancel-commit`."""
        self.call("cancel-commit", persist_id=persist_id)

    def discard(self) -> None:
        """IPC `discard`."""
        self.call("discard")

    def rollback(self, index: int, commit_id: int | None) -> None:
        """IPC `rollback` (by commit id when one is given)."""
        if commit_id is not None:
            self.call("rollback", commit_id=commit_id)
        else:
            self.call("rollback", index=index)

    def history(self, limit: int | None) -> list[dict[str, Any]]:
        """IPC `history`."""
        found: list[dict[str, Any]] = self.call("history", limit=limit)
        return found

    def close(self) -> None:
        """Close the connection: the agent ends the session."""
        self._client.close()


def _edit_json(schema: Schema, edit: Edit) -> dict[str, Any]:
    """One edit as the IPC `edit` command takes it."""
    item: dict[str, Any] = {"path": format_path(schema, edit.path)}
    if edit.operation is not None:
        item["operation"] = str(edit.operation)
    if edit.value is not None:
        item["value"] = edit.value
    return item


def serve(client: IpcClient, *, confirm_timeout: int) -> int:
    """Serve MCP on stdio for the session of `client` until the AI client hangs up."""
    schema = default_schema()
    client.call("private")
    session = ToolSession(IpcOperations(client, schema), confirm_timeout=confirm_timeout)
    tools = build_tools(schema, confirm_timeout=confirm_timeout)
    server = build_server(tools, schema, lambda _request: session)
    anyio.run(serve_stdio, server)
    return 0
