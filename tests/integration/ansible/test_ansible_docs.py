"""ansible-doc renders the collection: every module with options, examples and return values."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from flyos_collection import ANSIBLE_BIN, COLLECTION, collections_tree

MODULES = sorted(path.stem for path in (COLLECTION / "plugins" / "modules").glob("*.py"))


@pytest.fixture(scope="module")
def ansible_doc(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    if not (ANSIBLE_BIN / "ansible-doc").exists():
        pytest.skip("scripts/install.sh makes .venv-ansible")
    tree = collections_tree(tmp_path_factory.mktemp("collections"))
    home = tmp_path_factory.mktemp("home")

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(ANSIBLE_BIN / "ansible-doc"), *args],
            capture_output=True,
            text=True,
            env={
                "ANSIBLE_COLLECTIONS_PATH": str(tree),
                "ANSIBLE_HOME": str(home),
                "PATH": "/usr/bin:/bin",
            },
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "[WARNING]" not in done.stderr, done.stderr
        return done.stdout

    return run


def test_static_routes_renders(ansible_doc: Callable[..., str]) -> None:
    text = ansible_doc("flyos.agent.static_routes")
    assert "MODULE flyos.agent.static_routes" in text.replace("\x1b[1m", "").replace("\x1b[0m", "")
    for word in (
        "prefix",
        "nexthop",
        "weight",
        "running_config",
        "overridden",
        "EXAMPLES",
        "RETURN VALUES",
    ):
        assert word in text, word


def test_every_module_has_full_docs(ansible_doc: Callable[..., str]) -> None:
    names = [f"flyos.agent.{name}" for name in MODULES]
    docs = json.loads(ansible_doc("--json", *names))
    assert sorted(docs) == names
    for name, entry in docs.items():
        assert entry["doc"]["short_description"], name
        assert entry["doc"]["options"], name
        assert entry["examples"].strip(), name
        assert entry["return"], name


def test_the_collection_lists_its_modules_and_netconf_plugin(
    ansible_doc: Callable[..., str],
) -> None:
    listed = ansible_doc("-l", "flyos.agent")
    assert [line.split()[0] for line in listed.splitlines() if line.strip()] == [
        f"flyos.agent.{name}" for name in MODULES
    ]
    assert "ncclient_device_handler" in ansible_doc("-t", "netconf", "flyos.agent.flyos")


def test_the_docs_page_names_every_module() -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "ansible.md").read_text(encoding="utf-8")
    for name in MODULES:
        assert f"flyos.agent.{name}" in page, name
