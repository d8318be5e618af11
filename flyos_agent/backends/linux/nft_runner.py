"""Run nft JSON batches inside the agent's network namespace.

Two ways, one interface (`Runner`):
- `LibnftablesRunner`: libnftables through Debian's python3-nftables binding,
  loaded from /usr/lib/python3/dist-packages without putting that directory on
  sys.path. The context (and its netlink socket) lives in one worker thread
  that entered the namespace with setns(2) — a namespace switch affects only
  the calling thread, so the agent's listeners stay where they were.
- `CliRunner`: `nft -j -f -` (under `ip netns exec NS`), when the binding
  cannot be loaded.

Measured here, same run (tests/integration/nft/test_nft_scale.py): the 50k-rule
batch costs the same either way (2.45 s through libnftables, 2.37 s through
`nft -j -f`: both are libnftables parsing JSON); a whole one-rule commit took
15.7 ms over libnftables and 31.8 ms over the nft command (process start-up
and a fresh cache every time). Small commits dominate, so `open_runner`
prefers the library.

Both also send batches the encoder covers (nft_encode) as raw nf_tables
transactions over their netlink socket (`send`), unless built with
`encode=False`. Measured here, the 50k-rule ACL's batch in CPU seconds:
encoding 0.38 + the kernel's work 0.76, where `json.dumps` took 0.31 and
libnftables 2.28 (1.5 of its own parsing and evaluation, then the same
kernel work).
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from flyos_agent.backends.linux import nft_netlink
from flyos_agent.backends.linux.nft_model import FAMILY, TABLE
from flyos_agent.backends.linux.nft_netlink import RuleInfo

BINDING = Path("/usr/lib/python3/dist-packages/nftables/__init__.py")
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


class NftCommandError(Exception):
    """nft refused a batch; the message is nft's, without its location prefix."""


class NetnsThread:
    """One worker thread inside a network namespace (None: the agent's own).

    OSError if the namespace cannot be entered (then no thread is left running).
    """

    def __init__(self, netns: str | None) -> None:
        self._pool = ThreadPoolExecutor(1, "nft")
        try:
            self.call(_enter, netns)  # the pool's one thread runs every later call too
        except OSError:
            self._pool.shutdown()
            raise

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in the namespace thread and return its result."""
        return self._pool.submit(fn, *args).result()

    def close(self) -> None:
        """Stop the thread."""
        self._pool.shutdown(wait=True)


def _enter(netns: str | None) -> None:
    if netns is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        fd = os.open(NETNS_DIR / netns, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileNotFoundError(f"network namespace '{netns}' does not exist") from None
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"setns({netns}): {os.strerror(code)}")
    finally:
        os.close(fd)


class Runner(ABC):
    """Runs nft JSON text in a namespace; subclasses say how."""

    def __init__(self, netns: str | None, *, encode: bool = True) -> None:
        self.netns = netns
        self.encode = encode
        self.thread = NetnsThread(netns)
        self._sock = self.thread.call(nft_netlink.open_socket)

    @abstractmethod
    def run(self, text: str, *, check: bool = False) -> str:
        """Apply (or with `check` only test) a JSON batch; nft's output.
        NftCommandError if nft refuses it."""

    def list_table(self) -> list[dict[str, Any]]:
        """The owned table as numeric JSON objects; [] when it does not exist."""
        command = {"nftables": [{"list": {"table": {"family": FAMILY, "name": TABLE}}}]}
        try:
            out = self.run(json.dumps(command))
        except NftCommandError as exc:
            if "No such file or directory" in str(exc):
                return []
            raise
        objects: list[dict[str, Any]] = json.JSONDecoder().raw_decode(out.strip())[0]["nftables"]
        return [item for item in objects if "metainfo" not in item]

    def send(self, transaction: bytes) -> None:
        """Apply an encoded nf_tables transaction (nft_encode.encode_batch); BatchRefused
        (nothing applied) if the kernel refuses any of it."""
        self.thread.call(nft_netlink.send_batch, self._sock, transaction)

    def get_rule(self, chain: str, handle: int) -> RuleInfo | None:
        """Rule `handle` of `chain` in the owned table (None: no such rule)."""
        return self.thread.call(nft_netlink.get_rule, self._sock, TABLE, chain, handle)

    def dump_chain(self, chain: str) -> list[RuleInfo]:
        """The rules of `chain` in the owned table, in order."""
        return self.thread.call(nft_netlink.dump_chain, self._sock, TABLE, chain)

    def close(self) -> None:
        """Release the socket and the thread."""
        self._sock.close()
        self.thread.close()


class LibnftablesRunner(Runner):
    """libnftables, called from the namespace thread."""

    def __init__(self, netns: str | None, binding: ModuleType, *, encode: bool = True) -> None:
        super().__init__(netns, encode=encode)
        self._nft: Any = self.thread.call(_new_context, binding)

    def run(self, text: str, *, check: bool = False) -> str:
        """Apply, test or list through libnftables."""
        return self.thread.call(self._run, text, check)

    def _run(self, text: str, check: bool) -> str:
        self._nft.set_dry_run(check)
        rc, out, err = self._nft.cmd(text)
        if rc != 0:
            raise NftCommandError(_clean(err))
        return str(out)


def _new_context(binding: ModuleType) -> Any:
    nft = binding.Nftables()
    nft.set_json_output(True)
    nft.set_numeric_proto_output(True)
    nft.set_numeric_symbol_output(True)
    return nft


class CliRunner(Runner):
    """The nft command, under `ip netns exec` for a namespace."""

    def run(self, text: str, *, check: bool = False) -> str:
        """Apply, test or list through `nft -j`."""
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        flags = ["-j", "-n"] + (["-c"] if check else [])
        done = subprocess.run(
            [*prefix, "nft", *flags, "-f", "-"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise NftCommandError(_clean(done.stderr))
        return done.stdout


def _clean(stderr: str) -> str:
    """nft's error lines without the 'internal:0:0-0: Error: ' location prefix."""
    lines = []
    for line in stderr.splitlines():
        text = line.split("Error: ", 1)[-1].strip()
        if text and text not in lines:
            lines.append(text)
    return "; ".join(lines) or "nft failed without a message"


def load_binding() -> ModuleType | None:
    """Debian's python3-nftables, imported from its file (None if it is not there)."""
    if "nftables" in sys.modules:
        return sys.modules["nftables"]
    if not BINDING.exists():
        return None
    spec = importlib.util.spec_from_file_location(
        "nftables", BINDING, submodule_search_locations=[str(BINDING.parent)]
    )
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["nftables"] = module
    try:
        spec.loader.exec_module(module)
        module.Nftables  # noqa: B018 - the class must be there
    except (ImportError, OSError, AttributeError):
        del sys.modules["nftables"]
        return None
    return module


def open_runner(netns: str | None, prefer: str = "libnftables", *, encode: bool = True) -> Runner:
    """A runner for `netns`: libnftables when loadable (and preferred), else the CLI;
    with `encode`, batches the encoder covers go to the kernel as raw netlink."""
    binding = load_binding() if prefer == "libnftables" else None
    if binding is not None:
        return LibnftablesRunner(netns, binding, encode=encode)
    return CliRunner(netns, encode=encode)
