"""The kernel of one network namespace: the sockets every handler shares, and error mapping.

All kernel work of the backend goes through one `Kernel`: a pyroute2 IPRoute
for per-object calls (links, addresses), a raw `RtnlSocket` for batched route
and rule requests and fast dumps, and a WireGuard generic-netlink socket,
each opened inside the namespace (so the agent's own threads never change
namespace). A lock serialises their use between the commit path, next-hop
tracking and state reads.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pyroute2 import IPRoute, WireGuard
from pyroute2 import netns as pyroute2_netns
from pyroute2.netlink.exceptions import NetlinkError

from flyos_agent.backends.linux.netlink_batch import (
    KernelError,
    RtnlSocket,
    describe_errno,
    errno_name,
)
from flyos_agent.errors import FlyosError, OperationFailed

T = TypeVar("T")


class KernelFailure(OperationFailed):
    """A kernel request was refused; `info` carries the errno name."""


def kernel_error(exc: BaseException | KernelError, what: str, path: str | None) -> FlyosError:
    """The error a client sees for a refused kernel request: the path, the operation, the reason."""
    if isinstance(exc, FlyosError):
        if exc.path is None:
            exc.path = path
        return exc
    code: int | None = None
    reason = str(exc)
    if isinstance(exc, NetlinkError):
        code = exc.code
        detail = exc.args[1] if len(exc.args) > 1 else ""
        reason = describe_errno(code)
        if detail and detail != reason.partition(": ")[2]:
            reason += f" ({detail})"
    elif isinstance(exc, KernelError):
        code = exc.errno
    elif isinstance(exc, OSError) and exc.errno is not None:
        code = exc.errno
        reason = describe_errno(code)
    info = {"errno": errno_name(code)} if code is not None else {}
    return KernelFailure(f"{what}: {reason}", path=path, info=info)


class Kernel:
    """Sockets into one network namespace (None: the agent's own), opened on first use."""

    def __init__(self, netns: str | None) -> None:
        self.netns = netns
        self.lock = threading.RLock()
        self._ipr: Any = None
        self._rtnl: RtnlSocket | None = None
        self._wireguard: Any = None

    @property
    def ipr(self) -> Any:
        """The pyroute2 IPRoute socket (no multicast groups: replies only)."""
        if self._ipr is None:
            self._ipr = IPRoute(netns=self.netns, flags=0, groups=0, ext_ack=True)
        return self._ipr

    @property
    def rtnl(self) -> RtnlSocket:
        """The raw socket for batches and dumps (opened by a thread that joined the
        namespace: quicker than pyroute2's forked helper process)."""
        if self._rtnl is None:
            self._rtnl = self.run_in_netns(lambda: RtnlSocket(None))
        return self._rtnl

    @property
    def wireguard(self) -> Any:
        """The WireGuard generic-netlink socket (needs the wireguard module)."""
        if self._wireguard is None:
            self._wireguard = WireGuard(netns=self.netns, flags=0)
        return self._wireguard

    def call(self, what: str, path: str | None, func: Callable[[], T]) -> T:
        """Run one kernel request under the lock; a refusal becomes an error naming `path`."""
        with self.lock:
            try:
                return func()
            except (NetlinkError, OSError) as exc:
                raise kernel_error(exc, what, path) from exc

    def link(self, name: str) -> Any | None:
        """The link message of device `name`, or None if there is none."""
        with self.lock:
            try:
                links = self.ipr.get_links(ifname=name)
            except NetlinkError as exc:
                if exc.code == errno.ENODEV:
                    return None
                raise
            return links[0] if links else None

    def ifindex(self, name: str) -> int | None:
        """The ifindex of device `name`, or None."""
        link = self.link(name)
        return None if link is None else int(link["index"])

    def ifindex_map(self) -> dict[str, int]:
        """Every device name with its ifindex (one dump)."""
        with self.lock:
            return {link.get("ifname"): int(link["index"]) for link in self.ipr.get_links()}

    def run_in_netns(self, func: Callable[[], T]) -> T:
        """Run `func` in a short-lived thread that has joined the namespace (files under
        /proc/sys/net then belong to it); the agent's other threads stay where they are."""
        if self.netns is None:
            return func()
        result: list[T] = []
        failure: list[BaseException] = []

        def worker() -> None:
            try:
                pyroute2_netns.setns(self.netns, flags=0)
                result.append(func())
            except BaseException as exc:  # handed to the caller below
                failure.append(exc)

        thread = threading.Thread(target=worker, name="flyos-netns")
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
        return result[0]

    def close(self) -> None:
        """Close every socket opened so far."""
        with self.lock:
            for sock in (self._ipr, self._rtnl, self._wireguard):
                if sock is not None:
                    sock.close()
            self._ipr = self._rtnl = self._wireguard = None
