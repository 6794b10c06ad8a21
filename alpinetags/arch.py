"""Wheel-tag arch names: for this interpreter (as packaging computes them) and from an ELF header.

``armv8l`` is what a 32-bit ARM userland on an ARMv8 CPU (a 32-bit container on an arm64 host) reports.
packaging treats it as ``armv8l`` first and ``armv7l`` second (its ``_linux_platforms``): the same
32-bit hard-float userland, so armv7l wheels run there. ``compatible_arches`` says that in one place.
"""

from __future__ import annotations

import sys
import sysconfig

from .elffile import (
    EM_386,
    EM_AARCH64,
    EM_ARM,
    EM_LOONGARCH,
    EM_PPC,
    EM_PPC64,
    EM_RISCV,
    EM_S390,
    EM_X86_64,
    ElfHeader,
)
from .errors import ConfigError


def host_arch() -> str:
    """The arch of ``linux_<arch>`` in ``packaging.tags.platform_tags()`` for this interpreter.

    Like packaging, a 32-bit interpreter on a 64-bit kernel reports the interpreter's arch
    (i686 on x86_64, armv7l on aarch64), because wheels must match the interpreter, not the kernel.
    """
    plat = sysconfig.get_platform()
    arch = plat.split("-", 1)[1] if "-" in plat else plat
    arch = arch.replace(".", "_").replace("-", "_")
    if sys.maxsize <= 2**32:
        arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
    return arch


#: Every arch a wheel tag names that alpinetags knows (``--arch`` and ``--target`` accept these only).
KNOWN_ARCHES = frozenset(
    {
        "x86_64", "i686", "aarch64", "armv8l", "armv7l", "armv6l", "ppc64le", "ppc64", "ppc",
        "s390x", "s390", "riscv64", "riscv32", "loongarch64",
    }
)  # fmt: skip


def check_arch(arch: str, what: str) -> str:
    """``arch`` if it is in ``KNOWN_ARCHES``; else a ``ConfigError`` naming ``what`` and the value."""
    if arch not in KNOWN_ARCHES:
        raise ConfigError(
            f"{what}: {arch!r} is not a wheel-tag arch; one of {', '.join(sorted(KNOWN_ARCHES))}"
        )
    return arch


def compatible_arches(arch: str) -> list[str]:
    """The arches whose wheels run on ``arch``, best first: ``armv8l`` -> armv8l, armv7l (as packaging)."""
    return ["armv8l", "armv7l"] if arch == "armv8l" else [arch]


def elf_arch(header: ElfHeader) -> str:
    """The wheel-tag arch of an ELF file, or ``""`` if its machine is not one wheels are built for."""
    m = header.machine
    if m == EM_X86_64:
        return "x86_64" if header.elf_class == 64 else ""
    if m == EM_386:
        return "i686"
    if m == EM_AARCH64:
        return "aarch64"
    if m == EM_ARM:
        return "armv7l"
    if m == EM_PPC64:
        return "ppc64le" if header.little_endian else "ppc64"
    if m == EM_PPC:
        return "ppc"
    if m == EM_S390:
        return "s390x" if header.elf_class == 64 else "s390"
    if m == EM_RISCV:
        return "riscv64" if header.elf_class == 64 else "riscv32"
    if m == EM_LOONGARCH:
        return "loongarch64"
    return ""
