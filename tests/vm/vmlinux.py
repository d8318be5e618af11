"""Extract the ELF `vmlinux` from a compressed kernel image (a bzImage such as Debian's vmlinuz).

The logic of the kernel's scripts/extract-vmlinux: search the image for the magic of each
compression format, decompress from every hit and keep the first result that is an ELF file.
Booting the ELF directly (through its PVH entry point) skips the kernel's self-decompression,
which takes seconds under QEMU's software emulation.
"""

from __future__ import annotations

import bz2
import lzma
import os
import zlib
from collections.abc import Callable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def _gunzip(data: bytes) -> bytes:
    # One gzip member; the image's trailing bytes are not a second member.
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(data)


def _unxz(data: bytes) -> bytes:
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)


def _unlzma(data: bytes) -> bytes:
    return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(data)


def _bunzip2(data: bytes) -> bytes:
    return bz2.BZ2Decompressor().decompress(data)


# (name, magic, decompressor), as in extract-vmlinux; the formats Python's standard library
# reads (Debian's kernels are xz; extract-vmlinux's lzo, lz4 and zstd need other tools).
FORMATS: list[tuple[str, bytes, Callable[[bytes], bytes]]] = [
    ("gzip", b"\x1f\x8b\x08", _gunzip),
    ("xz", b"\xfd7zXZ\x00", _unxz),
    ("bzip2", b"BZh", _bunzip2),
    ("lzma", b"\x5d\x00\x00\x00", _unlzma),
]


def extract_vmlinux(image: bytes) -> bytes:
    """The uncompressed ELF kernel inside `image` (returned as is if it already is an ELF).

    Raises ValueError when no known compressed payload in the image decompresses to an ELF.
    """
    if image.startswith(ELF_MAGIC):
        return image
    for _name, magic, decompress in FORMATS:
        offset = image.find(magic)
        while offset != -1:
            try:
                payload = decompress(image[offset:])
            except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError):
                payload = b""
            if payload.startswith(ELF_MAGIC):
                return payload
            offset = image.find(magic, offset + 1)
    raise ValueError("no compressed ELF kernel found in the image")


def extract_vmlinux_file(image: Path, target: Path) -> None:
    """Write the ELF kernel inside `image` to `target` (atomically: a temporary file, renamed)."""
    payload = extract_vmlinux(image.read_bytes())
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.write_bytes(payload)
    partial.replace(target)
