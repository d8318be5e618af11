"""Bearer tokens issued and revoked with `flyos token`, and the listener over TLS."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from rest_helpers import PASSWORDS, RestAgent, start_agent, stop_agent


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_issue_list_and_revoke(rest_agent: RestAgent, base: str) -> None:
    made = rest_agent.cli("token", "create", "viewer", "--description", "dashboard")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("flyos_")
    assert requests.get(f"{base}/api/v1/route", headers=bearer(token)).status_code == 200
    route = {"prefix": "10.0.0.0/24", "via": "192.168.1.1"}
    write = requests.post(f"{base}/api/v1/route/add", json=route, headers=bearer(token))
    assert write.status_code == 403  # the viewer's token reads only

    listing = rest_agent.cli("--json", "token", "list")
    entry = next(item for item in json.loads(listing.stdout) if item["description"] == "dashboard")
    assert entry["user"] == "viewer" and token not in listing.stdout
    assert rest_agent.cli("token", "revoke", entry["id"]).returncode == 0
    assert requests.get(f"{base}/api/v1/route", headers=bearer(token)).status_code == 401
    assert rest_agent.cli("token", "revoke", entry["id"]).returncode == 1
    unknown = rest_agent.cli("token", "create", "nobody")
    assert unknown.returncode == 1 and "not a configured user" in unknown.stderr


def test_tokens_expire(rest_agent: RestAgent, base: str) -> None:
    made = rest_agent.cli("token", "create", "admin", "--lifetime", "1")
    token = made.stdout.strip()
    assert requests.get(f"{base}/restconf", headers=bearer(token)).status_code == 200
    subprocess.run(["sleep", "1.2"], check=True)
    assert requests.get(f"{base}/restconf", headers=bearer(token)).status_code == 401


def test_https_when_a_certificate_is_configured() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="fly-tls-"))
    cert, key = workdir / "rest.crt", workdir / "rest.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    extra = f'rest_tls_cert = "{cert}"\nrest_tls_key = "{key}"'
    agent = start_agent(workdir, config_extra=extra)
    try:
        assert agent.base.startswith("https://")
        # curl closes TLS with close_notify; a client that just drops the connection
        # would hold up the agent's graceful shutdown (up to 10 s)
        credentials = f"admin:{PASSWORDS['admin']}"
        done = subprocess.run(
            ["curl", "-s", "--cacert", str(cert), "-u", credentials, f"{agent.base}/restconf"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        assert json.loads(done.stdout)["ietf-restconf:restconf"]["yang-library-version"]
    finally:
        assert stop_agent(agent) == 0
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "flyos-agent"),
             "--state-dir", str(tmp_path / "state"), "--ipc-socket", str(tmp_path / "a.sock"),
             "--backend", "none", "--netconf-listen", "off", "--rest-listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        listener.close()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"flyos-agent: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
