"""The static musl version read reads only what it needs of a loader, and never more than its cap.

Bytes read are measured by the kernel (``rchar`` of ``/proc/self/io``: every byte ``read`` returned to
this process), not counted by the code under test. Real loaders: every real Alpine minirootfs's.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from alpinetags._system.musl import MAX_LOADER_SIZE, read_musl_version
from alpinetags.errors import LoaderError
from tests import parts_loaders

pytestmark = pytest.mark.realparts

ALPINE = [n for n in parts_loaders.loader_names() if n.startswith("alpine-")]


def rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def read_counted(path: Path) -> tuple[str, int]:
    """(version, bytes the process read while reading it); /proc is read before and after, outside."""
    before = rchar()
    try:
        version = read_musl_version(str(path))
    finally:
        read = rchar() - before
    return version, read


@pytest.mark.parametrize("name", ALPINE)
def test_an_alpine_loader_is_read_only_near_its_banner(name: str) -> None:
    """The whole file is 560-720 KB; the headers and the end of .rodata are under 64 KB of it."""
    loader = parts_loaders.real_loader(name)
    version, read = read_counted(loader.path)
    assert version.startswith(loader.version), (version, loader.version)
    size = loader.path.stat().st_size
    assert read < 64 * 1024 < size // 8, (read, size)


def _overlapping_sections(data: bytes, count: int) -> bytes:
    """``data`` (an ELF64 little-endian loader) with its banner damaged and a new section header table
    appended: ``count`` read-only sections, each claiming the whole file."""
    buf = bytearray(data.replace(b"musl libc (", b"xxxx libc ("))
    shoff = len(buf)
    entry = struct.pack("<IIQQQQIIQQ", 0, 1, 2, 0, 0, len(data), 0, 0, 1, 0)  # PROGBITS, ALLOC
    buf += entry * count
    struct.pack_into("<Q", buf, 0x28, shoff)  # e_shoff
    struct.pack_into("<HHH", buf, 0x3A, 64, count, 0)  # e_shentsize, e_shnum, e_shstrndx
    return bytes(buf)


def test_overlapping_sections_are_read_up_to_the_cap_only(tmp_path: Path) -> None:
    """4096 sections over the whole 650 KB file would be 2.6 GB of reads: the reads stop at the cap."""
    data = parts_loaders.real_loader("alpine-3.19-x86_64").path.read_bytes()
    path = tmp_path / "ld-musl-x86_64.so.1"
    path.write_bytes(_overlapping_sections(data, 4096))
    before = rchar()
    with pytest.raises(LoaderError, match="adds up to more than"):
        read_musl_version(str(path))
    assert rchar() - before <= MAX_LOADER_SIZE + 1024 * 1024


def test_few_overlapping_sections_without_a_banner_say_so(tmp_path: Path) -> None:
    """Under the cap, every section is searched in full and the answer is the usual one."""
    data = parts_loaders.real_loader("alpine-3.19-x86_64").path.read_bytes()
    path = tmp_path / "ld-musl-x86_64.so.1"
    path.write_bytes(_overlapping_sections(data, 3))
    with pytest.raises(LoaderError, match="no musl banner in its read-only data"):
        read_musl_version(str(path))
