"""RESTCONF data resources (RFC 8040 section 4): GET, HEAD, POST, PUT, PATCH, DELETE.

Reads come from running (with operational state unless `content=config`);
every edit is one transaction on running through the Manager (the NMDA-less
RFC 8040 rule): validated and committed, or nothing changes. Bodies are
RFC 7951 JSON or XML; `application/yang-patch+*` PATCH bodies are YANG Patch.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from flyos_agent.datastore.edit import Edit, Operation
from flyos_agent.datastore.paths import canonical_path
from flyos_agent.errors import DataMissing, InvalidValue, OperationNotSupported
from flyos_agent.northbound.rest import body, yang_patch
from flyos_agent.northbound.rest.api_path import (
    DATA_PREFIX,
    Target,
    child_path,
    format_api_path,
    parse_api_path,
)
from flyos_agent.northbound.rest.context import no_content, session, state, yang_reply
from flyos_agent.northbound.rest.errors import HttpError
from flyos_agent.northbound.rest.etag import not_modified
from flyos_agent.northbound.rest.media import DATA_TYPES, PATCH_TYPES, require_type, wants_xml
from flyos_agent.northbound.rest.query import check_parameters, read_options, shape
from flyos_agent.northbound.rest.resource import (
    commit_edits,
    exists,
    locate,
    raw_api_path,
    target_value,
)
from flyos_agent.northbound.rest.restconf_meta import meta_document
from flyos_agent.schema import Kind

restconf_data = Blueprint("restconf_data", __name__, url_prefix=DATA_PREFIX)
ROOT_MEMBER = "ietf-restconf:data"


@restconf_data.route("", methods=["GET", "POST", "PUT", "PATCH"], strict_slashes=False)
@restconf_data.route("/<path:_api_path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def data(_api_path: str = "") -> Response:
    """Dispatch one request on a data resource (the path is re-read undecoded)."""
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            raise InvalidValue(f"query parameter '{name}' is repeated")
    check_parameters(request.args, request.method)
    wants_xml()  # 406 before any work when the client accepts neither JSON nor XML
    raw = raw_api_path()
    meta = meta_document(raw)
    if meta is not None:
        if request.method not in ("GET", "HEAD"):
            error = OperationNotSupported("this resource is read-only")
            raise HttpError(405, error, {"Allow": "GET, HEAD, OPTIONS"})
        return yang_reply(meta)
    target = parse_api_path(state().schema, raw)
    handlers = {"GET": read, "HEAD": read, "POST": create, "PUT": put, "PATCH": patch}
    handlers["DELETE"] = delete
    return handlers[request.method](target)


def read(target: Target) -> Response:
    """GET/HEAD: the target's data, shaped by the query parameters."""
    schema = state().schema
    options = read_options(request.args, target.node, schema.roots)
    version = state().versions.current()
    if not_modified(version):
        return no_content(version.headers(), 304)
    xpath = target.xpath(schema) if target.path else None
    manager = state().manager
    if options.content == "config":
        document = manager.get_config(
            session(), "running", path=xpath, with_defaults=options.with_defaults
        )
    else:
        document = manager.get(session(), path=xpath, with_defaults=options.with_defaults)
    node = target.node
    if node is None:
        shaped = shape(schema.roots, (), document, options)
        return yang_reply({ROOT_MEMBER: shaped}, headers=version.headers())
    value = locate(document, target)
    if value is None:
        raise HttpError(404, InvalidValue("no such data resource", path=target.xpath(schema)))
    if node.kind in (Kind.CONTAINER, Kind.LIST):
        value = shape(node.children, node.keys, value, options)
    return yang_reply({f"{node.module}:{node.name}": value}, headers=version.headers())


def create(target: Target) -> Response:
    """POST: create one child of the target (201 with its Location)."""
    schema = state().schema
    parent = target.node
    if parent is not None and (parent.is_leafy or target.is_whole_list):
        raise InvalidValue("POST creates a child of a container, a list entry or the datastore")
    _writable(target)
    children = parent.children if parent is not None else schema.roots
    require_type(DATA_TYPES)
    name, value = body.member(children)
    node = children[name]
    item = value[0] if node.kind in (Kind.LIST, Kind.LEAF_LIST) and value else value
    if node.is_list_like and (not isinstance(value, list) or len(value) != 1):
        raise InvalidValue(f"POST creates one '{name}' entry at a time")
    path = canonical_path(schema, child_path(target.path, node, item))
    edit_value = None if node.kind is Kind.LEAF_LIST else item
    _result, headers = commit_edits([Edit(Operation.CREATE, path, edit_value)])
    headers["Location"] = request.host_url.rstrip("/") + format_api_path(schema, path)
    return no_content(headers, 201)


def put(target: Target) -> Response:
    """PUT: create or replace the target (201 created, 204 replaced)."""
    _writable(target)
    require_type(DATA_TYPES)
    value = _body_value(target)
    existed = target.node is None or exists(target)
    _result, headers = commit_edits([Edit(Operation.REPLACE, target.path, value)])
    return no_content(headers, 204 if existed else 201)


def patch(target: Target) -> Response:
    """PATCH: merge into the existing target, or a YANG Patch (RFC 8072)."""
    if request.mimetype in PATCH_TYPES:
        return yang_patch.apply(target)
    _writable(target)
    require_type((*DATA_TYPES, *PATCH_TYPES))
    value = _body_value(target)
    if target.node is not None and not exists(target):
        where = target.xpath(state().schema)
        raise DataMissing("cannot merge: the target resource does not exist", path=where)
    _result, headers = commit_edits([Edit(Operation.MERGE, target.path, value)])
    return no_content(headers)


def delete(target: Target) -> Response:
    """DELETE: remove the target (409 data-missing when it does not exist)."""
    _writable(target)
    _result, headers = commit_edits([Edit(Operation.DELETE, target.path)])
    return no_content(headers)


def _writable(target: Target) -> None:
    if target.is_whole_list:
        raise InvalidValue("a list or leaf-list resource needs its keys (name=key1,key2)")
    if target.node is not None and not target.node.config:
        raise InvalidValue(f"'{target.node.name}' is state data and cannot be edited")


def _body_value(target: Target) -> Any:
    """The body's value for the target itself (PUT and plain PATCH)."""
    node = target.node
    if node is None:
        return body.datastore()
    return target_value(target, body.member({node.name: node})[1])
