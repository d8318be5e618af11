"""RESTCONF discovery: host-meta, the API root, the YANG library, capabilities, module text.

- `/.well-known/host-meta` points at `/restconf` (RFC 8040 section 3.1);
- `GET /restconf` is the API root, `/restconf/yang-library-version` its leaf;
- `/restconf/data/ietf-yang-library:modules-state` (RFC 7895, as RFC 8040
  requires) lists every module: the FlyOS models and the protocol modules
  (implemented) and whatever they import, each with a `schema` URL;
- `/restconf/yang/<module>[@<revision>]` returns a module's text;
- `/restconf/data/ietf-restconf-monitoring:restconf-state` lists capabilities.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.rest.context import state, yang_reply
from flyos_agent.northbound.rest.errors import HttpError
from flyos_agent.schema import Schema
from flyos_agent.schema.compiler import pyang_module_dir

restconf_meta = Blueprint("restconf_meta", __name__)

YANG_LIBRARY_VERSION = "2016-06-21"
PROTOCOL_MODULES = (
    "ietf-netconf",
    "ietf-restconf",
    "ietf-restconf-monitoring",
    "ietf-yang-library",
    "ietf-yang-patch",
)
CAPABILITIES = (
    "urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit",
    "urn:ietf:params:restconf:capability:depth:1.0",
    "urn:ietf:params:restconf:capability:fields:1.0",
    "urn:ietf:params:restconf:capability:with-defaults:1.0",
    "urn:ietf:params:restconf:capability:yang-patch:1.0",
)
HOST_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
    '  <Link rel="restconf" href="/restconf"/>\n'
    "</XRD>\n"
)
_NAMESPACE = re.compile(r'^\s*namespace\s+"?([^";\s]+)', re.MULTILINE)
_REVISION = re.compile(r'^\s*revision\s+"?(\d{4}-\d{2}-\d{2})', re.MULTILINE)
_IMPORT = re.compile(r"^\s*import\s+([\w.-]+)", re.MULTILINE)


@dataclass(frozen=True)
class LibraryModule:
    """One module of the YANG library and the file its text comes from."""

    name: str
    revision: str
    namespace: str
    conformance: str
    source: Path


@functools.cache
def library(schema: Schema) -> tuple[LibraryModule, ...]:
    """Every module the agent implements, then every module they import (sorted)."""
    found: dict[str, LibraryModule] = {}
    pending: list[str] = []
    for info in schema.modules:
        found[info.name] = LibraryModule(
            info.name, info.revision or "", info.namespace, "implement", Path(info.source)
        )
        pending.extend(info.imports)
    for name in PROTOCOL_MODULES:
        module = _shipped(name, "implement")
        if module is not None:
            found[name] = module
            pending.extend(_IMPORT.findall(module.source.read_text(encoding="utf-8")))
    while pending:
        name = pending.pop()
        if name in found:
            continue
        module = _shipped(name, "import")
        if module is not None:
            found[name] = module
            pending.extend(_IMPORT.findall(module.source.read_text(encoding="utf-8")))
    return tuple(sorted(found.values(), key=lambda m: m.name))


def _shipped(name: str, conformance: str) -> LibraryModule | None:
    """A module from pyang's bundled IETF/IANA modules, if it is there."""
    base = Path(pyang_module_dir())
    path = next(iter(sorted(base.rglob(f"{name}.yang"))), None)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    namespace = _NAMESPACE.search(text)
    revision = _REVISION.search(text)
    return LibraryModule(
        name,
        revision.group(1) if revision else "",
        namespace.group(1) if namespace else "",
        conformance,
        path,
    )


def meta_document(raw_path: str) -> dict[str, Any] | None:
    """The read-only protocol data resources under /restconf/data, else None."""
    step = raw_path.strip("/")
    if step == "ietf-yang-library:modules-state":
        return {"ietf-yang-library:modules-state": modules_state()}
    if step == "ietf-restconf-monitoring:restconf-state":
        state_doc = {"capabilities": {"capability": list(CAPABILITIES)}}
        return {"ietf-restconf-monitoring:restconf-state": state_doc}
    return None


def modules_state() -> dict[str, Any]:
    """The RFC 7895 modules-state content."""
    schema = state().schema
    base = request.host_url.rstrip("/")
    modules = []
    for module in library(schema):
        entry = {"name": module.name, "revision": module.revision}
        entry["schema"] = f"{base}/restconf/yang/{module.name}" + (
            f"@{module.revision}" if module.revision else ""
        )
        entry["namespace"] = module.namespace
        entry["conformance-type"] = module.conformance
        modules.append(entry)
    return {"module-set-id": schema.digest, "module": modules}


@restconf_meta.get("/.well-known/host-meta")
def host_meta() -> Response:
    """Root resource discovery (RFC 6415 XRD)."""
    return Response(HOST_META, mimetype="application/xrd+xml")


@restconf_meta.get("/restconf")
def api_root() -> Response:
    """The RESTCONF API root resource."""
    root = {"data": {}, "operations": {}, "yang-library-version": YANG_LIBRARY_VERSION}
    return yang_reply({"ietf-restconf:restconf": root})


@restconf_meta.get("/restconf/yang-library-version")
def yang_library_version() -> Response:
    """The revision of ietf-yang-library the server speaks."""
    return yang_reply({"ietf-restconf:yang-library-version": YANG_LIBRARY_VERSION})


@restconf_meta.get("/restconf/yang/<string:module>")
def module_text(module: str) -> Response:
    """A module's YANG text: `<name>` or `<name>@<revision>`."""
    name, _, revision = module.partition("@")
    for entry in library(state().schema):
        if entry.name == name and (not revision or revision == entry.revision):
            return Response(entry.source.read_bytes(), mimetype="application/yang")
    raise HttpError(404, InvalidValue(f"no module '{module}' in the YANG library"))
