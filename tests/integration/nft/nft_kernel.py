"""Helpers for reading and poking a namespace's nftables ruleset from the nft tests."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

FOREIGN = """
table ip foreign {
    set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
    chain input { type filter hook input priority 10; policy accept; counter accept; }
}
"""


def sh(*args: str, ns: str | None = None, stdin: str | None = None, check: bool = True) -> str:
    """Run a command (inside `ns` if given); its stdout. Fails the test on error."""
    prefix = ["ip", "netns", "exec", ns] if ns else []
    done = subprocess.run(
        [*prefix, *args], input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0 or not check, f"{' '.join(args)}: {done.stderr}"
    return done.stdout


def new_namespace() -> str:
    """A fresh network namespace with its loopback up."""
    name = f"fnft-{uuid.uuid4().hex[:8]}"
    sh("ip", "netns", "add", name)
    sh("ip", "link", "set", "lo", "up", ns=name)
    return name


def delete_namespace(name: str) -> None:
    """Remove a namespace (and whatever lives in it)."""
    subprocess.run(["ip", "netns", "del", name], check=False)


class Kernel:
    """The nftables state of one namespace, as `nft -j` prints it."""

    def __init__(self, ns: str) -> None:
        self.ns = ns

    def ruleset(self) -> str:
        """`nft -j list ruleset`, byte for byte."""
        return sh("nft", "-j", "list", "ruleset", ns=self.ns)

    def table(self, family: str = "inet", name: str = "flyos") -> list[dict[str, Any]]:
        """The objects of one table in the ruleset listing."""
        out = []
        for item in json.loads(self.ruleset())["nftables"]:
            kind, body = next(iter(item.items()))
            owner = (body.get("family"), body.get("name") if kind == "table" else body.get("table"))
            if kind != "metainfo" and owner == (family, name):
                out.append(item)
        return out

    def rules(self, chain_prefix: str = "") -> dict[str, dict[str, Any]]:
        """The commented rules of the owned table by comment (chain, handle, expr)."""
        return {
            item["rule"]["comment"]: item["rule"]
            for item in self.table()
            if "rule" in item
            and "comment" in item["rule"]
            and item["rule"]["chain"].startswith(chain_prefix)
        }

    def handles(self) -> dict[str, int]:
        """The handle of every commented rule of the owned table, by comment."""
        return {comment: rule["handle"] for comment, rule in self.rules().items()}

    def nft(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """Run nft in the namespace."""
        return sh("nft", *args, ns=self.ns, stdin=stdin, check=check)


def without_handles(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects with handles dropped and counters zeroed (to compare across re-adds)."""
    out = []
    for item in objects:
        kind, body = next(iter(item.items()))
        body = {k: v for k, v in body.items() if k != "handle"}
        if "expr" in body:
            body["expr"] = [
                {"counter": {"packets": 0, "bytes": 0}} if "counter" in e else e
                for e in body["expr"]
            ]
        out.append({kind: body})
    return out


def interfaces(*names: str) -> dict[str, Any]:
    """The interfaces container naming `names` (ACL attachments refer to them)."""
    return {"interface": [{"name": name, "type": "ethernet"} for name in names]}


SERVER = """
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen()
print("ready", flush=True)
while True:
    conn, peer = server.accept()
    conn.sendall(peer[0].encode())
    conn.close()
"""


End = tuple[str, str, str]
"""(namespace, device, address/prefix) of one end of a veth pair."""


class Lab:
    """Namespaces next to the agent's, veth links between them, TCP servers in them."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.made: list[str] = []
        self.servers: list[subprocess.Popen[str]] = []

    def namespace(self) -> str:
        """Another fresh namespace."""
        name = new_namespace()
        self.made.append(name)
        return name

    @staticmethod
    def link(one: End, other: End) -> None:
        """A veth pair between two namespaces, addressed and up."""
        (ns_a, dev_a, _), (ns_b, dev_b, _) = one, other
        command = f"ip link add {dev_a} netns {ns_a} type veth peer name {dev_b} netns {ns_b}"
        sh(*command.split())
        for ns, dev, address in (one, other):
            sh("ip", "address", "add", address, "dev", dev, ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)

    def serve(self, ns: str, port: int) -> None:
        """A TCP server answering each connection with the peer's address."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", SERVER, str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.servers.append(process)
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"

    def close(self) -> None:
        for process in self.servers:
            process.kill()
            process.wait()
        for name in self.made:
            delete_namespace(name)
