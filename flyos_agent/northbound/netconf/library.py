"""What the server implements: capabilities, YANG modules, ietf-yang-library.

`Library` knows every module a client may ask about: our modules in yang/
(implemented), the modules of the NETCONF server itself (the IETF ones for
monitoring, with-defaults, notifications, yang-library, and ours beside this
file, flyos-agent-netconf) and every module those import (import-only). It
builds the <hello> capability list (with RFC 7950 module capabilities), the
RFC 8525 yang-library data (plus the deprecated modules-state that older
clients read) and serves module texts to get-schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from flyos_agent.errors import InvalidValue
from flyos_agent.northbound.netconf.namespaces import (
    BASE_1_0,
    BASE_1_1,
    CAPABILITY,
    DATASTORES,
    YANG_LIBRARY,
    new_element,
    qname,
    sub,
)
from flyos_agent.schema import Schema
from flyos_agent.schema.compiler import pyang_module_dir

WITH_DEFAULTS_CAPABILITY = (
    f"{CAPABILITY}with-defaults:1.0?basic-mode=explicit"
    "&also-supported=report-all,report-all-tagged,trim"
)
PROTOCOL_CAPABILITIES = (
    BASE_1_0,
    BASE_1_1,
    f"{CAPABILITY}writable-running:1.0",
    f"{CAPABILITY}candidate:1.0",
    f"{CAPABILITY}confirmed-commit:1.0",
    f"{CAPABILITY}confirmed-commit:1.1",
    f"{CAPABILITY}rollback-on-error:1.0",
    f"{CAPABILITY}validate:1.0",
    f"{CAPABILITY}validate:1.1",
    f"{CAPABILITY}startup:1.0",
    f"{CAPABILITY}xpath:1.0",
    WITH_DEFAULTS_CAPABILITY,
    f"{CAPABILITY}notification:1.0",
    f"{CAPABILITY}interleave:1.0",
)
# IETF modules the NETCONF server implements itself (besides our models).
SERVER_MODULES = (
    "ietf-netconf",
    "ietf-netconf-monitoring",
    "ietf-netconf-with-defaults",
    "ietf-netconf-notifications",
    "ietf-yang-library",
    "ietf-datastores",
)
# Our module of the NETCONF server (it augments ietf-netconf, so it is not in yang/).
SERVER_YANG_DIR = Path(__file__).resolve().parent / "yang"
DATASTORE_NAMES = ("running", "candidate", "startup", "operational")
MODULE_SET = "complete"

_REVISION = re.compile(r"^\s*revision\s+\"?(\d{4}-\d{2}-\d{2})", re.MULTILINE)
_NAMESPACE = re.compile(r"^\s*namespace\s+\"?([^\";\s]+)", re.MULTILINE)
_IMPORT = re.compile(r"^\s*import\s+([A-Za-z0-9_.-]+)", re.MULTILINE)


@dataclass(frozen=True)
class Module:
    """One YANG module as yang-library and get-schema describe it."""

    name: str
    revision: str
    namespace: str
    source: Path
    implemented: bool

    @property
    def capability(self) -> str:
        """The RFC 7950 5.6.4 module capability URI."""
        return f"{self.namespace}?module={self.name}&revision={self.revision}"


class Library:
    """The modules, capabilities and yang-library of one schema."""

    def __init__(self, schema: Schema) -> None:
        self.content_id = schema.digest
        ietf_dir = Path(pyang_module_dir())
        modules: dict[str, Module] = {}
        for info in schema.modules:
            modules[info.name] = Module(
                info.name, info.revision or "", info.namespace, Path(info.source), True
            )
        server = [p.stem for p in sorted(SERVER_YANG_DIR.glob("*.yang"))]
        implemented = {*SERVER_MODULES, *server}
        pending = [*server, *SERVER_MODULES, *(i for m in schema.modules for i in m.imports)]
        while pending:
            name = pending.pop(0)
            if name in modules:
                continue
            source = _find(SERVER_YANG_DIR, name) or _find(ietf_dir, name)
            if source is None:
                continue
            text = source.read_text(encoding="utf-8")
            revision = _REVISION.search(text)
            namespace = _NAMESPACE.search(text)
            modules[name] = Module(
                name,
                revision.group(1) if revision else "",
                namespace.group(1) if namespace else "",
                source,
                name in implemented,
            )
            pending.extend(_IMPORT.findall(text))
        self.modules = tuple(sorted(modules.values(), key=lambda m: m.name))

    def capabilities(self) -> list[str]:
        """Every capability URI of the <hello>."""
        library = f"revision=2019-01-04&content-id={self.content_id}"
        return [
            *PROTOCOL_CAPABILITIES,
            f"{CAPABILITY}yang-library:1.0?revision=2019-01-04&module-set-id={self.content_id}",
            f"{CAPABILITY}yang-library:1.1?{library}",
            *(m.capability for m in self.modules if m.implemented),
        ]

    def schema_text(self, identifier: str, version: str | None, fmt: str | None) -> str:
        """The text of module `identifier` for get-schema (RFC 6022 3.1)."""
        if fmt not in (None, "yang", "ncm:yang") and not (fmt or "").endswith(":yang"):
            raise InvalidValue(f"schema format '{fmt}' is not available (only yang)")
        for module in self.modules:
            if module.name == identifier and version in (None, "", module.revision):
                return module.source.read_text(encoding="utf-8")
        raise InvalidValue(
            f"no schema '{identifier}'" + (f" revision {version}" if version else ""),
            info={"bad-element": "identifier"},
        )

    def yang_library(self) -> list[etree._Element]:
        """<yang-library> (RFC 8525) and the deprecated <modules-state>."""
        library = new_element(YANG_LIBRARY, "yang-library")
        module_set = sub(library, YANG_LIBRARY, "module-set")
        sub(module_set, YANG_LIBRARY, "name", MODULE_SET)
        for module in self.modules:
            entry = sub(
                module_set, YANG_LIBRARY, "module" if module.implemented else "import-only-module"
            )
            sub(entry, YANG_LIBRARY, "name", module.name)
            sub(entry, YANG_LIBRARY, "revision", module.revision)
            sub(entry, YANG_LIBRARY, "namespace", module.namespace)
        schema = sub(library, YANG_LIBRARY, "schema")
        sub(schema, YANG_LIBRARY, "name", MODULE_SET)
        sub(schema, YANG_LIBRARY, "module-set", MODULE_SET)
        for name in DATASTORE_NAMES:
            datastore = sub(library, YANG_LIBRARY, "datastore")
            ident = etree.SubElement(
                datastore, qname(YANG_LIBRARY, "name"), nsmap={"ds": DATASTORES}
            )
            ident.text = f"ds:{name}"
            sub(datastore, YANG_LIBRARY, "schema", MODULE_SET)
        sub(library, YANG_LIBRARY, "content-id", self.content_id)
        state = new_element(YANG_LIBRARY, "modules-state")
        sub(state, YANG_LIBRARY, "module-set-id", self.content_id)
        for module in self.modules:
            entry = sub(state, YANG_LIBRARY, "module")
            sub(entry, YANG_LIBRARY, "name", module.name)
            sub(entry, YANG_LIBRARY, "revision", module.revision)
            sub(entry, YANG_LIBRARY, "namespace", module.namespace)
            sub(
                entry,
                YANG_LIBRARY,
                "conformance-type",
                "implement" if module.implemented else "import",
            )
        return [library, state]


def _find(directory: Path, name: str) -> Path | None:
    """The newest file for module `name` under `directory` (name.yang or name@rev.yang)."""
    found = sorted(directory.rglob(f"{name}.yang")) + sorted(directory.rglob(f"{name}@*.yang"))
    return found[-1] if found else None
