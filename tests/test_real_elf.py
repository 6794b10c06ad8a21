"""The ELF reader on real files: Debian's musl loaders of six arches (ELF32/64, little and big endian),
musl-gcc builds, and the Alpine-built CPython of x86_64 and aarch64.

The expectations are the ELF facts of each arch (from the psABIs) and what binutils' ``readelf`` says
about the same file; neither comes from alpinetags.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from alpinetags._elf.arch import elf_arch
from alpinetags._elf.elffile import read_elf
from alpinetags._system.musl import loader_arch
from tests import realparts

pytestmark = pytest.mark.realparts

#: Debian arch -> (ELF class, little endian, e_machine, wheel-tag arch), per the arch's psABI.
ARCH_FACTS = {
    "amd64": (64, True, 62, "x86_64"),
    "i386": (32, True, 3, "i686"),
    "arm64": (64, True, 183, "aarch64"),
    "armhf": (32, True, 40, "armv7l"),
    "s390x": (64, False, 22, "s390x"),
    "ppc64el": (64, True, 21, "ppc64le"),
}
#: ``<arch>`` of ld-musl-<arch>.so.1, as musl names it.
_ET = {"EXEC": 2, "DYN": 3}


def readelf(path: Path) -> dict[str, Optional[object]]:
    """Class, byte order, type and PT_INTERP of ``path`` as binutils' readelf reports them."""
    tool = shutil.which("readelf")
    if tool is None:
        pytest.fail("readelf is missing: apt-get install binutils (bash scripts/test installs it)")
    out = subprocess.run(
        [tool, "-h", "-l", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    cls = re.search(r"Class:\s+ELF(32|64)", out)
    data = re.search(r"Data:\s+2's complement, (little|big) endian", out)
    etype = re.search(r"Type:\s+(EXEC|DYN)", out)
    interp = re.search(r"\[Requesting program interpreter: ([^\]]+)\]", out)
    assert cls and data and etype, out
    return {
        "class": int(cls.group(1)),
        "little": data.group(1) == "little",
        "e_type": _ET[etype.group(1)],
        "interpreter": interp.group(1) if interp else None,
    }


@pytest.mark.parametrize("deb_arch", sorted(ARCH_FACTS))
def test_musl_loader_header(deb_arch: str) -> None:
    path = realparts.musl_loader(deb_arch)
    elf_class, little, machine, tag_arch = ARCH_FACTS[deb_arch]
    header = read_elf(str(path))
    assert (header.elf_class, header.little_endian, header.machine) == (elf_class, little, machine)
    assert elf_arch(header) == tag_arch
    # the loader is its own interpreter: a shared object with no PT_INTERP
    assert header.interpreter is None
    assert header.e_type == 3
    theirs = readelf(path)
    assert (theirs["class"], theirs["little"], theirs["e_type"], theirs["interpreter"]) == (
        header.elf_class,
        header.little_endian,
        header.e_type,
        header.interpreter,
    )
    assert loader_arch(str(path)) == realparts.LOADER_ARCHES[deb_arch]


def test_musl_gcc_dynamic_build(tmp_path: Path) -> None:
    exe = realparts.musl_gcc_build(tmp_path, static=False)
    header = read_elf(str(exe))
    assert header.interpreter == "/lib/ld-musl-x86_64.so.1"
    assert header.interpreter == readelf(exe)["interpreter"]
    assert header.e_type == readelf(exe)["e_type"]
    assert (header.elf_class, header.little_endian, elf_arch(header)) == (64, True, "x86_64")
    assert loader_arch(header.interpreter) == "x86_64"
    ran = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, check=False)
    assert ran.stdout == "hello from musl\n"


def test_musl_gcc_static_build(tmp_path: Path) -> None:
    exe = realparts.musl_gcc_build(tmp_path, static=True)
    header = read_elf(str(exe))
    assert header.interpreter is None
    assert readelf(exe)["interpreter"] is None
    assert header.e_type == readelf(exe)["e_type"]
    assert elf_arch(header) == "x86_64"
    ran = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, check=False)
    assert ran.stdout == "hello from musl\n"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_alpine_cpython(arch: str) -> None:
    exe = realparts.krunner_python(arch) / "bin" / "python3.11"
    header = read_elf(str(exe))
    assert header.interpreter == f"/lib/ld-musl-{arch}.so.1"
    assert header.interpreter == readelf(exe)["interpreter"]
    assert (header.elf_class, header.little_endian) == (64, True)
    assert elf_arch(header) == arch
    assert loader_arch(header.interpreter) == arch
    # the shared libpython beside it is a library: no PT_INTERP
    lib = realparts.krunner_python(arch) / "lib" / "libpython3.11.so.1.0"
    assert read_elf(str(lib)).interpreter is None
    assert elf_arch(read_elf(str(lib))) == arch
