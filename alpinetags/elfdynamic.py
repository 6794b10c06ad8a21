"""Dynamic symbols of an ELF object: what it needs from others, and what it offers them.

A musl binary fails to load when an undefined, non-weak name in its ``.dynsym`` is defined by no loaded
object; musl has no symbol versions, so the *names* are the whole contract. This module reads them.

The ELF header comes from ``alpinetags.elffile.parse_elf``; here only the section header table,
``.dynsym``, its string table and ``.dynamic`` (for ``DT_NEEDED``/``DT_SONAME``) are read, each at an offset
and size checked against the file and against a cap, so a lying file ends in ``ElfError``, never in a huge
read or an exception of another type.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from .arch import elf_arch
from .elffile import ElfHeader, parse_elf
from .errors import ElfError
from .safefile import parse_regular

#: No table (section headers, .dynsym, .dynstr, .dynamic) larger than this is read.
MAX_TABLE = 64 * 1024 * 1024
MAX_SECTIONS = 65535

SHT_DYNAMIC = 6
SHT_DYNSYM = 11
SHN_UNDEF = 0
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
STT_SECTION, STT_FILE = 3, 4
STV_DEFAULT, STV_PROTECTED = 0, 3
DT_NULL, DT_NEEDED, DT_SONAME = 0, 1, 14


@dataclass(frozen=True)
class DynamicSymbols:
    """The dynamic linking facts of one ELF object."""

    arch: str  # wheel-tag arch ("x86_64"), "" if not one wheels are built for
    interpreter: str  # PT_INTERP, "" for a shared library
    soname: str
    needed: tuple[str, ...]  # DT_NEEDED, in order
    required: frozenset[str]  # undefined, global: must be found or loading fails
    weak: frozenset[str]  # undefined, weak: resolve to 0 when missing
    exported: frozenset[str]  # defined, global or weak, default or protected visibility


def _read(f: BinaryIO, size: int, offset: int, length: int, what: str) -> bytes:
    if offset < 0 or length < 0 or offset + length > size:
        raise ElfError(f"{what} lies outside the file ({offset}+{length} > {size})")
    if length > MAX_TABLE:
        raise ElfError(f"{what} is too large to read ({length} bytes)")
    f.seek(offset)
    data = f.read(length)
    if len(data) != length:
        raise ElfError(f"{what} is truncated")
    return data


def _name(strtab: bytes, offset: int, what: str) -> str:
    if offset >= len(strtab):
        raise ElfError(f"{what}: name offset {offset} outside the string table")
    end = strtab.find(b"\x00", offset)
    if end < 0:
        raise ElfError(f"{what}: name at {offset} is not NUL-terminated")
    return strtab[offset:end].decode("utf-8", "replace")


@dataclass(frozen=True)
class _Section:
    type: int
    offset: int
    size: int
    link: int
    entsize: int


def _sections(f: BinaryIO, size: int, h: ElfHeader) -> list[_Section]:
    if h.shnum == 0 or h.shoff == 0:
        # sstrip-style objects: the loader still reads PT_DYNAMIC, but this reader would see no names,
        # and "needs nothing" would be a wrong answer, so say so instead.
        raise ElfError("no section header table (stripped with sstrip?): dynamic symbols not read")
    end = "<" if h.little_endian else ">"
    fmt = end + ("IIIIIIIIII" if h.elf_class == 32 else "IIQQQQIIQQ")
    need = struct.calcsize(fmt)
    if h.shentsize < need:
        raise ElfError(f"section header entry size {h.shentsize} is smaller than {need}")
    if h.shnum > MAX_SECTIONS:
        raise ElfError(f"{h.shnum} sections is not plausible")
    table = _read(f, size, h.shoff, h.shentsize * h.shnum, "section header table")
    out = []
    for i in range(h.shnum):
        _n, s_type, _fl, _addr, s_off, s_size, s_link, _info, _align, s_entsize = struct.unpack_from(
            fmt, table, i * h.shentsize
        )
        out.append(_Section(s_type, s_off, s_size, s_link, s_entsize))
    return out


def _linked_strtab(f: BinaryIO, size: int, sections: list[_Section], sec: _Section, what: str) -> bytes:
    if not 0 < sec.link < len(sections):
        raise ElfError(f"{what} links to section {sec.link}, which does not exist")
    strsec = sections[sec.link]
    return _read(f, size, strsec.offset, strsec.size, f"string table of {what}")


def parse_dynamic_symbols(f: BinaryIO, size: int) -> DynamicSymbols:
    """Read the dynamic symbols of the open ELF file ``f`` of ``size`` bytes."""
    h = parse_elf(f, size)
    end = "<" if h.little_endian else ">"
    sections = _sections(f, size, h)
    required: set[str] = set()
    weak: set[str] = set()
    exported: set[str] = set()
    needed: list[str] = []
    soname = ""
    if h.elf_class == 32:
        sym_fmt, sym_fields = end + "IIIBBH", (0, 3, 4, 5)  # name, value, size, info, other, shndx
        dyn_fmt = end + "iI"
    else:
        sym_fmt, sym_fields = end + "IBBHQQ", (0, 1, 2, 3)  # name, info, other, shndx, value, size
        dyn_fmt = end + "qQ"
    sym_size = struct.calcsize(sym_fmt)
    dyn_size = struct.calcsize(dyn_fmt)
    for sec in sections:
        if sec.type == SHT_DYNSYM:
            if sec.entsize and sec.entsize != sym_size:
                raise ElfError(f".dynsym entry size {sec.entsize} is not {sym_size}")
            syms = _read(f, size, sec.offset, sec.size - sec.size % sym_size, ".dynsym")
            strtab = _linked_strtab(f, size, sections, sec, ".dynsym")
            i_name, i_info, i_other, i_shndx = sym_fields
            for entry in struct.iter_unpack(sym_fmt, syms):
                st_name, st_info = entry[i_name], entry[i_info]
                if not st_name:
                    continue
                bind, typ = st_info >> 4, st_info & 0xF
                if typ in (STT_SECTION, STT_FILE) or bind not in (STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE):
                    continue
                name = _name(strtab, st_name, ".dynsym")
                if entry[i_shndx] == SHN_UNDEF:
                    (weak if bind == STB_WEAK else required).add(name)
                elif entry[i_other] & 3 in (STV_DEFAULT, STV_PROTECTED):
                    exported.add(name)
        elif sec.type == SHT_DYNAMIC:
            dyn = _read(f, size, sec.offset, sec.size - sec.size % dyn_size, ".dynamic")
            strtab = _linked_strtab(f, size, sections, sec, ".dynamic")
            for tag, val in struct.iter_unpack(dyn_fmt, dyn):
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    needed.append(_name(strtab, val, "DT_NEEDED"))
                elif tag == DT_SONAME:
                    soname = _name(strtab, val, "DT_SONAME")
    return DynamicSymbols(
        arch=elf_arch(h),
        interpreter=h.interpreter or "",
        soname=soname,
        needed=tuple(needed),
        required=frozenset(required - exported),
        weak=frozenset(weak - exported),
        exported=frozenset(exported),
    )


def read_dynamic_symbols(path: str) -> DynamicSymbols:
    """The dynamic symbols of the ELF file at ``path`` (a regular file; links are followed)."""
    return parse_regular(path, parse_dynamic_symbols, ElfError)
