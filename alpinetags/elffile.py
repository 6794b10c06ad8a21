"""A small, bounded ELF header reader: class, byte order, machine, and the PT_INTERP path.

It reads at most ``MAX_READ`` bytes of any file, whatever the header claims, and every way a file
can be short, lying or hostile ends in ``ElfError``. Only the program headers are read: that is all
PEP 656 needs (the interpreter's loader names the libc).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Optional

from .errors import ElfError
from .safefile import parse_regular

#: No input makes the reader read more than this many bytes in all.
MAX_READ = 64 * 1024
_MAX_INTERP = 4096
_PT_INTERP = 3

EM_386 = 3
EM_MIPS = 8
EM_PPC = 20
EM_PPC64 = 21
EM_S390 = 22
EM_ARM = 40
EM_X86_64 = 62
EM_AARCH64 = 183
EM_RISCV = 243
EM_LOONGARCH = 258


@dataclass(frozen=True)
class ElfHeader:
    """What the ELF header and program headers say."""

    elf_class: int  # 32 or 64
    little_endian: bool
    machine: int
    flags: int
    interpreter: Optional[str]  # the PT_INTERP path, None for a static executable
    e_type: int = 0  # ET_EXEC 2, ET_DYN 3
    shoff: int = 0  # section header table: offset, entry size, count, index of the name table
    shentsize: int = 0
    shnum: int = 0
    shstrndx: int = 0


class _BoundedReader:
    """Reads from a file at given offsets, refusing to read more than ``MAX_READ`` in all."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._size = size
        self._budget = MAX_READ

    def read(self, offset: int, length: int, what: str) -> bytes:
        if offset < 0 or length < 0 or offset + length > self._size:
            raise ElfError(f"{what} lies outside the file ({offset}+{length} > {self._size})")
        if length > self._budget:
            raise ElfError(f"{what} is too large to read ({length} bytes)")
        self._budget -= length
        self._f.seek(offset)
        data = self._f.read(length)
        if len(data) != length:
            raise ElfError(f"{what} is truncated")
        return data


def parse_elf(f: BinaryIO, size: int) -> ElfHeader:
    """Parse an open ELF file of ``size`` bytes; see ``read_elf`` for a path."""
    reader = _BoundedReader(f, size)
    ident = reader.read(0, 16, "ELF identification")
    if ident[:4] != b"\x7fELF":
        raise ElfError("not an ELF file (bad magic)")
    ei_class, ei_data = ident[4], ident[5]
    if ei_class not in (1, 2):
        raise ElfError(f"unknown ELF class {ei_class}")
    if ei_data not in (1, 2):
        raise ElfError(f"unknown ELF byte order {ei_data}")
    end = "<" if ei_data == 1 else ">"
    if ei_class == 1:
        hdr_fmt, ph_fmt = end + "HHIIIIIHHHHHH", end + "IIIIIIII"
    else:
        hdr_fmt, ph_fmt = end + "HHIQQQIHHHHHH", end + "IIQQQQQQ"
    hdr_size = struct.calcsize(hdr_fmt)
    (e_type, machine, _version, _entry, phoff, shoff, flags, _ehsize, phentsize, phnum, *sh) = struct.unpack(
        hdr_fmt, reader.read(16, hdr_size, "ELF header")
    )
    ph_size = struct.calcsize(ph_fmt)
    if phnum and phentsize < ph_size:
        raise ElfError(f"program header entry size {phentsize} is smaller than {ph_size}")
    table = reader.read(phoff, phentsize * phnum, "program header table") if phnum else b""
    interpreter: Optional[str] = None
    for i in range(phnum):
        fields = struct.unpack_from(ph_fmt, table, i * phentsize)
        if ei_class == 1:
            p_type, p_offset, p_filesz = fields[0], fields[1], fields[4]
        else:
            p_type, p_offset, p_filesz = fields[0], fields[2], fields[5]
        if p_type != _PT_INTERP:
            continue
        if interpreter is not None:
            raise ElfError("more than one PT_INTERP")
        if not 1 < p_filesz <= _MAX_INTERP:
            raise ElfError(f"PT_INTERP size {p_filesz} is not plausible")
        raw = reader.read(p_offset, p_filesz, "PT_INTERP")
        if raw[-1:] != b"\x00" or b"\x00" in raw[:-1]:
            raise ElfError("PT_INTERP is not a NUL-terminated string")
        try:
            interpreter = raw[:-1].decode("ascii")
        except UnicodeDecodeError:
            raise ElfError("PT_INTERP is not ASCII") from None
    return ElfHeader(
        elf_class=32 if ei_class == 1 else 64,
        little_endian=ei_data == 1,
        machine=machine,
        flags=flags,
        interpreter=interpreter,
        e_type=e_type,
        shoff=shoff,
        shentsize=sh[0],
        shnum=sh[1],
        shstrndx=sh[2],
    )


def read_elf(path: str) -> ElfHeader:
    """Read the ELF header and PT_INTERP of ``path``.

    Only a regular file is read: a FIFO would block, a device never end, and merely opening some devices
    does something (``/dev/watchdog``). So the path is checked before it is opened, then opened without
    blocking and checked again on the descriptor, so nothing swapped in between can block the read.
    A missing or unreadable file, or a path with a NUL in it, is an ``ElfError`` too, so callers need one
    ``except``.
    """
    return parse_regular(path, parse_elf, ElfError)
