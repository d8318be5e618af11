"""System settings: the host name (in a private UTS namespace) and IP forwarding."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.netns

AGENT = textwrap.dedent(
    """
    import json, socket, sys
    from pathlib import Path
    from flyos_agent.backends.linux import LinuxBackend
    from flyos_agent.datastore.journal import Journal
    from flyos_agent.runtime.manager import Manager
    from flyos_agent.schema import load_schema

    schema = load_schema()
    manager = Manager(schema, Journal(Path(sys.argv[1]) / "flyos.db", schema), LinuxBackend(schema))
    session = manager.open_session("t", "test")
    forward = Path("/proc/sys/net/ipv4/ip_forward")
    seen = [(socket.gethostname(), forward.read_text().strip())]
    config = {"flyos-system:system": {"hostname": "edge1.example.net", "ipv4-forwarding": True}}
    manager.copy(session, "running", "running", config=config)
    seen.append((socket.gethostname(), forward.read_text().strip()))
    config["flyos-system:system"] = {"hostname": "edge2", "ipv4-forwarding": False}
    manager.copy(session, "running", "running", config=config)
    seen.append((socket.gethostname(), forward.read_text().strip()))
    manager.rollback(session, 1)
    manager.commit(session)
    seen.append((socket.gethostname(), forward.read_text().strip()))
    manager.close()
    print(json.dumps(seen))
    """
)


def test_hostname_and_forwarding_follow_commits_and_rollback(tmp_path: Path) -> None:
    host = socket.gethostname()
    done = subprocess.run(
        ["unshare", "--uts", "--net", sys.executable, "-c", AGENT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen[1:] == [["edge1.example.net", "1"], ["edge2", "0"], ["edge1.example.net", "1"]]
    assert socket.gethostname() == host
