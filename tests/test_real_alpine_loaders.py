"""The static musl version read on every real loader at hand, against the loader itself.

35 loaders: the one of each real Alpine minirootfs (x86_64 3.6 ... 3.20 and edge, aarch64, x86) and
Debian's of ten arches (musl 1.2.3, 1.2.5, 1.2.6). Each is run (natively, or under ``qemu-<arch>-static``)
and its ``Version`` line parsed here; the static read must equal it, and its X.Y.Z must be the musl
version the package database records. Alpine 3.6-3.12 loaders also carry the compiler's version in
``.comment`` (``GCC: (Alpine 9.3.0) 9.3.0``), which the read once took for musl's.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from alpinetags._elf.elffile import read_only_data
from alpinetags._system.musl import read_musl_version
from alpinetags.errors import LoaderError
from tests import parts_loaders

pytestmark = pytest.mark.realparts

_BANNER_RE = re.compile(r"^musl libc \(([a-z0-9_]+)\)$", re.MULTILINE)
_VERSION_RE = re.compile(r"^Version ([0-9]\S*)$", re.MULTILINE)


def ran_version(loader: parts_loaders.RealLoader) -> str:
    argv = loader.run_argv()
    proc = subprocess.run(argv, capture_output=True, text=True, env={}, timeout=60, check=False)
    version = _VERSION_RE.search(proc.stderr)
    assert _BANNER_RE.search(proc.stderr) and version, f"{argv} printed no musl banner: {proc.stderr!r}"
    return version.group(1)


@pytest.mark.parametrize("name", parts_loaders.loader_names())
def test_static_read_equals_what_the_loader_prints(name: str) -> None:
    loader = parts_loaders.real_loader(name)
    ran = ran_version(loader)
    assert read_musl_version(str(loader.path)) == ran
    assert re.match(r"\d+\.\d+\.\d+", ran).group(0) == loader.version  # type: ignore[union-attr]


def test_the_old_alpine_loaders_carry_a_compiler_version_outside_read_only_data() -> None:
    """What made the old read wrong is really there: GCC's version in .comment of the 3.12 loaders."""
    for name in ("alpine-3.12-x86_64", "alpine-3.12-x86", "alpine-3.12-aarch64"):
        data = parts_loaders.real_loader(name).path.read_bytes()
        at = data.find(b"GCC: (Alpine 9.3.0) 9.3.0")
        assert at > 0, name
        assert not any(r.start <= at < r.end for r in read_only_data(data)), name


def _rewrite(src: Path, dest: Path, edit: Callable[[bytearray], None]) -> Path:
    data = bytearray(src.read_bytes())
    edit(data)
    dest.write_bytes(bytes(data))
    return dest


def test_second_version_next_to_the_banner_is_an_error_not_a_guess(tmp_path: Path) -> None:
    loader = parts_loaders.real_loader("alpine-3.17-x86_64")
    data = loader.path.read_bytes()
    banner = data.find(b"musl libc (")

    def plant(buf: bytearray) -> None:
        at = buf.rfind(b"\x00", 0, banner - 16) + 1  # replace the string just before the banner
        text = b"7.7.7\x00"
        buf[at : at + len(text)] = text

    path = _rewrite(loader.path, tmp_path / "ld-musl-x86_64.so.1", plant)
    with pytest.raises(LoaderError, match=r"several version strings.*'1\.2\.3'.*'7\.7\.7'"):
        read_musl_version(str(path))


@pytest.mark.parametrize("name", ["alpine-3.12-x86", "alpine-3.9-x86_64", "debian-1.2.3-1_s390x"])
def test_loader_without_section_headers_is_read_from_its_segments(name: str, tmp_path: Path) -> None:
    """sstrip-style files have no section table: the non-writable PT_LOAD segments are searched, which
    still leave .comment out (it is not loaded)."""
    loader = parts_loaders.real_loader(name)
    shnum_at = 0x3C if loader.path.read_bytes()[4] == 2 else 0x30  # e_shnum of ELF64 / ELF32

    def drop(buf: bytearray) -> None:
        buf[shnum_at : shnum_at + 2] = b"\x00\x00"

    path = _rewrite(loader.path, tmp_path / loader.path.name, drop)
    assert [r.name for r in read_only_data(path.read_bytes())][:1] == ["PT_LOAD"]
    assert read_musl_version(str(path)) == ran_version(loader)


def test_not_a_loader_is_a_typed_error(tmp_path: Path) -> None:
    busybox = parts_loaders.real_loader("alpine-3.17-x86_64").path.parent.parent / "bin" / "busybox"
    with pytest.raises(LoaderError, match="no musl banner"):
        read_musl_version(str(busybox))
    cut = tmp_path / "ld-musl-x86_64.so.1"
    cut.write_bytes(parts_loaders.real_loader("alpine-3.17-x86_64").path.read_bytes()[:40])
    with pytest.raises(LoaderError, match="not an ELF file alpinetags can read"):
        read_musl_version(str(cut))
