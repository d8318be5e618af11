"""The OpenAPI 3.0 document of the REST channel, generated from the compiled schema.

It covers the /api/v1 module verbs (one path per module and verb, the body
being the module's list entry, or the module for `sync`), the commit flow,
every RESTCONF data resource that is a container or list entry (GET, PUT,
PATCH with plain and YANG Patch bodies, POST, DELETE), the operations and
the discovery resources. Adding a leaf to yang/ changes the document with no
code change. Leaves are RESTCONF resources too but are not listed one by one.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from flyos_agent.northbound.rest.flow import (
    COMMIT_ARGS,
    CONFIRM_ARGS,
    ROLLBACK_ARGS,
    VALIDATE_ARGS,
)
from flyos_agent.northbound.rest.media import YANG_JSON
from flyos_agent.northbound.rest.openapi_common import (
    ARGUMENTS,
    COMPONENTS,
    ERRORS_RESPONSE,
    PARAMETERS,
    PATCH_CONTENT,
    PATCH_ERRORS_RESPONSE,
    SECURITY_SCHEMES,
    STRING,
    array,
    obj,
    ref,
)
from flyos_agent.northbound.rest.openapi_schema import SchemaBuilder, example_of, type_schema
from flyos_agent.northbound.rest.restconf_ops import OPERATIONS
from flyos_agent.northbound.verbs import DEFAULT_KIND, MODULE_ALIASES, VERBS
from flyos_agent.schema import Kind, Schema, SchemaNode

DESCRIPTION = """FlyOS agent REST channel.

* `/api/v1`: the original FlyOS module verbs (`POST /api/v1/route/add`), one
  transaction on running each (`?target=candidate` edits the candidate), and the
  commit flow.
* `/restconf`: RFC 8040 RESTCONF with RFC 7951 JSON (and XML:
  `application/yang-data+xml`, not listed here), YANG Patch (RFC 8072), ETag /
  Last-Modified preconditions, the operations of `flyos-agent-ops` and the
  `ietf-netconf` commit RPCs it augments, the YANG library and module download.

Every request needs HTTP Basic credentials of a configured user or a bearer token
(`flyos token create`); viewers may only read."""


def build_openapi(schema: Schema) -> dict[str, Any]:
    """The whole OpenAPI document for `schema`."""
    builder = SchemaBuilder(schema)
    paths: dict[str, Any] = {}
    _api_v1(builder, paths)
    _restconf_data(builder, paths)
    _restconf_operations(paths)
    _discovery(paths)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "FlyOS agent",
            "version": version("flyos-agent"),
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": {**COMPONENTS, **builder.components},
            "parameters": PARAMETERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _operation(
    summary: str,
    tag: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    body_required: bool = True,
    errors: dict[str, Any] = ERRORS_RESPONSE,
) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = {"required": body_required, "content": body}
    out["responses"] = {**responses, "default": errors}
    return out


def _json(schema: dict[str, Any], description: str, media: str = YANG_JSON) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


NO_CONTENT = {"204": {"description": "done"}}
FLOW: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "commit": (
        "Commit the candidate (confirmed: revert after `timeout` s unless confirmed; "
        "check: validate and return the plan only)",
        COMMIT_ARGS,
        "commit-result",
    ),
    "confirm": ("Confirm the pending confirmed commit", CONFIRM_ARGS, "commit-result"),
    "cancel-commit": ("Revert the pending confirmed commit now", CONFIRM_ARGS, None),
    "rollback": (
        "Load commit `index` back (default 1) or `commit-id` into the candidate",
        ROLLBACK_ARGS,
        "rollback-result",
    ),
    "discard": ("Drop the candidate's uncommitted changes", (), None),
    "validate": ("Check every constraint of `source` (default candidate)", VALIDATE_ARGS, None),
}
JSON = "application/json"


# --------------------------------------------------------------------------- /api/v1


def module_word(root: SchemaNode) -> str:
    """The FlyOS word of a module in URLs: the first alias naming it (`route`)."""
    return next((word for word, name in MODULE_ALIASES.items() if name == root.name), root.name)


def _api_v1(builder: SchemaBuilder, paths: dict[str, Any]) -> None:
    target = _query("target", {"type": "string", "enum": ["running", "candidate"]})
    verb_result = {"200": _json(ref("verb-result"), "the transaction's result", JSON)}
    for root in builder.schema.roots.values():
        word = module_word(root)
        tag = f"api/v1 {word}"
        member = f"{root.module}:{root.name}"
        source = _query("source", ARGUMENTS["source"])
        reply = _json(obj({member: builder.value(root, edit=False)}), "its configuration", JSON)
        paths[f"/api/v1/{word}"] = {
            "get": _operation(f"The {word} configuration", tag, {"200": reply}, parameters=[source])
        }
        entry = _verb_body(builder, root)
        for verb in VERBS:
            schema = builder.value(root, edit=True) if verb == "sync" else entry
            paths[f"/api/v1/{word}/{verb}"] = {
                "post": _operation(
                    f"{word} {verb}",
                    tag,
                    verb_result,
                    body={JSON: {"schema": schema}},
                    parameters=[target],
                )
            }
    flow = "api/v1 commit flow"
    for name, (summary, arguments, output) in FLOW.items():
        responses = NO_CONTENT if output is None else {"200": _json(ref(output), "done", JSON)}
        paths[f"/api/v1/{name}"] = {
            "post": _operation(
                summary,
                flow,
                responses,
                body={JSON: {"schema": _input_schema(arguments)}},
                body_required=False,
            )
        }
    compare = [_query(n, ARGUMENTS[n]) for n in ("source", "target")]
    limit = [_query("limit", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1})]
    paths["/api/v1/compare"] = {
        "get": _operation(
            "The changes from `source` (default running) to `target` (default candidate)",
            flow,
            {"200": _json(array(ref("diff")), "the changes", JSON)},
            parameters=compare,
        )
    }
    paths["/api/v1/history"] = {
        "get": _operation(
            "Commit history, newest first",
            flow,
            {"200": _json(array(ref("history-entry")), "the commits", JSON)},
            parameters=limit,
        )
    }


def _verb_body(builder: SchemaBuilder, root: SchemaNode) -> dict[str, Any]:
    """add/set/delete bodies: an entry of the module's default list, or of the list
    `kind` names; modules without a default list also take their own leaves."""
    default = DEFAULT_KIND.get(root.name)
    options = []
    for name, child in root.children.items():
        if child.kind is not Kind.LIST or not child.config:
            continue
        kind = {"type": "string", "enum": [name], "description": "which list of the module"}
        option = builder.object(child, edit=True, extra={"kind": kind})
        if name != default:
            option["required"] = [*option.get("required", []), "kind"]
        options.append(option)
    if default is None:
        options.append(builder.object(root, edit=True))
    return options[0] if len(options) == 1 else {"anyOf": options}


def _input_schema(arguments: tuple[str, ...]) -> dict[str, Any]:
    return obj({name: ARGUMENTS[name] for name in arguments}, additionalProperties=False)


# --------------------------------------------------------------------------- RESTCONF data


def _restconf_data(builder: SchemaBuilder, paths: dict[str, Any]) -> None:
    schema = builder.schema
    tag = "restconf data"
    roots = {f"{r.module}:{r.name}": builder.value(r, edit=False) for r in schema.roots.values()}
    edits = {f"{r.module}:{r.name}": builder.value(r, edit=True) for r in schema.roots.values()}
    whole = {"ietf-restconf:data": obj(roots)}
    paths["/restconf/data"] = {
        "get": _read("The whole datastore (running and state)", tag, obj(whole)),
        "put": _put(
            "Replace the whole configuration", tag, obj({"ietf-restconf:data": obj(edits)})
        ),
        "patch": _patch(
            "Merge into the configuration", tag, obj({"ietf-restconf:data": obj(edits)})
        ),
        "post": _post("Create a top-level container", tag, _one_of(edits)),
    }
    for node in schema.walk():
        if node.config and node.kind in (Kind.CONTAINER, Kind.LIST):
            _data_resource(builder, node, paths)


def _data_resource(builder: SchemaBuilder, node: SchemaNode, paths: dict[str, Any]) -> None:
    url, parameters = _resource_url(builder.schema, node)
    member = f"{node.module}:{node.name}"
    tag = f"restconf {node.module}"
    data = builder.ref(node, edit=False)
    edit = builder.ref(node, edit=True)
    if node.kind is Kind.LIST:
        data = {"type": "array", "items": data, "maxItems": 1}
        edit = {"type": "array", "items": edit, "minItems": 1, "maxItems": 1}
    children = {
        f"{c.module}:{c.name}": _single(builder.value(c, edit=True), c)
        for c in node.children.values()
        if c.config
    }
    what = f"{node.kind.value} {node.path}"
    item = {
        "get": _read(f"Read {what}", tag, obj({member: data})),
        "put": _put(f"Create or replace {what}", tag, obj({member: edit}, member)),
        "patch": _patch(f"Merge into {what}", tag, obj({member: edit}, member)),
        "delete": _operation(f"Delete {what}", tag, NO_CONTENT),
        "post": _post(f"Create a child of {what}", tag, _one_of(children)),
    }
    for operation in item.values():
        operation["parameters"] = parameters + operation.get("parameters", [])
    paths[url] = item


def _resource_url(schema: Schema, node: SchemaNode) -> tuple[str, list[dict[str, Any]]]:
    """`/restconf/data/mod:a/b={key}` and its path parameters (one per key on the way)."""
    steps: list[SchemaNode] = []
    current: SchemaNode | None = node
    while current is not None:
        steps.insert(0, current)
        current = schema.nodes.get(current.parent_path) if current.parent_path else None
    steps = [s for s in steps if s.kind.is_data]
    segments: list[str] = []
    parameters: list[dict[str, Any]] = []
    used: set[str] = set()
    for index, step in enumerate(steps):
        label = f"{step.module}:{step.name}" if index == 0 else step.name
        if step.kind is Kind.LIST:
            names = []
            for key in step.keys:
                name = key if key not in used else f"{step.name}-{key}"
                used.add(name)
                names.append(f"{{{name}}}")
                leaf = step.children[key]
                assert leaf.type is not None
                parameter = {"name": name, "in": "path", "required": True}
                parameter["schema"] = type_schema(leaf.type)
                example = example_of(leaf.type)
                if example is not None:
                    parameter["example"] = example
                parameters.append(parameter)
            label += "=" + ",".join(names)
        segments.append(label)
    return "/restconf/data/" + "/".join(segments), parameters


def _single(value: dict[str, Any], node: SchemaNode) -> dict[str, Any]:
    """A POST body member: a list or leaf-list gets exactly one item."""
    if node.is_list_like:
        return {**value, "minItems": 1, "maxItems": 1}
    return value


def _one_of(members: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly one of `members`."""
    return obj(members, minProperties=1, maxProperties=1, additionalProperties=False)


def _read(summary: str, tag: str, reply: dict[str, Any]) -> dict[str, Any]:
    parameters = [{"$ref": f"#/components/parameters/{name}"} for name in PARAMETERS]
    responses = {
        "200": _json(reply, "the data, with its ETag and Last-Modified"),
        "304": {"description": "not modified since If-None-Match / If-Modified-Since"},
    }
    return _operation(summary, tag, responses, parameters=parameters)


def _put(summary: str, tag: str, body: dict[str, Any]) -> dict[str, Any]:
    responses = {"201": {"description": "created"}, "204": {"description": "replaced"}}
    return _operation(summary, tag, responses, body={YANG_JSON: {"schema": body}})


def _patch(summary: str, tag: str, body: dict[str, Any]) -> dict[str, Any]:
    responses = {
        "200": _json(ref("yang-patch-status"), "YANG Patch applied"),
        "204": {"description": "merged"},
    }
    content = {YANG_JSON: {"schema": body}, **PATCH_CONTENT}
    return _operation(summary, tag, responses, body=content, errors=PATCH_ERRORS_RESPONSE)


def _post(summary: str, tag: str, body: dict[str, Any]) -> dict[str, Any]:
    location = {"Location": {"schema": STRING, "description": "the new resource"}}
    responses = {"201": {"description": "created", "headers": location}}
    return _operation(summary, tag, responses, body={YANG_JSON: {"schema": body}})


# --------------------------------------------------------------------------- operations


def _restconf_operations(paths: dict[str, Any]) -> None:
    tag = "restconf operations"
    names = obj(dict.fromkeys(OPERATIONS, array({"nullable": True})))
    listing = _json(obj({"ietf-restconf:operations": names}), "the operations")
    paths["/restconf/operations"] = {"get": _operation("The operations", tag, {"200": listing})}
    for name, spec in OPERATIONS.items():
        member = f"{spec.module}:input"
        body = obj({member: _input_schema(spec.arguments)}, additionalProperties=False)
        if spec.output is None:
            responses: dict[str, Any] = NO_CONTENT
        else:
            output = f"{spec.module}:output"
            responses = {"200": _json(obj({output: ref(spec.output)}, output), "the output")}
            if name == "ietf-netconf:commit":
                responses.update(NO_CONTENT)
        paths[f"/restconf/operations/{name}"] = {
            "post": _operation(
                spec.description,
                tag,
                responses,
                body={YANG_JSON: {"schema": body}},
                body_required=False,
            )
        }


def _discovery(paths: dict[str, Any]) -> None:
    tag = "restconf discovery"
    module = obj(
        {
            "name": STRING,
            "revision": STRING,
            "schema": STRING,
            "namespace": STRING,
            "conformance-type": {"type": "string", "enum": ["implement", "import"]},
        }
    )
    library = obj({"module-set-id": STRING, "module": array(module)})
    capabilities = obj({"capabilities": obj({"capability": array(STRING)})})
    root = obj(
        {
            "data": {"type": "object"},
            "operations": {"type": "object"},
            "yang-library-version": STRING,
        }
    )
    documents = {
        "/restconf": ("The RESTCONF API root", {"ietf-restconf:restconf": root}),
        "/restconf/yang-library-version": (
            "The ietf-yang-library revision",
            {"ietf-restconf:yang-library-version": STRING},
        ),
        "/restconf/data/ietf-yang-library:modules-state": (
            "The YANG library (RFC 7895)",
            {"ietf-yang-library:modules-state": library},
        ),
        "/restconf/data/ietf-restconf-monitoring:restconf-state": (
            "The RESTCONF capabilities",
            {"ietf-restconf-monitoring:restconf-state": capabilities},
        ),
    }
    for url, (summary, members) in documents.items():
        paths[url] = {"get": _operation(summary, tag, {"200": _json(obj(members), summary)})}
    text = {"200": _json(STRING, "the module's YANG text", "application/yang")}
    module_param = {"name": "module", "in": "path", "required": True, "schema": STRING}
    paths["/restconf/yang/{module}"] = {
        "get": _operation(
            "A YANG module: name or name@revision", tag, text, parameters=[module_param]
        )
    }
    xrd = {"200": _json(STRING, "XRD pointing at /restconf", "application/xrd+xml")}
    paths["/.well-known/host-meta"] = {"get": _operation("Root resource discovery", tag, xrd)}
