"""ansible.netcommon's netconf_get, netconf_config and netconf_rpc against the agent.

The playbook (ansible/playbook.yml) asserts `changed` and the data of every
task itself; this test runs it with the separate Ansible venv and checks that
the agent ended with the configuration the playbook made. The connection is
ansible.netcommon.netconf with the flyos.agent collection's netconf plugin
(ansible_network_os=flyos.agent.flyos), which also sends netconf_config's
confirm timeout as the text ncclient 0.7 needs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from nchelpers import NS, PASSWORD, NetconfAgent, data, texts

REPO = Path(__file__).resolve().parents[3]
ANSIBLE = REPO / ".venv-ansible" / "bin" / "ansible-playbook"
COLLECTION = REPO / "ansible_collection" / "flyos" / "agent"
PLAYBOOK = Path(__file__).resolve().parent / "ansible" / "playbook.yml"


@pytest.mark.skipif(not ANSIBLE.exists(), reason="scripts/install.sh makes .venv-ansible")
def test_playbook_reports_changes_exactly(netconf_agent: NetconfAgent, tmp_path: Path) -> None:
    collection = tmp_path / "collections" / "ansible_collections" / "flyos" / "agent"
    collection.parent.mkdir(parents=True)
    collection.symlink_to(COLLECTION, target_is_directory=True)
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "[agent]\n"
        f"flyos ansible_host=127.0.0.1 ansible_port={netconf_agent.port} ansible_user=admin "
        f"ansible_password={PASSWORD} ansible_connection=ansible.netcommon.netconf "
        "ansible_network_os=flyos.agent.flyos\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_HOME": str(tmp_path / "home"),
        "ANSIBLE_PERSISTENT_CONTROL_PATH_DIR": str(tmp_path / "pc"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
        "ANSIBLE_LOOK_FOR_KEYS": "False",
        "ANSIBLE_PYTHON_INTERPRETER": str(ANSIBLE.parent / "python"),
    }
    done = subprocess.run(
        [str(ANSIBLE), "-i", str(inventory), str(PLAYBOOK)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    with netconf_agent.connect() as nc:
        reply = data(nc.get_config("running", filter=("subtree", f'<routing xmlns="{NS["rt"]}"/>')))
    prefixes = texts(reply, "//rt:static/rt:prefix")
    assert "10.200.0.0/24" in prefixes and "10.202.0.0/24" in prefixes
    assert "10.201.0.0/24" not in prefixes
