#!/usr/bin/env python3
"""Write docs/models.md from the YANG modules in yang/.

For every module (in name order): its namespace, prefix, revision and
description, the `pyang -f tree` output in a code block, its typedefs, and
a table of every data node path with its kind, type, flags and description.

The output depends only on the modules, so it is deterministic.
`--check` writes nothing and exits 1 if the file on disk is stale.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyang import context, error, repository

ROOT = Path(__file__).resolve().parent.parent
YANG_DIR = ROOT / "yang"
OUTPUT = ROOT / "docs" / "models.md"

DATA_KEYWORDS = ("container", "list", "leaf", "leaf-list", "choice", "case")
Stmt = Any  # pyang.statements.Statement (pyang ships no type hints)


def one_line(text: str | None) -> str:
    """Collapse whitespace and escape table cell separators."""
    if not text:
        return ""
    return " ".join(text.split()).replace("|", "\\|")


def paragraphs(text: str) -> str:
    """Render a YANG description as Markdown paragraphs."""
    paras: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            paras.append(" ".join(current))
            current = []
    if current:
        paras.append(" ".join(current))
    return "\n\n".join(paras)


def code(text: str) -> str:
    """Inline code that survives a table cell."""
    text = text.replace("|", "\\|")
    return f"`{text}`" if text else ""


def load_modules(yang_dir: Path) -> tuple[Any, list[Stmt]]:
    repo = repository.FileRepository(str(yang_dir))
    ctx = context.Context(repo)
    modules = []
    for path in sorted(yang_dir.glob("*.yang")):
        module = ctx.add_module(path.name, path.read_text(encoding="utf-8"))
        if module is None:
            raise SystemExit(f"gen_models_doc: cannot parse {path}")
        modules.append(module)
    ctx.validate()
    problems = [
        f"{pos}: {error.err_to_str(tag, args)}"
        for pos, tag, args in ctx.errors
        if error.is_error(error.err_level(tag))
    ]
    if problems:
        raise SystemExit("gen_models_doc: invalid YANG:\n" + "\n".join(problems))
    return ctx, sorted(modules, key=lambda m: m.arg)


def pyang_tree(yang_dir: Path, module: Stmt) -> str:
    path = yang_dir / Path(module.pos.ref).name  # name.yang or name@revision.yang
    result = subprocess.run(
        [sys.executable, "-m", "pyang", "-f", "tree", "-p", str(yang_dir), str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.rstrip("\n")


def type_text(type_stmt: Stmt) -> str:
    """A short, readable rendering of a type statement."""
    name = type_stmt.arg
    if name == "leafref":
        return f"leafref → {type_stmt.search_one('path').arg}"
    if name == "enumeration":
        return "enumeration: " + ", ".join(e.arg for e in type_stmt.search("enum"))
    if name == "union":
        return "union of " + " | ".join(type_text(t) for t in type_stmt.search("type"))
    restrictions = []
    for keyword in ("range", "length"):
        sub = type_stmt.search_one(keyword)
        if sub is not None:
            restrictions.append(f"{keyword} {sub.arg}")
    patterns = type_stmt.search("pattern")
    if patterns:
        restrictions.append("pattern")
    return f"{name} ({', '.join(restrictions)})" if restrictions else name


def node_flags(stmt: Stmt) -> list[str]:
    flags = []
    if stmt.keyword == "list":
        flags.append(f"key: {stmt.search_one('key').arg}")
        flags.extend(f"unique: {u.arg}" for u in stmt.search("unique"))
    parent = stmt.parent
    if (
        stmt.keyword == "leaf"
        and parent is not None
        and parent.keyword == "list"
        and stmt.arg in parent.search_one("key").arg.split()
    ):
        flags.append("key")
    mandatory = stmt.search_one("mandatory")
    if mandatory is not None and mandatory.arg == "true":
        flags.append("mandatory")
    default = stmt.search_one("default")
    if default is not None:
        flags.append(f"default: {default.arg}")
    units = stmt.search_one("units")
    if units is not None:
        flags.append(f"units: {units.arg}")
    if stmt.search_one("when") is not None:
        flags.append(f"when: {stmt.search_one('when').arg}")
    flags.extend(f"must: {m.arg}" for m in stmt.search("must"))
    if not stmt.i_config:
        flags.append("config false")
    return flags


def walk(stmt: Stmt, prefix: str) -> Iterator[tuple[str, Stmt]]:
    for child in stmt.i_children:
        if child.keyword not in DATA_KEYWORDS:
            continue
        path = f"{prefix}/{child.arg}"
        yield path, child
        if child.keyword in ("container", "list", "choice", "case"):
            yield from walk(child, path)


def data_table(module: Stmt) -> list[str]:
    lines = [
        "| Path | Kind | Type | Flags | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for top in module.i_children:
        if top.keyword not in DATA_KEYWORDS:
            continue
        root = f"/{module.arg}:{top.arg}"
        for path, stmt in [(root, top), *walk(top, root)]:
            type_stmt = stmt.search_one("type")
            type_cell = code(type_text(type_stmt)) if type_stmt is not None else ""
            flags = "; ".join(code(f) for f in node_flags(stmt))
            desc = stmt.search_one("description")
            lines.append(
                f"| `{path}` | {stmt.keyword} | {type_cell} | {flags} | "
                f"{one_line(desc.arg if desc is not None else '')} |"
            )
    return lines


def typedef_table(module: Stmt) -> list[str]:
    typedefs = sorted(module.search("typedef"), key=lambda t: t.arg)
    if not typedefs:
        return []
    lines = [
        "### Typedefs",
        "",
        "| Typedef | Type | Description |",
        "| --- | --- | --- |",
    ]
    for typedef in typedefs:
        desc = typedef.search_one("description")
        lines.append(
            f"| `{module.i_prefix}:{typedef.arg}` | "
            f"{code(type_text(typedef.search_one('type')))} | "
            f"{one_line(desc.arg if desc is not None else '')} |"
        )
    lines.append("")
    return lines


def render(yang_dir: Path) -> str:
    _ctx, modules = load_modules(yang_dir)
    out = [
        "# FlyOS YANG models",
        "",
        "<!-- Generated by scripts/gen_models_doc.py from yang/. Do not edit. -->",
        "",
        "| Module | Prefix | Namespace | Revision |",
        "| --- | --- | --- | --- |",
    ]
    for module in modules:
        revision = module.search_one("revision")
        out.append(
            f"| [{module.arg}](#{module.arg}) | `{module.i_prefix}` | "
            f"`{module.search_one('namespace').arg}` | "
            f"{revision.arg if revision is not None else ''} |"
        )
    out.append("")
    for module in modules:
        revision = module.search_one("revision")
        out += [
            f"## {module.arg}",
            "",
            f"Namespace `{module.search_one('namespace').arg}`, "
            f"prefix `{module.i_prefix}`, "
            f"revision {revision.arg if revision is not None else '-'}.",
            "",
            paragraphs(module.search_one("description").arg),
            "",
        ]
        tree = pyang_tree(yang_dir, module)
        if tree:
            out += ["### Tree", "", "```", tree, "```", ""]
        out += typedef_table(module)
        table = data_table(module)
        if len(table) > 2:
            out += ["### Data nodes", "", *table, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    parser.add_argument("--yang-dir", type=Path, default=YANG_DIR, help="YANG module directory")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="Markdown file to write")
    args = parser.parse_args(argv)

    text = render(args.yang_dir.resolve())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(
                f"{args.output} is stale: run scripts/gen_models_doc.py",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
