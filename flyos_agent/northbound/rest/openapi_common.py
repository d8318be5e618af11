"""The fixed parts of the OpenAPI document: protocol schemas, parameters, responses.

These describe what does not come from the FlyOS models: the RFC 8040
errors body, YANG Patch and its status, the commit-flow results, the YANG
library and capability documents, the query parameters.
"""

from __future__ import annotations

from typing import Any

from flyos_agent.northbound.rest.flow import MAX_COUNT, MAX_TIMEOUT
from flyos_agent.northbound.rest.media import PATCH_JSON, YANG_JSON
from flyos_agent.northbound.rest.openapi_schema import REF
from flyos_agent.northbound.rest.query import CONTENT_VALUES, MAX_DEPTH, WITH_DEFAULTS_VALUES

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
EMPTY: dict[str, Any] = {
    "type": "array",
    "items": {"nullable": True, "enum": [None]},
    "minItems": 1,
    "maxItems": 1,
    "description": "a YANG empty leaf: [null]",
}
SOURCE = {
    "type": "string",
    "pattern": "^(running|candidate|startup|commit:[0-9]{1,9}|rollback:[0-9]{1,9})$",
    "description": "running, candidate, startup, commit:<id> or rollback:<n>",
}


def ref(name: str) -> dict[str, Any]:
    """A $ref to component schema `name`."""
    return {"$ref": REF + name}


def obj(properties: dict[str, Any], *required: str, **extra: Any) -> dict[str, Any]:
    """An object schema."""
    out: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        out["required"] = list(required)
    return out


def array(items: dict[str, Any]) -> dict[str, Any]:
    """An array schema."""
    return {"type": "array", "items": items}


ARGUMENTS: dict[str, dict[str, Any]] = {
    "confirmed": {**BOOLEAN, "description": "revert unless confirmed within `timeout`"},
    "timeout": {**INTEGER, "minimum": 1, "maximum": MAX_TIMEOUT, "description": "seconds"},
    "persist": {**STRING, "description": "persist-id that a later confirm must give"},
    "persist-id": {**STRING, "description": "the persist-id of the pending confirmed commit"},
    "comment": {**STRING, "description": "stored with the commit in the history"},
    "check": {**BOOLEAN, "description": "validate and return the plan only"},
    "index": {**INTEGER, "minimum": 0, "maximum": MAX_COUNT, "description": "commits back"},
    "commit-id": {**INTEGER, "minimum": 0, "maximum": MAX_COUNT},
    "source": SOURCE,
    "target": SOURCE,
    "confirm-timeout": {**INTEGER, "minimum": 1, "maximum": MAX_TIMEOUT, "description": "seconds"},
    "dry-run": {**EMPTY, "description": "flyos-agent-ops:dry-run: validate and plan only"},
    "limit": {**INTEGER, "minimum": 1, "maximum": MAX_COUNT, "description": "at most this many"},
}


CHANGE = obj(
    {"operation": STRING, "target": STRING, "count": INTEGER},
    "operation",
    description="one changed unit (operation 'more' counts the ones left out)",
)
DIFF = obj(
    {
        "operation": STRING,
        "target": STRING,
        "value": {"type": "object"},
        "leaves": {"type": "object"},
    },
    "operation",
    "target",
)
COMMIT_RESULT = obj(
    {
        "changed": BOOLEAN,
        "commit-id": {**INTEGER, "nullable": True},
        "changes": array(ref("change")),
        "plan": array({}),
        "confirm-timeout": INTEGER,
        "persist-id": STRING,
    },
    "changed",
)
ERROR = obj(
    {
        "error-type": {"type": "string", "enum": ["transport", "rpc", "protocol", "application"]},
        "error-tag": STRING,
        "error-app-tag": STRING,
        "error-path": STRING,
        "error-message": STRING,
        "error-info": {"type": "object"},
    },
    "error-type",
    "error-tag",
)
ERRORS_MEMBER = obj({"error": array(ref("error"))}, "error")
YANG_PATCH_EDIT = obj(
    {
        "edit-id": STRING,
        "operation": {
            "type": "string",
            "enum": ["create", "delete", "insert", "merge", "move", "replace", "remove"],
        },
        "target": {**STRING, "description": "data resource path relative to the request URI"},
        "point": STRING,
        "where": {"type": "string", "enum": ["before", "after", "first", "last"]},
        "value": {"type": "object", "description": "the target node, by qualified name"},
    },
    "edit-id",
    "operation",
    "target",
)
PATCH_STATUS = obj(
    {
        "ietf-yang-patch:yang-patch-status": obj(
            {
                "patch-id": STRING,
                "ok": array({"nullable": True, "enum": [None]}),
                "global-errors": ERRORS_MEMBER,
                "edit-status": obj(
                    {"edit": array(obj({"edit-id": STRING, "errors": ERRORS_MEMBER}, "edit-id"))}
                ),
            },
            "patch-id",
        )
    },
    "ietf-yang-patch:yang-patch-status",
)

COMPONENTS: dict[str, dict[str, Any]] = {
    "error": ERROR,
    "errors": obj({"ietf-restconf:errors": ERRORS_MEMBER}, "ietf-restconf:errors"),
    "change": CHANGE,
    "diff": DIFF,
    "commit-result": COMMIT_RESULT,
    "commit-output": obj(
        {"flyos-agent-ops:change": array(ref("change")), "flyos-agent-ops:plan": array(STRING)}
    ),
    "compare-output": obj(
        {
            "change": array(
                obj(
                    {
                        "operation": STRING,
                        "target": STRING,
                        "value": {**STRING, "description": "the created unit, as JSON text"},
                        "leaf": array(obj({"name": STRING, "old": STRING, "new": STRING})),
                    }
                )
            )
        }
    ),
    "history-output": obj({"commit": array(ref("history-commit"))}),
    "history-commit": obj(
        {
            "rollback": INTEGER,
            "commit-id": {**STRING, "pattern": "^[0-9]+$"},
            "time": STRING,
            "user": STRING,
            "channel": STRING,
            "comment": STRING,
            "changes": INTEGER,
        }
    ),
    "rollback-result": obj({"target": STRING, "changes": array(ref("diff"))}, "changes"),
    "verb-result": obj(
        {
            "target": {"type": "string", "enum": ["running", "candidate"]},
            "changed": BOOLEAN,
            "commit-id": {**INTEGER, "nullable": True},
            "changes": array(ref("change")),
        },
        "target",
    ),
    "history-entry": obj(
        {
            "rollback": INTEGER,
            "commit-id": INTEGER,
            "time": STRING,
            "user": STRING,
            "channel": STRING,
            "comment": {**STRING, "nullable": True},
            "changes": INTEGER,
        },
        "commit-id",
    ),
    "yang-patch": obj(
        {
            "ietf-yang-patch:yang-patch": obj(
                {"patch-id": STRING, "comment": STRING, "edit": array(ref("yang-patch-edit"))},
                "patch-id",
                "edit",
            )
        },
        "ietf-yang-patch:yang-patch",
    ),
    "yang-patch-edit": YANG_PATCH_EDIT,
    "yang-patch-status": PATCH_STATUS,
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "content": {
        "name": "content",
        "in": "query",
        "description": "config, nonconfig (state) or all",
        "schema": {"type": "string", "enum": list(CONTENT_VALUES)},
    },
    "depth": {
        "name": "depth",
        "in": "query",
        "description": "levels of the subtree to return, or 'unbounded'",
        "schema": {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_DEPTH},
                {"type": "string", "enum": ["unbounded"]},
            ]
        },
    },
    "fields": {
        "name": "fields",
        "in": "query",
        "description": "the nodes to return, e.g. `static(prefix;via)`",
        "schema": STRING,
    },
    "with-defaults": {
        "name": "with-defaults",
        "in": "query",
        "description": "how default values are reported (RFC 6243)",
        "schema": {"type": "string", "enum": list(WITH_DEFAULTS_VALUES)},
    },
}

ERRORS_RESPONSE = {
    "description": "RFC 8040 errors body (status per RFC 8040 section 7)",
    "content": {YANG_JSON: {"schema": ref("errors")}},
}
PATCH_ERRORS_RESPONSE = {
    "description": "RFC 8040 errors body, or the YANG Patch status of a failed patch",
    "content": {YANG_JSON: {"schema": {"anyOf": [ref("errors"), ref("yang-patch-status")]}}},
}
PATCH_CONTENT = {PATCH_JSON: {"schema": ref("yang-patch")}}
SECURITY_SCHEMES = {
    "basic": {"type": "http", "scheme": "basic", "description": "a [[user]] of the config"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "`flyos token create`"},
}
