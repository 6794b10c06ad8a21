"""Wheel-tag arch names: for this interpreter (as packaging computes them) and from an ELF header.

``armv8l`` is what a 32-bit ARM userland on an ARMv8 CPU (a 32-bit container on an arm64 host) reports.
packaging treats it as ``armv8l`` first and ``armv7l`` second (its ``_linux_platforms``): the same
32-bit hard-float userland, so armv7l wheels run there. ``compatible_arches`` says that in one place.
"""

from __future__ import annotations

import sys
import sysconfig
from typing import Literal, Optional

from alpinetags._elf.elffile import (
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
from alpinetags.errors import ConfigError


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


def elf_arch(header: ElfHeader, arm_cpu: Optional[int] = None) -> str:
    """The wheel-tag arch of an ELF file, or ``""`` if its machine is not one wheels are built for;
    ``arm_cpu`` is an ARM file's ``Tag_CPU_arch`` (``arm_cpu_arch``), which tells ARMv6 from ARMv7."""
    m = header.machine
    if m == EM_X86_64:
        return "x86_64" if header.elf_class == 64 else ""
    if m == EM_386:
        return "i686"
    if m == EM_AARCH64:
        return "aarch64"
    if m == EM_ARM:
        return arm_arch(arm_cpu)
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


#: ``SHT_ARM_ATTRIBUTES``: the section whose ``aeabi`` ``Tag_CPU_arch`` says which ARM the file is for.
SHT_ARM_ATTRIBUTES = 0x70000003
_TAG_CPU_ARCH = 6
#: Attribute tags whose value is a NUL-terminated string (the others, below 32, are ULEB128 numbers; from
#: 32 on, odd tags are strings), in the ARM ABI's build-attributes addenda.
_STRING_TAGS = frozenset({4, 5, 67})
#: ``Tag_CPU_arch`` values of ARMv6 (v6, v6KZ, v6T2, v6K, v6-M, v6S-M): Alpine's ``armhf`` (a Raspberry Pi 1
#: or Zero) is ARMv6, its ``armv7`` ARMv7; wheels spell them ``armv6l`` and ``armv7l``.
_ARMV6 = frozenset({6, 7, 8, 9, 11, 12})
#: The wheel arches one 32-bit hard-float ARM loader (``ld-musl-armhf.so.1``) loads: an ARMv6 file loads
#: on an ARMv7 system (and the other way round, where the CPU has the instructions).
ARM32_ARCHES = frozenset({"armv6l", "armv7l", "armv8l"})


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
    raise ValueError("truncated ULEB128")


def arm_cpu_arch(section: bytes, little_endian: bool = True) -> Optional[int]:
    """``Tag_CPU_arch`` of an ``SHT_ARM_ATTRIBUTES`` section (its ``aeabi`` file attributes), or ``None``
    when the section does not say (or is malformed: a hostile file then just keeps the ARMv7 default)."""
    order: Literal["little", "big"] = "little" if little_endian else "big"
    if not section or section[0] != 0x41:  # 'A': format version
        return None
    pos = 1
    try:
        while pos + 4 <= len(section):
            length = int.from_bytes(section[pos : pos + 4], order)
            end = min(pos + length, len(section))
            if length < 5:
                return None
            name_end = section.index(b"\0", pos + 4, end)
            vendor = section[pos + 4 : name_end]
            sub = name_end + 1
            while vendor == b"aeabi" and sub + 5 <= end:
                tag, size = section[sub], int.from_bytes(section[sub + 1 : sub + 5], order)
                sub_end = min(sub + max(size, 5), end)
                if tag == 1:  # Tag_File: attributes of the whole file
                    at = sub + 5
                    while at < sub_end:
                        attr, at = _uleb(section, at)
                        if attr in _STRING_TAGS or (attr >= 32 and attr % 2):
                            at = section.index(b"\0", at, sub_end) + 1
                            continue
                        value, at = _uleb(section, at)
                        if attr == _TAG_CPU_ARCH:
                            return value
                sub = sub_end
            pos = end
    except ValueError:
        return None
    return None


def arm_arch(cpu_arch: Optional[int]) -> str:
    """The wheel arch of a 32-bit ARM file from its ``Tag_CPU_arch``: ``armv6l`` for ARMv6, else ``armv7l``
    (also when the file does not say)."""
    return "armv6l" if cpu_arch in _ARMV6 else "armv7l"


def same_loader_arch(a: str, b: str) -> bool:
    """Whether files of wheel arches ``a`` and ``b`` are loaded by the same loader: equal, or both 32-bit
    hard-float ARM (an ARMv6 library in an ARMv7 process)."""
    return a == b or (a in ARM32_ARCHES and b in ARM32_ARCHES)
