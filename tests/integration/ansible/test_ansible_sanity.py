"""`ansible-test sanity` passes for the collection.

tools/run_ansible_test.py runs it without a container, in the Ansible venv.
ansible-test keeps each sanity test's pinned requirements in its own cached
virtual environment; the first run installs them with pip, later runs need
no network.
"""

from __future__ import annotations

import subprocess

import pytest
from flyos_collection import ANSIBLE_BIN, COLLECTION


def test_ansible_test_sanity_passes() -> None:
    if not (ANSIBLE_BIN / "ansible-test").exists():
        pytest.skip("scripts/install.sh makes .venv-ansible")
    done = subprocess.run(
        [str(ANSIBLE_BIN / "python"), str(COLLECTION / "tools" / "run_ansible_test.py"), "sanity"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "ERROR" not in output, output[-6000:]
