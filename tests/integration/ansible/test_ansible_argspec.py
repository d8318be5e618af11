"""The resource modules' argument specs and docs against the compiled YANG schema.

The argument specs are built at run time from the collection's schema
snapshot (module_utils/schema.py) and the DOCUMENTATION of each module
carries the same tree; tools/generate.py writes both from the agent's
compiled schema. These tests fail when the models and the collection drift
apart: a spec derived here straight from `load_schema()` must equal the
module's, the generated files must be current, and the documented options
must be the spec. The last test shows the check catching a leaf added to a
model.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from flyos_collection import COLLECTION, import_module_utils

from flyos_agent.schema import Kind, LeafType, Schema, SchemaNode, build_schema, load_schema
from flyos_agent.schema.schema import DEFAULT_YANG_DIR

INTEGERS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
SECRET = re.compile(r"private|preshared|password|secret")
SECRET_LOOKING = re.compile(r"pass(?!ive)|secret|token|key", re.IGNORECASE)
REGENERATE = ".venv/bin/python ansible_collection/flyos/agent/tools/generate.py"


@pytest.fixture(scope="module")
def utils(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return import_module_utils(tmp_path_factory.mktemp("collections"))


def ansible_type(leaf_type: LeafType) -> str:
    if leaf_type.base == "leafref" and leaf_type.members:
        return ansible_type(leaf_type.members[0])
    if leaf_type.base in INTEGERS:
        return "int"
    if leaf_type.base in ("boolean", "empty"):
        return "bool"
    return "float" if leaf_type.base == "decimal64" else "str"


def expected_options(node: SchemaNode) -> dict[str, Any]:
    """The options a schema node's configuration children should be, derived here."""
    out: dict[str, Any] = {}
    children = sorted(
        (c for c in node.children.values() if c.config), key=lambda c: c.name not in node.keys
    )
    for child in children:
        if child.kind is Kind.CONTAINER:
            spec: dict[str, Any] = {"type": "dict", "options": expected_options(child)}
        elif child.kind is Kind.LIST:
            spec = {"type": "list", "elements": "dict", "options": expected_options(child)}
        else:
            assert child.type is not None
            scalar = ansible_type(child.type)
            spec = (
                {"type": "list", "elements": scalar}
                if child.kind is Kind.LEAF_LIST
                else {"type": scalar}
            )
            if child.type.enums:
                spec["choices"] = list(child.type.enums)
            if SECRET.search(child.name):
                spec["no_log"] = True
            elif SECRET_LOOKING.search(child.name):
                spec["no_log"] = False
        if child.name in node.keys:
            spec["required"] = True
        out[child.name.replace("-", "_")] = spec
    return out


def expected_config(schema: Schema, path: tuple[str, ...]) -> dict[str, Any]:
    node = schema.roots[path[0]]
    for step in path[1:]:
        child = node.child(step)
        assert child is not None
        node = child
    options = expected_options(node)
    if len(path) > 1:
        return {"type": "list", "elements": "dict", "options": options}
    return {"type": "dict", "options": options}


def drift(expected: Any, actual: Any, where: str = "config") -> list[str]:
    """Every place where two specs differ, as `path: expected != actual` lines."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines = []
        for key in sorted(set(expected) | set(actual)):
            lines += drift(expected.get(key), actual.get(key), f"{where}.{key}")
        return lines
    return (
        [] if expected == actual else [f"{where}: model says {expected!r}, module has {actual!r}"]
    )


def module_docs(name: str) -> dict[str, Any]:
    """The DOCUMENTATION of a module, parsed."""
    tree = ast.parse(
        (COLLECTION / "plugins" / "modules" / f"{name}.py").read_text(encoding="utf-8")
    )
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and getattr(statement.targets[0], "id", "") == "DOCUMENTATION"
        ):
            docs: dict[str, Any] = yaml.safe_load(ast.literal_eval(statement.value))
            return docs
    raise AssertionError(f"{name} has no DOCUMENTATION")


def documented(options: dict[str, Any]) -> dict[str, Any]:
    """Documented options in argument-spec form (what validate-modules compares)."""
    out = {}
    for name, doc in options.items():
        spec = {key: doc[key] for key in ("type", "elements", "choices", "required") if key in doc}
        if "suboptions" in doc:
            spec["options"] = documented(doc["suboptions"])
        out[name] = spec
    return out


def without_no_log(spec: Any) -> Any:
    if isinstance(spec, dict):
        return {k: without_no_log(v) for k, v in spec.items() if k != "no_log"}
    return spec


RESOURCES = [
    "acls", "interfaces", "nat", "pbr_rules", "static_routes", "system", "tunnels", "vrfs",
]  # fmt: skip


def test_the_resource_table_is_the_modules(utils: Any) -> None:
    assert sorted(utils.resources.RESOURCES) == RESOURCES
    modules = {path.stem for path in (COLLECTION / "plugins" / "modules").glob("*.py")}
    assert set(RESOURCES) <= modules


@pytest.mark.parametrize("resource", RESOURCES)
def test_argument_spec_follows_the_compiled_schema(utils: Any, resource: str) -> None:
    expected = expected_config(load_schema(), utils.resources.RESOURCES[resource])
    actual = utils.argspec.resource_argument_spec(resource)["config"]
    assert not drift(expected, actual), f"run {REGENERATE}:\n" + "\n".join(drift(expected, actual))


@pytest.mark.parametrize("resource", RESOURCES)
def test_documented_options_are_the_argument_spec(utils: Any, resource: str) -> None:
    config = module_docs(resource)["options"]["config"]
    spec = without_no_log(utils.argspec.resource_argument_spec(resource)["config"])
    assert documented({"config": config})["config"] == spec


def test_generated_files_are_current() -> None:
    path = COLLECTION / "tools" / "generate.py"
    spec = importlib.util.spec_from_file_location("flyos_collection_generate", path)
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert generate.main(["--check"]) == 0, f"stale generated files: run {REGENERATE}"


def test_a_leaf_added_to_a_model_is_caught(utils: Any, tmp_path: Path) -> None:
    yang = tmp_path / "yang"
    shutil.copytree(DEFAULT_YANG_DIR, yang)
    module = yang / "flyos-vrf.yang"
    text = module.read_text(encoding="utf-8")
    anchor = "      leaf description {"
    assert anchor in text
    module.write_text(
        text.replace(
            anchor,
            '      leaf rd {\n        type string;\n        description "x";\n      }\n' + anchor,
            1,
        ),
        encoding="utf-8",
    )
    expected = expected_config(build_schema(yang), ("vrfs", "vrf"))
    assert drift(expected, utils.argspec.resource_argument_spec("vrfs")["config"]) == [
        "config.options.rd: model says {'type': 'str'}, module has None"
    ]
