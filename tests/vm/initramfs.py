"""Build the test VM's initramfs: a deterministic gzip'd cpio (newc) archive.

It holds a static busybox, /init (init.sh), the kernel modules that mounting the host's root
over virtio-9p needs (a stock Debian kernel builds them as modules), and a /sbin/modprobe that
hands the kernel's module auto-loading to the host's modprobe inside the mounted root. The same
inputs give the same bytes: entries are sorted, timestamps and owners are zero, inode numbers
count up.
"""

from __future__ import annotations

import gzip
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
INIT_SCRIPT = HERE / "init.sh"
BUSYBOX = Path("/bin/busybox")

# What mounting the host root needs before any module can come from it; dependencies follow.
BOOT_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")

# The kernel runs /sbin/modprobe to auto-load a module (an `ip link add type vrf`, an nft
# expression): run the host's, which reads /lib/modules/<guest kernel> of the host root.
MODPROBE = b'#!/bin/sh\nexec /bin/chroot /host /sbin/modprobe "$@"\n'


@dataclass(frozen=True)
class Entry:
    """One archive member: a directory, a file, a symlink or a character device."""

    path: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def module_paths(modules_dir: Path, names: tuple[str, ...]) -> list[Path]:
    """The module files for `names` and everything they depend on, in load order
    (dependencies first), read from `modules_dir`/modules.dep; names built into the kernel
    (modules.builtin) need no file."""
    deps: dict[str, list[str]] = {}
    by_name: dict[str, str] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        module, _, needs = line.partition(":")
        deps[module] = needs.split()
        by_name[_module_name(module)] = module
    builtin_list = modules_dir / "modules.builtin"
    builtin = (
        {_module_name(line) for line in builtin_list.read_text().split()}
        if builtin_list.exists()
        else set()
    )
    ordered: list[str] = []

    def visit(module: str) -> None:
        if module in ordered:
            return
        for dependency in reversed(deps[module]):
            visit(dependency)
        ordered.append(module)

    for name in (name.replace("-", "_") for name in names):
        if name in by_name:
            visit(by_name[name])
        elif name not in builtin:
            raise LookupError(f"module {name} is not in {modules_dir}/modules.dep")
    return [modules_dir / module for module in ordered]


def _module_name(path: str) -> str:
    return Path(path).name.split(".ko")[0].replace("-", "_")


def ensure_depmod(modules_dir: Path) -> None:
    """Run depmod for the kernel of `modules_dir` when its modules.dep is missing."""
    if not (modules_dir / "modules.dep").exists():
        subprocess.run(["depmod", modules_dir.name], check=True, capture_output=True)


def entries(modules_dir: Path) -> list[Entry]:
    """Every member of the initramfs for the kernel whose modules are in `modules_dir`."""
    members = [
        Entry(directory, stat.S_IFDIR | 0o755)
        for directory in ("bin", "dev", "host", "modules", "proc", "sbin", "sys")
    ]
    members += [
        Entry("bin/busybox", stat.S_IFREG | 0o755, BUSYBOX.read_bytes()),
        Entry("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        Entry("dev/null", stat.S_IFCHR | 0o666, rdev=(1, 3)),
        Entry("init", stat.S_IFREG | 0o755, INIT_SCRIPT.read_bytes()),
        Entry("sbin/modprobe", stat.S_IFREG | 0o755, MODPROBE),
    ]
    for index, module in enumerate(module_paths(modules_dir, BOOT_MODULES)):
        name = f"modules/{index:02d}-{module.name}"
        members.append(Entry(name, stat.S_IFREG | 0o644, module.read_bytes()))
    return sorted(members, key=lambda member: member.path)


def cpio_newc(members: list[Entry]) -> bytes:
    """The members as a cpio archive in the "new ASCII" format the kernel unpacks."""
    out = bytearray()
    for inode, member in enumerate([*members, Entry("TRAILER!!!", 0)], start=1):
        name = member.path.encode() + b"\0"
        fields = (
            inode if member.mode else 0,
            member.mode,
            0,  # uid
            0,  # gid
            2 if stat.S_ISDIR(member.mode) else 1,
            0,  # mtime
            len(member.data),
            0,  # dev major
            0,  # dev minor
            member.rdev[0],
            member.rdev[1],
            len(name),
            0,  # check
        )
        out += b"070701" + b"".join(b"%08X" % field for field in fields) + name
        out += b"\0" * (-len(out) % 4)
        out += member.data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def build_initramfs(modules_dir: Path) -> bytes:
    """The gzip'd initramfs for the kernel whose modules are in `modules_dir` (deterministic)."""
    ensure_depmod(modules_dir)
    return gzip.compress(cpio_newc(entries(modules_dir)), compresslevel=6, mtime=0)
