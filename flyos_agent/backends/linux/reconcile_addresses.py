"""Reconcile of addresses: the configured address set is authoritative on configured interfaces.

On a device that running configures, every address that is not configured
is drift (`extra`), whoever added it, except the ones the kernel manages
itself: loopback, router-advertisement and link-local addresses (IFA_PROTO
kernel-lo/ra/ll) and any IPv6 link-local fe80::/64 (also on kernels that do
not mark them). On a device running does not configure, only an address
that carries the agent's marker (IFA_PROTO 177, left behind when its
interface went away) is extra; every other address there is foreign and
never touched. Configured addresses the kernel lacks are `missing`.
Addresses compare by address and prefix length.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from immutables import Map

from flyos_agent.backends.linux.addresses import send_address
from flyos_agent.backends.linux.interfaces import interfaces_of
from flyos_agent.backends.linux.kernel import Kernel
from flyos_agent.backends.linux.route_messages import FLYOS_PROTO
from flyos_agent.datastore.paths import format_path
from flyos_agent.errors import FlyosError
from flyos_agent.schema import Schema

KERNEL_PROTOCOLS = frozenset({1, 2, 3})  # IFAPROT_KERNEL_LO, _RA, _LL
LINK_LOCAL = ipaddress.ip_network("fe80::/64")


@dataclass(frozen=True, order=True)
class Address:
    """One address on one device; `path` names the configured entry (None for leftovers)."""

    device: str
    ip: str
    length: int
    path: str | None = field(default=None, compare=False)

    @property
    def prefix(self) -> str:
        """'address/length'."""
        return f"{self.ip}/{self.length}"

    @property
    def name(self) -> str:
        """'address/length dev device'."""
        return f"{self.prefix} dev {self.device}"

    @property
    def key(self) -> tuple[str, str, int]:
        """What identifies it in the kernel."""
        return (self.device, self.ip, self.length)


@dataclass
class AddressDrift:
    """The addresses of running against the kernel's."""

    missing: list[Address]
    extra: list[Address]

    def report(self) -> dict[str, Any]:
        """{"missing": [{"interface", "address"}], "extra": [...]}."""
        return {
            "missing": [_plain(address) for address in self.missing],
            "extra": [_plain(address) for address in self.extra],
        }


def address_drift(
    schema: Schema, kernel: Kernel, running: Map[str, Any], foreign: frozenset[str] = frozenset()
) -> AddressDrift:
    """The drift between running's addresses and the kernel's (one address dump); devices
    named in `foreign` (another kind than configured, not the agent's) are left out."""
    wanted = {
        address.key: address
        for address in wanted_addresses(schema, running)
        if address.device not in foreign
    }
    configured = {str(entry["name"]) for entry in interfaces_of(running).values()} - foreign
    have = kernel_addresses(kernel)
    extra = sorted(
        address
        for address, proto in have.items()
        if address.key not in wanted
        and (
            address.device in configured or (proto == FLYOS_PROTO and address.device not in foreign)
        )
        and not _kernel_managed(address, proto)
    )
    present = {address.key for address in have}
    missing = sorted(address for key, address in wanted.items() if key not in present)
    return AddressDrift(missing, extra)


def converge_addresses(
    schema: Schema, kernel: Kernel, running: Map[str, Any], foreign: frozenset[str] = frozenset()
) -> list[str]:
    """Delete the extra addresses, then add the missing ones (read again: deleting a primary
    IPv4 address takes its secondaries along); the errors, one line each."""
    errors: list[str] = []
    with kernel.lock:
        for address in address_drift(schema, kernel, running, foreign).extra:
            _attempt(errors, kernel, "del", address)
        for address in address_drift(schema, kernel, running, foreign).missing:
            _attempt(errors, kernel, "add", address)
    return errors


def wanted_addresses(schema: Schema, running: Map[str, Any]) -> list[Address]:
    """Every configured address (normalised as the kernel prints it)."""
    out: list[Address] = []
    for key, entry in interfaces_of(running).items():
        for family in ("ipv4", "ipv6"):
            for ip_key, item in entry.get(family, Map()).get("address", Map()).items():
                path = format_path(
                    schema,
                    (("interfaces", None), ("interface", key), (family, None), ("address", ip_key)),
                )
                ip = ipaddress.ip_address(item["ip"]).compressed
                out.append(Address(str(entry["name"]), ip, int(item["prefix-length"]), path))
    return out


def kernel_addresses(kernel: Kernel) -> dict[Address, int]:
    """Every address of the namespace with its IFA_PROTO (0 when unmarked)."""
    with kernel.lock:
        names = {index: name for name, index in kernel.ifindex_map().items()}
        dump = kernel.ipr.get_addr()
    out: dict[Address, int] = {}
    for message in dump:
        device = names.get(int(message["index"]))
        ip = message.get("IFA_LOCAL") or message.get("IFA_ADDRESS")
        if device is None or ip is None:
            continue
        address = Address(device, ipaddress.ip_address(ip).compressed, int(message["prefixlen"]))
        out[address] = int(message.get("IFA_PROTO") or 0)
    return out


def _kernel_managed(address: Address, proto: int) -> bool:
    if proto in KERNEL_PROTOCOLS:
        return True
    ip = ipaddress.ip_address(address.ip)
    return (ip in LINK_LOCAL and address.length == LINK_LOCAL.prefixlen) or (
        ip.is_loopback and address.device == "lo"
    )


def _attempt(errors: list[str], kernel: Kernel, op: str, address: Address) -> None:
    try:
        send_address(kernel, op, address.device, address.ip, address.length, path=address.path)
    except FlyosError as exc:
        errors.append(str(exc))


def _plain(address: Address) -> dict[str, str]:
    return {"interface": address.device, "address": address.prefix}
