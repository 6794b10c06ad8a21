"""A small, bounded ELF header reader: class, byte order, machine, and the PT_INTERP path.

It reads at most ``MAX_READ`` bytes of any file, whatever the header claims, and every way a file
can be short, lying or hostile ends in ``ElfError``. Only the program headers are read from a file:
that is all PEP 656 needs (the interpreter's loader names the libc). ``read_only_ranges`` reads the
section headers too (of a musl loader), to tell the data a program uses from notes the toolchain
appended (``.comment`` says ``GCC: (Alpine 9.3.0) 9.3.0``, which is no musl version); it says where
that data is, and the caller reads only what it needs of it.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO, Optional

from alpinetags._safefile import parse_regular
from alpinetags.errors import ElfError

#: No input makes the reader read more than this many bytes in all.
MAX_READ = 64 * 1024
_MAX_INTERP = 4096
_PT_INTERP = 3
_PT_LOAD = 1
_PT_DYNAMIC = 2
_PT_TLS = 7
_PF_X, _PF_W = 1, 2
_SHT_PROGBITS = 1
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR = 1, 2, 4
#: No ELF file alpinetags reads has more sections than this (musl's loaders have about 20).
MAX_SECTIONS = 4096
#: Section header entries are 40 (ELF32) or 64 (ELF64) bytes; a larger one is allowed up to this.
_MAX_SHENTSIZE = 128
#: Section names are for messages; a name table larger than this is not read (a loader's is ~250 bytes).
_MAX_NAMES = 64 * 1024

EM_386 = 3
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
    #: PT_LOAD segments as (file offset, file size, flags): what the program maps from the file.
    loads: tuple[tuple[int, int, int], ...] = ()
    #: PT_LOAD segments as (virtual address, file offset, file size): where an address lies in the file.
    maps: tuple[tuple[int, int, int], ...] = ()
    #: PT_DYNAMIC as (file offset, file size), ``None`` without one: the one table a loader reads (musl
    #: takes the last PT_DYNAMIC when there are several; so does this).
    dynamic: Optional[tuple[int, int]] = None
    #: Whether a PT_TLS segment is there: the object defines thread-local storage of its own.
    tls: bool = False

    def file_offset(self, address: int, length: int) -> Optional[int]:
        """Where ``length`` bytes at virtual ``address`` lie in the file (a PT_LOAD maps them), else None."""
        for vaddr, offset, filesz in self.maps:
            if vaddr <= address and address + length <= vaddr + filesz:
                return offset + (address - vaddr)
        return None


class _BoundedReader:
    """Reads from a file at given offsets, refusing to read more than ``budget`` (``MAX_READ``) in all."""

    def __init__(self, f: BinaryIO, size: int, budget: int = MAX_READ) -> None:
        self._f = f
        self._size = size
        self._budget = budget

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
    if reader.read(0, min(size, 4), "ELF magic") != b"\x7fELF":
        raise ElfError("not an ELF file (bad magic)")  # a script, text, anything short: say that first
    ident = reader.read(0, 16, "ELF identification")
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
    loads: list[tuple[int, int, int]] = []
    maps: list[tuple[int, int, int]] = []
    dynamic: Optional[tuple[int, int]] = None
    tls = False
    for i in range(phnum):
        fields = struct.unpack_from(ph_fmt, table, i * phentsize)
        if ei_class == 1:
            p_type, p_offset, p_vaddr, p_filesz, p_flags = (
                fields[0],
                fields[1],
                fields[2],
                fields[4],
                fields[6],
            )
        else:
            p_type, p_offset, p_vaddr, p_filesz, p_flags = (
                fields[0],
                fields[2],
                fields[3],
                fields[5],
                fields[1],
            )
        if p_type == _PT_LOAD:
            loads.append((p_offset, p_filesz, p_flags))
            maps.append((p_vaddr, p_offset, p_filesz))
        elif p_type == _PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
        elif p_type == _PT_TLS:
            tls = True
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
        loads=tuple(loads),
        maps=tuple(maps),
        dynamic=dynamic,
        tls=tls,
    )


@dataclass(frozen=True)
class DataRange:
    """A stretch of a file the program maps read-only and does not execute (``.rodata``)."""

    start: int
    end: int
    name: str  # the section name, or "PT_LOAD" when the file has no section headers


def read_only_data(data: bytes) -> list[DataRange]:
    """``read_only_ranges`` of an ELF file already in memory."""
    return read_only_ranges(io.BytesIO(data), len(data))


def read_only_ranges(f: BinaryIO, size: int) -> list[DataRange]:
    """The read-only, non-executable data of the open ELF file ``f``: where a program keeps its constants.

    From the section headers: allocated ``PROGBITS`` sections that are neither writable nor executable
    (``.rodata``, ``.rodata.str1.1``, ...); never ``.comment`` or another non-allocated section, which
    the program never sees and the toolchain fills with its own version strings. A file stripped of its
    section headers falls back to its non-writable ``PT_LOAD`` segments (still nothing non-allocated).

    Only the headers are read, never the data itself: the ELF and program headers (``parse_elf``, at most
    ``MAX_READ`` bytes), the section header table (at most ``MAX_SECTIONS`` entries of at most
    ``_MAX_SHENTSIZE`` bytes) and the section name table (at most ``_MAX_NAMES`` bytes; names are for
    messages only, so a name table that cannot be read gives ``?``). Every range returned lies inside
    ``size`` bytes; every lying offset or size is an ``ElfError``.
    """
    header = parse_elf(f, size)
    if header.shnum == 0 or header.shoff == 0:
        out = [
            DataRange(off, off + filesz, "PT_LOAD")
            for off, filesz, flags in header.loads
            if not flags & _PF_W and 0 <= off and off + filesz <= size and filesz > 0
        ]
        if not out:
            raise ElfError("no section headers and no read-only PT_LOAD segment")
        return out
    if header.shnum > MAX_SECTIONS:
        raise ElfError(f"{header.shnum} section headers is not plausible")
    end = "<" if header.little_endian else ">"
    fmt = end + ("IIIIIIIIII" if header.elf_class == 32 else "IIQQQQIIQQ")
    entsize = struct.calcsize(fmt)
    if not entsize <= header.shentsize <= _MAX_SHENTSIZE:
        raise ElfError(f"section header entry size {header.shentsize} is not plausible (ELF says {entsize})")
    if header.shoff + header.shentsize * header.shnum > size:
        raise ElfError("the section header table lies outside the file")
    reader = _BoundedReader(f, size, MAX_SECTIONS * _MAX_SHENTSIZE + _MAX_NAMES)
    table = reader.read(header.shoff, header.shentsize * header.shnum, "the section header table")
    sections = [struct.unpack_from(fmt, table, i * header.shentsize) for i in range(header.shnum)]
    names = b""
    if header.shstrndx < header.shnum:
        names_at, names_size = sections[header.shstrndx][4:6]
        if 0 < names_size <= _MAX_NAMES and names_at + names_size <= size:
            names = reader.read(names_at, names_size, "the section name table")
    out = []
    for name_off, sh_type, flags, _addr, offset, sec_size, *_rest in sections:
        if sh_type != _SHT_PROGBITS or not flags & _SHF_ALLOC or flags & (_SHF_WRITE | _SHF_EXECINSTR):
            continue
        if offset + sec_size > size:
            raise ElfError(f"a read-only section lies outside the file ({offset}+{sec_size} > {size})")
        out.append(DataRange(offset, offset + sec_size, _section_name(names, name_off)))
    return out


def _section_name(names: bytes, name_off: int) -> str:
    """The name of a section from the name table (for messages only; ``?`` when it cannot be read)."""
    stop = names.find(b"\x00", name_off, name_off + 64)
    return names[name_off:stop].decode("ascii", "replace") if stop > name_off else "?"


def read_elf(path: str) -> ElfHeader:
    """Read the ELF header and PT_INTERP of ``path``.

    Only a regular file is read: a FIFO would block, a device never end, and merely opening some devices
    does something (``/dev/watchdog``). So the path is checked before it is opened, then opened without
    blocking and checked again on the descriptor, so nothing swapped in between can block the read.
    A missing or unreadable file, or a path with a NUL in it, is an ``ElfError`` too, so callers need one
    ``except``.
    """
    return parse_regular(path, parse_elf, ElfError)
