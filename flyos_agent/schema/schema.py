"""The compiled schema: one immutable object every layer reads, cached on disk."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyang

from flyos_agent.schema.compiler import compile_modules
from flyos_agent.schema.nodes import Kind, ModuleInfo, SchemaNode

DEFAULT_YANG_DIR = Path(__file__).resolve().parents[2] / "yang"
_COMPILER_SOURCES = ("compiler.py", "nodes.py", "values.py", "schema.py")


@dataclass(frozen=True, eq=False)
class Schema:
    """All modules of yang/ compiled: modules, top-level nodes, lookups by path."""

    modules: tuple[ModuleInfo, ...]
    roots: Mapping[str, SchemaNode]
    nodes: Mapping[str, SchemaNode]
    referrers: Mapping[str, tuple[str, ...]]
    digest: str

    def module(self, name: str) -> ModuleInfo:
        """The module called `name`; KeyError if there is none."""
        for info in self.modules:
            if info.name == name:
                return info
        raise KeyError(name)

    def module_by_namespace(self, namespace: str) -> ModuleInfo | None:
        """The module whose XML namespace is `namespace`, or None."""
        return next((m for m in self.modules if m.namespace == namespace), None)

    def node(self, path: str) -> SchemaNode:
        """The node at schema path `path` ("/flyos-routing:routing/static/dev")."""
        return self.nodes[path]

    def find(self, path: str) -> SchemaNode | None:
        """The node at a schema path written with or without module prefixes."""
        found = self.nodes.get(path)
        if found is not None:
            return found
        steps = [s.split(":")[-1] for s in path.strip("/").split("/") if s]
        if not steps:
            return None
        node = self.roots.get(steps[0])
        for step in steps[1:]:
            if node is None:
                return None
            node = node.child(step)
        return node

    def walk(self) -> Iterator[SchemaNode]:
        """Every data node of every module, depth first."""
        for root in self.roots.values():
            yield from root.walk()

    def leafrefs_to(self, target_path: str) -> tuple[SchemaNode, ...]:
        """The leaf and leaf-list nodes whose leafref points at `target_path`."""
        return tuple(self.nodes[p] for p in self.referrers.get(target_path, ()))


def _digest(yang_dir: Path) -> str:
    digest = hashlib.sha256(pyang.__version__.encode())
    for path in sorted(yang_dir.glob("*.yang")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    here = Path(__file__).parent
    for name in _COMPILER_SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:32]


def build_schema(yang_dir: Path) -> Schema:
    """Compile `yang_dir` from scratch (pyang parse + validate + compile)."""
    modules, roots = compile_modules(yang_dir)
    nodes: dict[str, SchemaNode] = {}
    referrers: dict[str, list[str]] = {}
    for root in roots.values():
        for node in root.walk():
            nodes[node.path] = node
            if (
                node.type is not None
                and node.type.leafref_target
                and node.kind
                in (
                    Kind.LEAF,
                    Kind.LEAF_LIST,
                )
            ):
                referrers.setdefault(node.type.leafref_target, []).append(node.path)
    return Schema(
        modules=tuple(modules),
        roots=roots,
        nodes=nodes,
        referrers={k: tuple(v) for k, v in referrers.items()},
        digest=_digest(yang_dir),
    )


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flyos-agent"


def load_schema(yang_dir: Path | None = None, cache_dir: Path | None = None) -> Schema:
    """The compiled schema of `yang_dir`, from the on-disk cache when it is current.

    The cache key covers the YANG texts, pyang's version and the compiler's own
    source, so a stale cache is never used; an unwritable cache is skipped.
    """
    yang_dir = (yang_dir or Path(os.environ.get("FLYOS_YANG_DIR", DEFAULT_YANG_DIR))).resolve()
    cache_dir = cache_dir or _cache_dir()
    cache_file = cache_dir / f"schema-{_digest(yang_dir)}.pickle"
    try:
        with cache_file.open("rb") as handle:
            cached = pickle.load(handle)
        if isinstance(cached, Schema):
            return cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        pass
    schema = build_schema(yang_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as tmp:
            pickle.dump(schema, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, cache_file)
    except OSError:
        pass
    return schema


@cache
def default_schema() -> Schema:
    """The process-wide schema of the models shipped in yang/."""
    return load_schema()
