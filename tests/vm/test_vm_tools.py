"""The VM tier's own tools, without booting anything: kernel extraction, initramfs, reports."""

from __future__ import annotations

import gzip
import lzma
import stat
from pathlib import Path

import pytest
from guest_pytest import Outcome, parse_junit
from initramfs import Entry, cpio_newc, module_paths
from vmlinux import extract_vmlinux

ELF = b"\x7fELF" + bytes(range(256)) * 8


def test_extract_vmlinux_finds_the_payload_behind_false_magic() -> None:
    # A bzImage-like blob: setup code, a stray xz magic that is no stream, the real payload.
    image = b"\x90" * 512 + b"\xfd7zXZ\x00garbage" + lzma.compress(ELF) + b"\0" * 64
    assert extract_vmlinux(image) == ELF
    assert extract_vmlinux(b"MZ" + gzip.compress(ELF, mtime=0) + b"trailer") == ELF
    assert extract_vmlinux(ELF) == ELF


def test_extract_vmlinux_refuses_an_image_without_a_kernel() -> None:
    with pytest.raises(ValueError, match="no compressed ELF"):
        extract_vmlinux(b"MZ" + gzip.compress(b"not an elf", mtime=0))


def test_modules_come_after_their_dependencies(tmp_path: Path) -> None:
    (tmp_path / "modules.dep").write_text(
        "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko\n"
        "kernel/net/9p/9pnet.ko:\n"
        "kernel/fs/netfs/netfs.ko:\n"
        "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko\n"
    )
    (tmp_path / "modules.builtin").write_text("kernel/drivers/virtio/virtio_pci.ko\n")
    wanted = ("virtio_pci", "9pnet-virtio", "9p")
    ordered = [path.name for path in module_paths(tmp_path, wanted)]
    assert ordered == ["9pnet.ko", "9pnet_virtio.ko", "netfs.ko", "9p.ko"]
    with pytest.raises(LookupError, match="overlay"):
        module_paths(tmp_path, ("overlay",))


def test_cpio_archive_is_newc_with_aligned_members_and_a_trailer() -> None:
    members = [
        Entry("bin", stat.S_IFDIR | 0o755),
        Entry("bin/tool", stat.S_IFREG | 0o755, b"12345"),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
    ]
    archive = cpio_newc(members)
    assert archive == cpio_newc(members)  # deterministic
    seen = []
    offset = 0
    while True:
        header = archive[offset : offset + 110]
        assert header[:6] == b"070701"
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        size, namesize = fields[6], fields[11]
        name = archive[offset + 110 : offset + 110 + namesize - 1].decode()
        offset += 110 + namesize
        offset += -offset % 4
        data = archive[offset : offset + size]
        offset += size + (-size % 4)
        if name == "TRAILER!!!":
            break
        seen.append((name, fields[1], data, (fields[9], fields[10])))
    assert offset == len(archive)
    assert seen == [
        ("bin", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("bin/tool", stat.S_IFREG | 0o755, b"12345", (0, 0)),
        ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
    ]


def test_junit_report_gives_each_tests_outcome(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.m" name="test_ok" time="1"/>'
        '<testcase classname="tests.m" name="test_bad[x]"><failure message="boom">tb</failure>'
        "</testcase>"
        '<testcase classname="tests.m" name="test_skip"><skipped message="no vrf"/></testcase>'
        '<testcase classname="tests.m" name="test_setup"><error message="fixture"/></testcase>'
        "</testsuite></testsuites>"
    )
    assert parse_junit(report) == {
        "tests.m::test_ok": Outcome("passed"),
        "tests.m::test_bad[x]": Outcome("failed", "boom"),
        "tests.m::test_skip": Outcome("skipped", "no vrf"),
        "tests.m::test_setup": Outcome("error", "fixture"),
    }
