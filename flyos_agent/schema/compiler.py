"""Compile YANG modules (parsed and validated by pyang) into immutable SchemaNodes."""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyang
from pyang import context as pyang_context
from pyang import repository

from flyos_agent.schema.nodes import Kind, LeafType, ModuleInfo, Must, Pattern, SchemaNode
from flyos_agent.schema.values import INTEGER_BOUNDS, InvalidValue, parse_value

DATA_KEYWORDS = {
    "container": Kind.CONTAINER,
    "list": Kind.LIST,
    "leaf": Kind.LEAF,
    "leaf-list": Kind.LEAF_LIST,
    "choice": Kind.CHOICE,
    "case": Kind.CASE,
}
LENGTH_BOUNDS = (0, 2**64 - 1)
NACM_MODULE = "ietf-netconf-acm"
NACM_EXTENSIONS = {"default-deny-write": "write", "default-deny-all": "all"}


class SchemaError(Exception):
    """The YANG modules do not compile; the message lists pyang's errors."""


def pyang_module_dir() -> str:
    """Directory of the IETF modules pyang ships (ietf-inet-types, ...)."""
    candidates = [
        Path(sys.prefix) / "share" / "yang" / "modules",
        Path(pyang.__file__).parents[4] / "share" / "yang" / "modules",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return str(candidate)
    raise SchemaError("pyang's module directory (share/yang/modules) was not found")


def _search_path(yang_dir: Path) -> str:
    base = pyang_module_dir()
    subdirs = [str(p) for p in sorted(Path(base).rglob("*")) if p.is_dir()]
    return os.pathsep.join([str(yang_dir), base, *subdirs])


def load_pyang_modules(yang_dir: Path) -> tuple[pyang_context.Context, list[Any]]:
    """Parse and validate every module in `yang_dir` with pyang."""
    repo = repository.FileRepository(_search_path(yang_dir), use_env=False)
    ctx = pyang_context.Context(repo)
    modules = []
    for path in sorted(yang_dir.glob("*.yang")):
        text = path.read_text(encoding="utf-8")
        module = ctx.add_module(str(path), text)
        if module is None:
            raise SchemaError(f"{path}: could not be parsed")
        modules.append(module)
    ctx.validate()
    errors = [
        f"{pos}: {pyang.error.err_to_str(tag, args)}"
        for pos, tag, args in ctx.errors
        if pyang.error.is_error(pyang.error.err_level(tag))
    ]
    if errors:
        raise SchemaError("YANG modules do not compile:\n" + "\n".join(errors))
    return ctx, modules


def _intervals(expr: str, bounds: tuple[int, int], parse: Any = int) -> tuple[tuple[Any, Any], ...]:
    result = []
    for part in expr.split("|"):
        lo_text, _, hi_text = part.strip().partition("..")
        hi_text = hi_text or lo_text
        lo = bounds[0] if lo_text.strip() == "min" else parse(lo_text.strip())
        hi = bounds[1] if hi_text.strip() == "max" else parse(hi_text.strip())
        result.append((lo, hi))
    return tuple(result)


def _description(stmt: Any) -> str:
    desc = stmt.search_one("description")
    return " ".join(desc.arg.split()) if desc is not None else ""


class _TypeResolver:
    """Resolves `type` statements through typedef chains into LeafTypes."""

    def __init__(self) -> None:
        self.leafref_fixups: list[tuple[LeafType, Any]] = []

    def resolve(self, type_stmt: Any, leaf_stmt: Any) -> LeafType:
        typedef = getattr(type_stmt, "i_typedef", None)
        if typedef is not None:
            inner = self.resolve(typedef.search_one("type"), leaf_stmt)
            qualified = f"{typedef.i_module.i_modulename}:{typedef.arg}"
            return self._restrict(type_stmt, inner, qualified, (qualified, *inner.typedefs))
        base = type_stmt.arg
        start = LeafType(base=base, name=base)
        return self._restrict(type_stmt, start, base, ())

    def _restrict(
        self, stmt: Any, inner: LeafType, name: str, typedefs: tuple[str, ...]
    ) -> LeafType:
        base = inner.base
        ranges = inner.ranges
        range_stmt = stmt.search_one("range")
        if range_stmt is not None:
            if base == "decimal64":
                bounds = (Decimal("-9223372036854775808"), Decimal("9223372036854775807"))
                ranges = _intervals(range_stmt.arg, bounds, Decimal)  # type: ignore[arg-type]
            else:
                ranges = _intervals(range_stmt.arg, INTEGER_BOUNDS.get(base, (0, 2**64)))
        lengths = inner.lengths
        length_stmt = stmt.search_one("length")
        if length_stmt is not None:
            lengths = _intervals(length_stmt.arg, LENGTH_BOUNDS)
        patterns = inner.patterns + tuple(
            Pattern(
                regex=p.arg,
                invert=p.search_one("modifier", arg="invert-match") is not None,
                error_message=(
                    p.search_one("error-message").arg if p.search_one("error-message") else None
                ),
            )
            for p in stmt.search("pattern")
        )
        enums = tuple(e.arg for e in stmt.search("enum")) or inner.enums
        bits = tuple(b.arg for b in stmt.search("bit")) or inner.bits
        members = inner.members
        if base == "union" and stmt.search("type"):
            members = tuple(self.resolve(t, None) for t in stmt.search("type"))
        path_stmt = stmt.search_one("path")
        leafref_path = path_stmt.arg if path_stmt is not None else inner.leafref_path
        require = stmt.search_one("require-instance")
        fraction = stmt.search_one("fraction-digits")
        resolved = LeafType(
            base=base,
            name=name,
            typedefs=typedefs,
            ranges=ranges,
            lengths=lengths,
            patterns=patterns,
            enums=enums,
            bits=bits,
            members=members,
            leafref_path=leafref_path,
            leafref_target=inner.leafref_target,
            require_instance=(
                require.arg == "true" if require is not None else inner.require_instance
            ),
            fraction_digits=int(fraction.arg) if fraction is not None else inner.fraction_digits,
        )
        return resolved


def _schema_path(stmt: Any) -> str:
    names = []
    node = stmt
    while node is not None and node.keyword not in ("module", "submodule"):
        if node.keyword in ("container", "list", "leaf", "leaf-list"):
            names.append(node.arg)
        node = node.parent
    names.reverse()
    return f"/{stmt.i_module.i_modulename}:" + "/".join(names)


class Compiler:
    """Turns pyang statements into the immutable SchemaNode tree."""

    def __init__(self) -> None:
        self.types = _TypeResolver()

    def compile_node(
        self, stmt: Any, parent_path: str | None, choice: str | None, case: str | None = None
    ) -> SchemaNode:
        kind = DATA_KEYWORDS[stmt.keyword]
        module = stmt.i_module
        if not kind.is_data:
            path = parent_path or f"/{module.i_modulename}:"
        elif parent_path:
            path = f"{parent_path}/{stmt.arg}"
        else:
            path = f"/{module.i_modulename}:{stmt.arg}"
        children: dict[str, SchemaNode] = {}
        for child in getattr(stmt, "i_children", []):
            if child.keyword not in DATA_KEYWORDS:
                continue
            inner_choice = stmt.arg if kind is Kind.CHOICE else choice
            inner_case = stmt.arg if kind is Kind.CASE else None
            compiled = self.compile_node(child, path, inner_choice, inner_case)
            if compiled.kind.is_data:
                children[compiled.name] = compiled
            else:
                children.update(compiled.children)
        leaf_type = None
        default: Any = None
        if kind in (Kind.LEAF, Kind.LEAF_LIST):
            leaf_type = self.types.resolve(stmt.search_one("type"), stmt)
            leaf_type = self._resolve_leafref(stmt, leaf_type)
            default = self._default(stmt, leaf_type, kind)
        key_stmt = stmt.search_one("key")
        must = tuple(
            Must(
                expression=m.arg,
                error_message=_arg(m.search_one("error-message")),
                error_app_tag=_arg(m.search_one("error-app-tag")),
            )
            for m in stmt.search("must")
        )
        when_stmt = stmt.search_one("when")
        if when_stmt is None and getattr(stmt, "i_augment", None) is not None:
            when_stmt = stmt.i_augment.search_one("when")
        config = getattr(stmt, "i_config", True) is not False
        mandatory_stmt = stmt.search_one("mandatory")
        max_stmt = stmt.search_one("max-elements")
        min_stmt = stmt.search_one("min-elements")
        units_stmt = stmt.search_one("units")
        node_namespace = module.search_one("namespace").arg
        return SchemaNode(
            name=stmt.arg,
            module=module.i_modulename,
            namespace=node_namespace,
            kind=kind,
            path=path,
            description=_description(stmt),
            config=config,
            mandatory=mandatory_stmt is not None and mandatory_stmt.arg == "true",
            presence=stmt.search_one("presence") is not None,
            keys=tuple(key_stmt.arg.split()) if key_stmt is not None else (),
            unique=tuple(tuple(u.arg.split()) for u in stmt.search("unique")),
            min_elements=int(min_stmt.arg) if min_stmt is not None else 0,
            max_elements=(
                int(max_stmt.arg) if max_stmt is not None and max_stmt.arg != "unbounded" else None
            ),
            type=leaf_type,
            default=default,
            units=_arg(units_stmt),
            must=must,
            when=when_stmt.arg if when_stmt is not None else None,
            choice=choice,
            case=case,
            children=children,
            parent_path=parent_path,
            nested_lists=tuple(
                name
                for name, child in children.items()
                if child.kind is Kind.LIST or (child.kind is Kind.CONTAINER and child.nested_lists)
            ),
            nacm_default_deny=_nacm_default_deny(stmt),
        )

    def _resolve_leafref(self, stmt: Any, leaf_type: LeafType) -> LeafType:
        """Attach the leafref target's schema path and type (as the single member)."""
        if leaf_type.base != "leafref":
            return leaf_type
        ptr = getattr(stmt, "i_leafref_ptr", None)
        if ptr is None:
            raise SchemaError(f"{_schema_path(stmt)}: leafref path does not resolve")
        target = ptr[0]
        target_type = self.types.resolve(target.search_one("type"), target)
        target_type = self._resolve_leafref(target, target_type)
        return LeafType(
            base="leafref",
            name=leaf_type.name,
            typedefs=leaf_type.typedefs,
            members=(target_type,),
            leafref_path=leaf_type.leafref_path,
            leafref_target=_schema_path(target),
            require_instance=leaf_type.require_instance,
        )

    @staticmethod
    def _default(stmt: Any, leaf_type: LeafType, kind: Kind) -> Any:
        raws = [d.arg for d in stmt.search("default")]
        if not raws:
            typedef = getattr(stmt.search_one("type"), "i_typedef", None)
            while typedef is not None and not raws:
                raws = [d.arg for d in typedef.search("default")]
                typedef = getattr(typedef.search_one("type"), "i_typedef", None)
        if not raws:
            return None
        try:
            values = [parse_value(leaf_type, raw) for raw in raws]
        except InvalidValue as exc:
            raise SchemaError(f"{_schema_path(stmt)}: bad default: {exc}") from None
        return tuple(values) if kind is Kind.LEAF_LIST else values[0]


def _nacm_default_deny(stmt: Any) -> str | None:
    """ "all" or "write" for a node marked nacm:default-deny-all / -write (RFC 8341)."""
    for sub in stmt.substmts:
        keyword = sub.keyword
        if isinstance(keyword, tuple) and keyword[0] == NACM_MODULE:
            found = NACM_EXTENSIONS.get(keyword[1])
            if found is not None:
                return found
    return None


def _arg(stmt: Any) -> str | None:
    return stmt.arg if stmt is not None else None


def compile_modules(yang_dir: Path) -> tuple[list[ModuleInfo], dict[str, SchemaNode]]:
    """Compile every module in `yang_dir`: module infos and top-level data nodes."""
    _ctx, modules = load_pyang_modules(yang_dir)
    compiler = Compiler()
    infos: list[ModuleInfo] = []
    roots: dict[str, SchemaNode] = {}
    for module in modules:
        top: list[str] = []
        for stmt in module.i_children:
            if stmt.keyword not in DATA_KEYWORDS:
                continue
            node = compiler.compile_node(stmt, None, None)
            if node.name in roots:
                raise SchemaError(
                    f"top-level node {node.name} is defined by {roots[node.name].module} "
                    f"and {node.module}"
                )
            roots[node.name] = node
            top.append(node.name)
        revision = module.search_one("revision")
        infos.append(
            ModuleInfo(
                name=module.arg,
                prefix=module.search_one("prefix").arg,
                namespace=module.search_one("namespace").arg,
                revision=revision.arg if revision is not None else None,
                description=_description(module),
                source=str(Path(module.pos.ref).resolve()),
                imports=tuple(i.arg for i in module.search("import")),
                top_nodes=tuple(top),
            )
        )
    return infos, roots
