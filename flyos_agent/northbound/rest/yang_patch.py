"""YANG Patch (RFC 8072): several edits as one transaction on running, all or nothing.

Each edit's `target` is relative to the PATCH request's resource; `value`
names the target node. The reply is `ietf-yang-patch:yang-patch-status`:
`ok` on success; on failure nothing changed, the HTTP status is that of the
first error (RFC 8040 section 7) and the error is reported under the edit it
belongs to (matched by path), else under `global-errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response
from lxml import etree

from flyos_agent.datastore.edit import Edit, Operation
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import BadElement, FlyosError, InvalidValue, MissingElement
from flyos_agent.northbound.rest import body
from flyos_agent.northbound.rest.api_path import Target, parse_api_path
from flyos_agent.northbound.rest.context import state, yang_reply
from flyos_agent.northbound.rest.errors import error_entries, status_of
from flyos_agent.northbound.rest.media import PATCH_TYPES, is_xml, json_body, require_type, xml_body
from flyos_agent.northbound.rest.resource import commit_edits, raw_api_path, target_value
from flyos_agent.northbound.rest.xml_codec import IETF_NAMESPACES, local_name, plain_children

PATCH_MEMBER = "ietf-yang-patch:yang-patch"
STATUS_MEMBER = "ietf-yang-patch:yang-patch-status"
PATCH_NS = IETF_NAMESPACES["ietf-yang-patch"]
OPERATIONS = {
    "create": Operation.CREATE,
    "delete": Operation.DELETE,
    "merge": Operation.MERGE,
    "replace": Operation.REPLACE,
    "remove": Operation.REMOVE,
}
ORDERING = ("insert", "move")
NEEDS_VALUE = (Operation.CREATE, Operation.MERGE, Operation.REPLACE)


@dataclass
class PatchEdit:
    """One edit of the patch as received; `value` is JSON or an XML <value> element."""

    edit_id: str
    operation: str
    target: str
    value: Any = None


class EditFailed(Exception):
    """A FlyosError that belongs to one edit of the patch."""

    def __init__(self, edit_id: str, error: FlyosError) -> None:
        super().__init__(str(error))
        self.edit_id = edit_id
        self.error = error


def apply(target: Target) -> Response:
    """Run the YANG Patch in the request body against `target` (the PATCH resource)."""
    mimetype = require_type(PATCH_TYPES)
    patch_id, edits = _read_xml() if is_xml(mimetype) else _read_json()
    base = raw_api_path().rstrip("/")
    located: list[tuple[str, Edit]] = []
    try:
        for item in edits:
            located.append((item.edit_id, _edit(base, item)))
        _result, headers = commit_edits([edit for _id, edit in located])
    except EditFailed as failed:
        return _failure(patch_id, failed.error, failed.edit_id)
    except FlyosError as error:
        return _failure(patch_id, error, _owner(error, located))
    return yang_reply({STATUS_MEMBER: {"patch-id": patch_id, "ok": [None]}}, headers=headers)


def _edit(base: str, item: PatchEdit) -> Edit:
    """The datastore edit one patch edit means (EditFailed naming the edit otherwise)."""
    try:
        if item.operation in ORDERING:
            raise InvalidValue(
                f"'{item.operation}' orders 'ordered-by user' lists; the FlyOS models have none"
            )
        operation = OPERATIONS.get(item.operation)
        if operation is None:
            raise InvalidValue(f"unknown edit operation '{item.operation}'")
        relative = item.target.strip("/")
        target = parse_api_path(state().schema, f"{base}/{relative}" if relative else base)
        node = target.node
        if node is None or target.is_whole_list:
            raise InvalidValue("an edit targets a data node (list entries with their keys)")
        if operation not in NEEDS_VALUE:
            return Edit(operation, target.path)
        if item.value is None:
            raise MissingElement(f"a '{item.operation}' edit needs a value")
        candidates = {node.name: node}
        if isinstance(item.value, etree._Element):
            children = [c for c in item.value if isinstance(c.tag, str)]
            if len(children) != 1:
                raise InvalidValue("an edit's <value> holds exactly one element")
            _name, value = body.xml_member(children[0], candidates)
        else:
            _name, value = body.json_member(item.value, candidates)
        return Edit(operation, target.path, target_value(target, value))
    except FlyosError as error:
        raise EditFailed(item.edit_id, error) from None


def _owner(error: FlyosError, located: list[tuple[str, Edit]]) -> str | None:
    """The edit whose target holds the error's path (the most specific one)."""
    schema = state().schema
    best: tuple[int, str] | None = None
    where = error.errors[0].path or ""
    for edit_id, edit in located:
        prefix = format_path(schema, edit.path)
        if (where == prefix or where.startswith(prefix + "/")) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), edit_id)
    return best[1] if best else None


def _failure(patch_id: str, error: FlyosError, edit_id: str | None) -> Response:
    errors = {"error": error_entries(error)}
    status: dict[str, Any] = {"patch-id": patch_id}
    if edit_id is None:
        status["global-errors"] = errors
    else:
        status["edit-status"] = {"edit": [{"edit-id": edit_id, "errors": errors}]}
    return yang_reply({STATUS_MEMBER: status}, status_of(error))


# --------------------------------------------------------------------------- reading


def _read_json() -> tuple[str, list[PatchEdit]]:
    document = json_body()
    patch = document.get(PATCH_MEMBER) if isinstance(document, dict) else None
    if not isinstance(patch, dict) or len(document) != 1:
        raise InvalidValue(f'the body must be {{"{PATCH_MEMBER}": {{...}}}}')
    items = patch.get("edit", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadElement("'edit' must be a list of objects", info={"bad-element": "edit"})
    return _checked(patch, items)


def _read_xml() -> tuple[str, list[PatchEdit]]:
    element = xml_body()
    if local_name(element) != (PATCH_NS, "yang-patch"):
        raise InvalidValue(f'the body must be <yang-patch xmlns="{PATCH_NS}">')
    patch = {"patch-id": element.findtext(f"{{{PATCH_NS}}}patch-id")}
    items: list[dict[str, Any]] = []
    for edit in element.iterfind(f"{{{PATCH_NS}}}edit"):
        item: dict[str, Any] = plain_children(edit)
        item.pop("value", None)
        value = edit.find(f"{{{PATCH_NS}}}value")
        if value is not None:
            item["value"] = value
        items.append(item)
    return _checked(patch, items)


def _checked(patch: dict[str, Any], items: list[dict[str, Any]]) -> tuple[str, list[PatchEdit]]:
    """The patch-id and the edits, each with a string edit-id, operation and target."""
    patch_id = patch.get("patch-id")
    if not isinstance(patch_id, str) or not patch_id:
        raise MissingElement("the patch needs a 'patch-id'", info={"bad-element": "patch-id"})
    if not items:
        raise MissingElement("the patch has no 'edit'", info={"bad-element": "edit"})
    edits: list[PatchEdit] = []
    for item in items:
        fields = [item.get(name) for name in ("edit-id", "operation", "target")]
        if not all(isinstance(field, str) and field for field in fields):
            raise MissingElement("each edit needs 'edit-id', 'operation' and 'target' strings")
        edit_id, operation, target = (str(field) for field in fields)
        if any(edit.edit_id == edit_id for edit in edits):
            raise BadElement(f"edit-id '{edit_id}' is used twice", info={"bad-element": edit_id})
        edits.append(PatchEdit(edit_id, operation, target, item.get("value")))
    return patch_id, edits
