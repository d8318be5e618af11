"""Network namespaces made (and removed) by the benchmarks, and the reference tools run in them.

Every namespace has its loopback up and, when asked, a port `eth0` (a veth
whose peer `port0` sits in the same namespace, up, so eth0 has carrier),
optionally with the benchmark address 192.0.2.2/24, so that routes via
192.0.2.1 are accepted.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.common import PORT, PORT_ADDRESS


def sh(*args: str, stdin: str | None = None) -> str:
    """Run a command; its stdout. RuntimeError with its stderr if it fails."""
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Namespace:
    """A fresh network namespace, deleted on exit."""

    def __init__(self, *, port: bool = True, address: bool = False) -> None:
        self.name = f"fbench-{uuid.uuid4().hex[:8]}"
        sh("ip", "netns", "add", self.name)
        try:
            self.ip("link", "set", "lo", "up")
            if port:
                self.ip("link", "add", PORT, "type", "veth", "peer", "name", "port0")
                self.ip("link", "set", "port0", "up")
            if address:
                self.ip("addr", "add", f"{PORT_ADDRESS}/24", "dev", PORT)
                self.ip("link", "set", PORT, "up")
        except BaseException:
            self.delete()
            raise

    def ip(self, *args: str) -> str:
        """`ip -n NS ARGS...`."""
        return sh("ip", "-n", self.name, *args)

    def ip_json(self, *args: str) -> Any:
        """`ip -j -n NS ARGS...` parsed."""
        out = sh("ip", "-j", "-n", self.name, *args)
        return json.loads(out) if out.strip() else []

    def exec(self, *args: str, stdin: str | None = None) -> str:
        """Run a command inside the namespace."""
        return sh("ip", "netns", "exec", self.name, *args, stdin=stdin)

    def ip_batch(self, script: Path) -> float:
        """Seconds `ip -n NS -batch SCRIPT` takes (it must succeed)."""
        start = time.perf_counter()
        sh("ip", "-n", self.name, "-batch", str(script))
        return time.perf_counter() - start

    def route_count(self) -> int:
        """How many IPv4 routes of the agent's protocol (177) the main table holds."""
        out = self.ip("-4", "route", "show", "proto", "177")
        return len(out.splitlines())

    def delete(self) -> None:
        """Remove the namespace and everything in it."""
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)

    def __enter__(self) -> Namespace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.delete()
