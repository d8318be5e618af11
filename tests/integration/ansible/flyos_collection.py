"""Helpers of the Ansible collection tests: the collection on a path Ansible finds,
its module_utils importable here, and ansible-playbook runs in the Ansible venv."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
COLLECTION = REPO / "ansible_collection" / "flyos" / "agent"
ANSIBLE_BIN = REPO / ".venv-ansible" / "bin"
PASSWORD = "fleet-pass"


def collections_tree(base: Path) -> Path:
    """`base`/ansible_collections/flyos/agent -> the collection; returns `base`."""
    link = base / "ansible_collections" / "flyos" / "agent"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(COLLECTION, target_is_directory=True)
    return base


PURE_MODULE_UTILS = ("argspec", "dsl", "render", "resources", "schema", "tree", "xmldata")


def import_module_utils(base: Path) -> SimpleNamespace:
    """The collection's module_utils that need nothing but the standard library
    (argspec, dsl, render, resources, schema, tree, xmldata), imported from a
    collections tree at `base`."""
    tree = str(collections_tree(base))
    if tree not in sys.path:
        sys.path.insert(0, tree)
    package = "ansible_collections.flyos.agent.plugins.module_utils"
    return SimpleNamespace(
        **{name: importlib.import_module(f"{package}.{name}") for name in PURE_MODULE_UTILS}
    )


@dataclass
class Host:
    """One inventory host: a FlyOS agent's NETCONF port."""

    name: str
    port: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlaybookRun:
    """What a playbook run left: exit status, output and the results it saved."""

    returncode: int
    output: str
    results: dict[str, dict[str, Any]]

    def result(self, host: str, name: str) -> dict[str, Any]:
        """The registered result `name` of `host` (see `save_results`)."""
        found: dict[str, Any] = self.results[host][name]
        return found


class Ansible:
    """Runs playbooks with .venv-ansible against agents, offline, in `workdir`."""

    def __init__(self, workdir: Path, collections: Path) -> None:
        self.workdir = workdir
        self.collections = collections
        self.runs = 0

    def inventory(self, hosts: list[Host]) -> Path:
        path = self.workdir / f"inventory-{self.runs}.yml"
        entries = {
            host.name: {
                "ansible_host": "127.0.0.1",
                "ansible_port": host.port,
                "ansible_user": "admin",
                "ansible_password": PASSWORD,
                "ansible_connection": "ansible.netcommon.netconf",
                "ansible_network_os": "flyos.agent.flyos",
                **host.extra,
            }
            for host in hosts
        }
        path.write_text(yaml.safe_dump({"all": {"hosts": entries}}), encoding="utf-8")
        return path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_LOOK_FOR_KEYS": "False",
            "ANSIBLE_HOME": str(self.workdir / "home"),
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "tmp"),
            "ANSIBLE_PERSISTENT_CONTROL_PATH_DIR": str(self.workdir / "pc"),
            "ANSIBLE_PYTHON_INTERPRETER": str(ANSIBLE_BIN / "python"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORKS": "10",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
        }

    def play(self, plays: list[dict[str, Any]], hosts: list[Host], *args: str) -> PlaybookRun:
        """Run `plays` (Python data, dumped as YAML); every host saves the variables
        named in its play's `vars.save` to a JSON file that comes back as `results`."""
        self.runs += 1
        results_dir = self.workdir / f"results-{self.runs}"
        results_dir.mkdir()
        playbook = self.workdir / f"playbook-{self.runs}.yml"
        playbook.write_text(
            yaml.safe_dump(
                [save_results(play, results_dir, index) for index, play in enumerate(plays)],
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        done = subprocess.run(
            [
                str(ANSIBLE_BIN / "ansible-playbook"),
                "-i",
                str(self.inventory(hosts)),
                str(playbook),
                *args,
            ],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.workdir,
            timeout=300,
            check=False,
        )
        results: dict[str, dict[str, Any]] = {}
        for path in sorted(results_dir.glob("*.json")):
            host = path.name.split(".")[0]
            results.setdefault(host, {}).update(json.loads(path.read_text(encoding="utf-8")))
        return PlaybookRun(done.returncode, done.stdout + done.stderr, results)


def save_results(play: dict[str, Any], results_dir: Path, index: int) -> dict[str, Any]:
    """`play` with a last task that writes the registered variables it names in
    `save` (a list) to results_dir/<host>.<index>.json."""
    names = play.pop("save", [])
    if not names:
        return play
    content = "{{ {" + ", ".join(f"'{n}': {n} | default(None)" for n in names) + "} | to_json }}"
    task = {
        "name": "Save the results for the test",
        "ansible.builtin.copy": {
            "content": content,
            "dest": f"{results_dir}/{{{{ inventory_hostname }}}}.{index}.json",
        },
        "delegate_to": "localhost",
        "vars": {"ansible_connection": "local"},
    }
    return {**play, "tasks": [*play["tasks"], task]}


def canonical(value: Any) -> Any:
    """`value` with every list of dicts in a fixed order (the agent returns key order)."""
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [canonical(item) for item in value]
        if all(isinstance(item, dict) for item in items):
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        return items
    return value
