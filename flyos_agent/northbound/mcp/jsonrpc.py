"""The original FlyOS JSON-RPC calls, served on /mcp beside the MCP methods.

`{"jsonrpc":"2.0","method":"route.add","params":{"prefix":"10.0.0.0/24",
"via":"192.168.1.1"},"id":1}` is the module verb `route add` with those
arguments (`<module>.<verb>`, optionally `<module>.<verb>.<kind>` or a
`kind` parameter; params an object, or a list of `key=value` strings):
`verbs.verb_edits` applied to running as one transaction (validated,
applied to the kernel, journaled), by a Manager session of the caller that
lasts for the request, exactly as IPC `route add` does. The result is the
commit result (`changed`, `commit-id`, `changes`).

Errors follow JSON-RPC 2.0: -32700 parse error, -32600 invalid request,
-32601 unknown method, -32602 bad params (the FlyOS errors about the
arguments: invalid-value, missing/unknown/bad element ...), -32000 any other
FlyOS error (data-exists, access-denied, in-use ...). `error.data` is the
FlyOS error (tag, type, path, message). Batches (arrays) are answered with
an array; notifications (no `id`) run and get no reply.
"""

from __future__ import annotations

from typing import Any

from flyos_agent.errors import FlyosError
from flyos_agent.northbound.rest.auth import Principal
from flyos_agent.northbound.verbs import MODULE_ALIASES, VERBS, parse_arg_list, verb_edits
from flyos_agent.runtime.manager import Manager

CHANNEL = "mcp-jsonrpc"
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
FLYOS_ERROR = -32000
PARAMS_TAGS = frozenset(
    {
        "invalid-value",
        "missing-element",
        "bad-element",
        "unknown-element",
        "missing-attribute",
        "bad-attribute",
        "unknown-attribute",
        "unknown-namespace",
        "malformed-message",
    }
)
MCP_METHODS = frozenset({"initialize", "ping"})


class JsonRpcError(Exception):
    """A JSON-RPC error about the request itself (not a FlyOS error)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_mcp_message(message: Any) -> bool:
    """True for what the MCP SDK serves: an MCP request or notification (`initialize`,
    `ping`, `tools/call`, `notifications/initialized` ...) or a reply to one of the
    server's own requests."""
    if not isinstance(message, dict):
        return False
    method = message.get("method")
    if isinstance(method, str):
        return "/" in method or method in MCP_METHODS
    return "method" not in message and ("result" in message or "error" in message)


def error_reply(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    """A JSON-RPC error response."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": request_id}


class FlyosJsonRpc:
    """Answers FlyOS JSON-RPC requests and batches for an authenticated caller."""

    def __init__(self, manager: Manager) -> None:
        self._manager = manager

    def handle(self, payload: Any, caller: Principal) -> Any:
        """The reply to a request or a batch; None when there is nothing to answer.

        Blocks while a call commits: call it from a worker thread.
        """
        if not isinstance(payload, list):
            return self._one(payload, caller)
        if not payload:
            return error_reply(None, INVALID_REQUEST, "an empty batch is not a request")
        replies = [reply for item in payload if (reply := self._one(item, caller)) is not None]
        return replies or None

    def _one(self, request: Any, caller: Principal) -> dict[str, Any] | None:
        request_id = request.get("id") if isinstance(request, dict) else None
        if request_id is not None and not isinstance(request_id, str | int | float):
            return error_reply(None, INVALID_REQUEST, "'id' must be a string, a number or null")
        try:
            method, params = _check(request)
        except JsonRpcError as exc:
            return error_reply(request_id, exc.code, exc.message)
        try:
            reply = {
                "jsonrpc": "2.0",
                "result": self._call(method, params, caller),
                "id": request_id,
            }
        except JsonRpcError as exc:
            reply = error_reply(request_id, exc.code, exc.message)
        except FlyosError as exc:
            code = INVALID_PARAMS if exc.tag in PARAMS_TAGS else FLYOS_ERROR
            reply = error_reply(request_id, code, str(exc), exc.to_dict())
        return reply if "id" in request else None  # a notification gets no reply, not even an error

    def _call(self, method: str, params: Any, caller: Principal) -> dict[str, Any] | None:
        module, verb, kind = self._resolve(method)
        values = _values(params)
        given_kind = values.pop("kind", None)
        if given_kind is not None and (not isinstance(given_kind, str) or kind is not None):
            raise JsonRpcError(INVALID_PARAMS, "'kind' must be a string, given once")
        kind = kind or given_kind
        manager = self._manager
        session = manager.open_session(caller.user, CHANNEL, caller.group)
        try:
            edits = verb_edits(manager.schema, module, verb, kind, values)
            result = manager.edit(session, "running", edits)
        finally:
            manager.close_session(session)
        return result.to_dict() if result is not None else None

    def _resolve(self, method: str) -> tuple[str, str, str | None]:
        """(module, verb, kind) of `<module>.<verb>[.<kind>]`; -32601 otherwise."""
        words = method.split(".")
        module_known = words[0] in MODULE_ALIASES or words[0] in self._manager.schema.roots
        if len(words) not in (2, 3) or words[1] not in VERBS or not module_known:
            mcp = is_mcp_message({"method": method})
            hint = " (MCP methods are not served in a batch)" if mcp else ""
            raise JsonRpcError(METHOD_NOT_FOUND, f"method not found: '{method}'{hint}")
        return words[0], words[1], words[2] if len(words) == 3 else None


def _check(request: Any) -> tuple[str, Any]:
    """(method, params) of a well-formed request object; -32600 otherwise."""
    if not isinstance(request, dict):
        raise JsonRpcError(INVALID_REQUEST, "a request must be a JSON object")
    if request.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, "'jsonrpc' must be \"2.0\"")
    method = request.get("method")
    if not isinstance(method, str):
        raise JsonRpcError(INVALID_REQUEST, "'method' must be a string")
    params = request.get("params")
    if params is not None and not isinstance(params, dict | list):
        raise JsonRpcError(INVALID_REQUEST, "'params' must be an object or an array")
    return method, params


def _values(params: Any) -> dict[str, Any]:
    """The arguments: an object, or `key=value` strings; -32602 otherwise."""
    if params is None:
        return {}
    if isinstance(params, dict):
        return dict(params)
    if all(isinstance(item, str) for item in params):
        return parse_arg_list(params)
    raise JsonRpcError(INVALID_PARAMS, "positional params must be 'key=value' strings")
