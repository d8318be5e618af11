# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""Run ``ansible-test sanity`` or ``units`` on the collection with the repository's Ansible venv.

ansible-test wants the collection at a path ending in
``ansible_collections/flyos/agent``; this copies it into a temporary tree of
that shape, next to a link to ``ansible.netcommon`` (its dependency, which
the import test loads), and runs ansible-test there with no container:

    .venv-ansible/bin/python ansible_collection/flyos/agent/tools/run_ansible_test.py sanity
    .venv-ansible/bin/python ansible_collection/flyos/agent/tools/run_ansible_test.py units

Further arguments go to ansible-test; units run in a virtual environment with
their requirements (``--venv --requirements``). ansible-test installs each
sanity test's pinned requirements into its own cached virtual environment
(~/.ansible/test/venv) with pip, the first time.
It bootstraps pip there with a script from ci-files.testing.ansible.com; where
that host cannot be reached, a stand-in that installs the same pip version
from its wheel (fetched with pip) takes its place in ansible-test's cache.
Once the environments exist, runs need no network.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COLLECTION = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".ansible" / "test" / "cache"
IGNORED = shutil.ignore_patterns("output", "__pycache__", ".ruff_cache", "*.tar.gz")
STAND_IN = '''"""Stand-in for ansible-test's get-pip {version}: pip installs itself from a wheel."""
import os
import sys

WHEEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{wheel}")
sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main  # noqa: E402

ARGS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install"] + [WHEEL if arg == "pip=={version}" else arg for arg in ARGS]))
'''


def pip_version() -> str:
    """The pip version ansible-test bootstraps into its virtual environments."""
    from ansible_test._internal import python_requirements  # pylint: disable=import-outside-toplevel

    found = re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages))
    if found is None:
        raise SystemExit("cannot tell which pip version ansible-test bootstraps")
    return found.group(1)


def ensure_pip_bootstrap() -> None:
    """Put a pip bootstrap script where ansible-test looks for its cached one."""
    version = pip_version()
    script = CACHE / f"get_pip_{version.replace('.', '_')}.py"
    if script.exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            f"pip=={version}",
            "-d",
            str(CACHE),
        ],
        check=True,
    )
    wheel = next(CACHE.glob(f"pip-{version}-*.whl"))
    script.write_text(STAND_IN.format(version=version, wheel=wheel.name), encoding="utf-8")


def netcommon_path() -> Path:
    from ansible_collections.ansible import netcommon  # pylint: disable=import-outside-toplevel

    return Path(next(iter(netcommon.__path__)))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("sanity", "units"):
        raise SystemExit(f"usage: {Path(__file__).name} sanity|units [ansible-test arguments]")
    ensure_pip_bootstrap()
    ansible_test = Path(sys.executable).parent / "ansible-test"
    with tempfile.TemporaryDirectory(prefix="flyos-sanity-") as tree:
        root = Path(tree) / "ansible_collections"
        target = root / "flyos" / "agent"
        shutil.copytree(COLLECTION, target, ignore=IGNORED)
        (root / "ansible").mkdir()
        (root / "ansible" / "netcommon").symlink_to(netcommon_path())
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": tree}
        command = [str(ansible_test), argv[0], "--python", "3.11", "--color", "no"]
        if argv[0] == "units":
            command += ["--venv", "--requirements"]
        command += argv[1:]
        return subprocess.run(command, cwd=target, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
