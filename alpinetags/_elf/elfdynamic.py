"""Dynamic linking facts of an ELF object: what it needs from others, where it says to look, and what it
offers them.

A musl binary fails to load when a ``DT_NEEDED`` library is not found along its search path, or when an
undefined, non-weak name in its ``.dynsym`` is defined by no loaded object; musl has no symbol versions, so
the *names* are the whole contract. glibc adds one more: each ``GLIBC_2.34``-style version an object asks
for (``.gnu.version_r``) must be defined by the library it names (``.gnu.version_d``). This module reads
all of that; ``alpinetags._load.native`` decides what it means for a given root.

The ELF header comes from ``alpinetags._elf.elffile.parse_elf``; here only the section header table,
``.dynsym``, its string table and ``.dynamic`` (for ``DT_NEEDED``/``DT_SONAME``) are read, each at an offset
and size checked against the file and against a cap, so a lying file ends in ``ElfError``, never in a huge
read or an exception of another type.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate, compress, filterfalse
from operator import methodcaller
from typing import BinaryIO, NamedTuple, Optional

from alpinetags import _limits as limits
from alpinetags._elf import elfrelocs
from alpinetags._elf.arch import SHT_ARM_ATTRIBUTES, arm_cpu_arch, elf_arch
from alpinetags._elf.elffile import EM_ARM, ElfHeader, parse_elf
from alpinetags._safefile import parse_regular
from alpinetags.errors import ElfError, InputRefused

#: No table (section headers, .dynsym, .dynstr, .dynamic) larger than this is read.
MAX_TABLE = 64 * 1024 * 1024
MAX_SECTIONS = limits.MAX_SECTIONS
#: No name (symbol, soname, RPATH) longer than this is read: a name that long is not NUL-terminated.
MAX_NAME = 64 * 1024

SHT_DYNAMIC = 6
SHT_DYNSYM = 11
SHN_UNDEF = 0
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
STT_SECTION, STT_FILE, STT_TLS = 3, 4, 6
STV_DEFAULT, STV_PROTECTED = 0, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
SHT_GNU_VERDEF, SHT_GNU_VERNEED = 0x6FFFFFFD, 0x6FFFFFFE
#: Dynamic tags kept with their values for ``alpinetags._load.loaderfeatures`` (what a loader must support):
#: DT_FLAGS, DT_RELR, DT_FLAGS_1.
LOADER_TAGS = frozenset({30, 36, 0x6FFFFFFB})
VER_FLG_BASE, VER_FLG_WEAK = 1, 2
_STARTS_PYINIT = methodcaller("startswith", "PyInit_")
#: No version table has more entries than this (glibc's libc.so.6 defines about 40).
MAX_VERSION_ENTRIES = 4096


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
    rpath: tuple[str, ...] = ()  # DT_RPATH entries, unexpanded ("$ORIGIN/../lib")
    runpath: tuple[str, ...] = ()  # DT_RUNPATH entries, unexpanded
    #: glibc: (file named in .gnu.version_r, the non-weak versions wanted from it), in file order.
    version_needs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: glibc: the versions this object defines (.gnu.version_d), without its own base name.
    version_defs: frozenset[str] = frozenset()
    machine: int = 0  # e_machine, so that objects of the same ISA can be told apart even if arch is ""
    elf_class: int = 0  # 32 or 64
    loader_tags: tuple[tuple[int, int], ...] = ()  # (tag, value) of .dynamic for the tags in LOADER_TAGS
    #: What its initial-exec TLS relocations resolve (``elfrelocs.static_tls_targets``): ``""`` for its
    #: own TLS, else an undefined TLS symbol's name. Read only when the object has TLS.
    static_tls: tuple[str, ...] = ()
    #: Whether its symbol string table holds ``PyInit_`` at all (``False`` settles ``is_python_extension``
    #: without a look at its exports; ``True`` only says to look).
    mentions_pyinit: bool = field(default=True, repr=False, compare=False)

    @cached_property
    def is_python_extension(self) -> bool:
        """Whether this is a CPython extension module: it exports ``PyInit_<name>`` (or Python 2's
        ``init<name>`` is not considered). Such a module gets the C API from the interpreter that loads it.
        (Asked for every object checked, of up to tens of thousands of names: once, with a C-level test,
        and not at all when the string table has no ``PyInit_``.)"""
        return self.mentions_pyinit and any(map(_STARTS_PYINIT, self.exported))


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


class _Strings:
    """A string table whose names are decoded once per offset, and at most ``MAX_NAME`` bytes each, so that
    a million symbols naming one huge string cost one read of it; the bytes decoded are charged to the
    check's budget."""

    def __init__(self, table: bytes, budget: limits.Budget) -> None:
        self.table = table
        self.budget = budget
        self.names: dict[int, str] = {}
        self.starts: Optional[dict[int, str]] = None  # offset -> name, for names_at (once split)

    def name(self, offset: int, what: str) -> str:
        found = self.names.get(offset)
        if found is not None:
            return found
        if offset >= len(self.table):
            raise ElfError(f"{what}: name offset {offset} outside the string table")
        end = self.table.find(b"\x00", offset, offset + MAX_NAME + 1)
        if end < 0:
            raise ElfError(f"{what}: name at {offset} is not NUL-terminated within {MAX_NAME} bytes")
        self.budget.charge("symbol name bytes", end - offset, limits.MAX_CHECK_NAME_BYTES, "bytes")
        found = self.names[offset] = self.table[offset:end].decode("utf-8", "replace")
        return found

    def names_at(self, offsets: Iterable[int], what: str, entries: int) -> set[str]:
        """The names at many offsets at once (a symbol table's worth), as ``name`` would give them one by
        one. The table is split at its NULs once (the whole table decoded and charged), which names every
        string that starts right after a NUL; an offset into the middle of one (a linker's shared suffix)
        takes the one-by-one path. Not split, so one by one: a table with far more strings than symbols
        (its pieces could outweigh the table many times: ``entries`` is the size of the symbol table) or
        with a string longer than ``MAX_NAME``."""
        offsets = list(offsets)
        if self.starts is None:
            self.starts = self._split(entries)
        if not self.starts:
            return {self.name(o, what) for o in offsets}
        found = set(map(self.starts.get, offsets))
        if None in found:
            found.discard(None)
            found.update(self.name(o, what) for o in filterfalse(self.starts.__contains__, offsets))
        return found  # type: ignore[return-value]  # None discarded above

    def _split(self, wanted: int) -> dict[int, str]:
        table = self.table
        if table.count(0) > 4 * wanted + 1024:
            return {}
        if table.isascii():  # every real table: one decode and one split; a length in characters is in bytes
            names = table.decode("ascii").split("\x00")
            lengths = list(map(len, names))
        else:
            raw = table.split(b"\x00")
            lengths = list(map(len, raw))
            names = [p.decode("utf-8", "replace") for p in raw]
        names.pop()  # after the last NUL: empty, or a string that is not NUL-terminated
        lengths.pop()
        if max(lengths, default=0) > MAX_NAME:
            return {}
        self.budget.charge("symbol name bytes", len(table), limits.MAX_CHECK_NAME_BYTES, "bytes")
        starts = accumulate(map((1).__add__, lengths), initial=0)
        return dict(zip(starts, names, strict=False))  # starts has one more


def _name(strtab: bytes, offset: int, what: str) -> str:
    if offset >= len(strtab):
        raise ElfError(f"{what}: name offset {offset} outside the string table")
    end = strtab.find(b"\x00", offset, offset + MAX_NAME + 1)
    if end < 0:
        raise ElfError(f"{what}: name at {offset} is not NUL-terminated")
    return strtab[offset:end].decode("utf-8", "replace")


def _paths(value: str, what: str) -> tuple[str, ...]:
    """The entries of an RPATH/RUNPATH string, each once, in order; past ``MAX_RPATH_ENTRIES``: refused."""
    entries = tuple(dict.fromkeys(p for p in value.split(":") if p))
    if len(entries) > limits.MAX_RPATH_ENTRIES:
        raise limits.refused(what, len(entries), limits.MAX_RPATH_ENTRIES, "entries")
    return entries


def _walk_versions(
    table: bytes, strtab: bytes, end: str, count: int, need: bool
) -> Iterator[tuple[str, int, list[tuple[str, int]]]]:
    """The entries of ``.gnu.version_r`` (``need``) or ``.gnu.version_d``: (file or "", flags, [(name,
    flags)]). Both are linked lists by byte offsets; every offset is checked, and a loop ends at
    ``MAX_VERSION_ENTRIES``."""
    head_fmt, aux_fmt = (end + "HHIII", end + "IHHII") if need else (end + "HHHHIII", end + "II")
    head_size, aux_size = struct.calcsize(head_fmt), struct.calcsize(aux_fmt)
    at, seen = 0, 0
    for _ in range(min(count, MAX_VERSION_ENTRIES)):
        if at < 0 or at + head_size > len(table):
            raise ElfError("version table entry lies outside its section")
        if need:
            _v, cnt, file_off, aux, nxt = struct.unpack_from(head_fmt, table, at)
            file, flags = _name(strtab, file_off, ".gnu.version_r"), 0
        else:
            _v, flags, _ndx, cnt, _hash, aux, nxt = struct.unpack_from(head_fmt, table, at)
            file = ""
        names = []
        aux_at = at + aux
        for _ in range(cnt):
            seen += 1
            if seen > MAX_VERSION_ENTRIES or aux_at < 0 or aux_at + aux_size > len(table):
                raise ElfError("version table auxiliary entry lies outside its section")
            if need:
                _hash2, vflags, _other, name_off, aux_next = struct.unpack_from(aux_fmt, table, aux_at)
            else:
                name_off, aux_next = struct.unpack_from(aux_fmt, table, aux_at)
                vflags = 0
            names.append((_name(strtab, name_off, "version name"), vflags))
            if not aux_next:
                break
            aux_at += aux_next
        yield file, flags, names
        if not nxt:
            break
        at += nxt


# Records private to this module are NamedTuples: one costs a seventh of a frozen dataclass to define
# (at every start, issue 21), and nothing outside reads them.
class _Section(NamedTuple):
    type: int
    offset: int
    size: int
    link: int
    entsize: int
    info: int = 0


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
        raise limits.refused("section header table", h.shnum, MAX_SECTIONS, "sections")
    table = _read(f, size, h.shoff, h.shentsize * h.shnum, "section header table")
    out = []
    for i in range(h.shnum):
        _n, s_type, _fl, _addr, s_off, s_size, s_link, s_info, _align, s_entsize = struct.unpack_from(
            fmt, table, i * h.shentsize
        )
        out.append(_Section(s_type, s_off, s_size, s_link, s_entsize, s_info))
    return out


def _linked_strtab(
    f: BinaryIO, size: int, sections: list[_Section], sec: _Section, what: str, budget: limits.Budget
) -> _Strings:
    if not 0 < sec.link < len(sections):
        raise ElfError(f"{what} links to section {sec.link}, which does not exist")
    strsec = sections[sec.link]
    return _Strings(_read(f, size, strsec.offset, strsec.size, f"string table of {what}"), budget)


def _first(sections: list[_Section], sh_type: int) -> Optional[_Section]:
    """The first section of a type: a linker writes one ``.dynsym`` and one of each version table, and
    any further one (several headers may describe one table) is not read at all."""
    return next((s for s in sections if s.type == sh_type), None)


_NAMED = {DT_SONAME: "DT_SONAME", DT_RPATH: "DT_RPATH", DT_RUNPATH: "DT_RUNPATH"}


class _Dynamic(NamedTuple):
    needed: tuple[str, ...] = ()
    soname: str = ""
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    loader_tags: tuple[tuple[int, int], ...] = ()
    reloc_tags: tuple[tuple[int, int], ...] = ()  # where the relocation tables are (elfrelocs.RELOC_TAGS)


def _dynamic(f: BinaryIO, size: int, h: ElfHeader, budget: limits.Budget) -> _Dynamic:
    """What the loader reads from the one ``PT_DYNAMIC`` table, up to its ``DT_NULL``: the needed names
    (each once, in order), the soname and the search paths. Its strings come from ``DT_STRTAB`` (an
    address, found in the file through the PT_LOAD that maps it), as the loader takes them. No
    ``PT_DYNAMIC``: a static program, which needs nothing."""
    if h.dynamic is None:
        return _Dynamic()
    end = "<" if h.little_endian else ">"
    fmt = end + ("iI" if h.elf_class == 32 else "qQ")
    entry = struct.calcsize(fmt)
    offset, filesz = h.dynamic
    count = min(filesz // entry, limits.MAX_DYNAMIC_ENTRIES + 1)
    entries = []
    for tag, val in struct.iter_unpack(fmt, _read(f, size, offset, count * entry, "PT_DYNAMIC")):
        if tag == DT_NULL:
            break
        entries.append((tag, val))
    else:
        if count > limits.MAX_DYNAMIC_ENTRIES:
            raise limits.refused("PT_DYNAMIC", filesz // entry, limits.MAX_DYNAMIC_ENTRIES, "entries")
    values = dict(entries)  # the last of each tag, as musl's decode_vec keeps
    loader_tags = tuple((t, v) for t, v in entries if t in LOADER_TAGS)
    reloc_tags = tuple((t, v) for t, v in entries if t in elfrelocs.RELOC_TAGS)
    if not any(t in (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH) for t, _ in entries):
        return _Dynamic(loader_tags=loader_tags, reloc_tags=reloc_tags)
    if DT_STRTAB not in values or DT_STRSZ not in values:
        raise ElfError("PT_DYNAMIC names strings but has no DT_STRTAB/DT_STRSZ")
    strsz = values[DT_STRSZ]
    at = h.file_offset(values[DT_STRTAB], strsz)
    if at is None:
        raise ElfError("DT_STRTAB lies in no PT_LOAD segment of the file")
    strings = _Strings(_read(f, size, at, strsz, "DT_STRTAB"), budget)
    needed: dict[str, None] = {}
    for tag, val in entries:
        if tag == DT_NEEDED:
            needed[strings.name(val, "DT_NEEDED")] = None
            if len(needed) > limits.MAX_NEEDED:
                total = len({v for t, v in entries if t == DT_NEEDED})
                raise limits.refused("DT_NEEDED", total, limits.MAX_NEEDED, "distinct offsets")
    rpath = _paths(strings.name(values[DT_RPATH], "DT_RPATH"), "DT_RPATH") if DT_RPATH in values else ()
    runpath = (
        _paths(strings.name(values[DT_RUNPATH], "DT_RUNPATH"), "DT_RUNPATH") if DT_RUNPATH in values else ()
    )
    soname = strings.name(values[DT_SONAME], "DT_SONAME") if DT_SONAME in values else ""
    return _Dynamic(tuple(needed), soname, rpath, runpath, loader_tags, reloc_tags)


def _byte_table(keep: Callable[[int], bool]) -> bytes:
    """A ``bytes.translate`` table: 1 for the byte values ``keep`` accepts, 0 for the others."""
    return bytes(1 if keep(b) else 0 for b in range(256))


def _wanted_bind_type(binds: tuple[int, ...]) -> bytes:
    return _byte_table(lambda b: b >> 4 in binds and b & 0xF not in (STT_SECTION, STT_FILE))


_GLOBAL = _wanted_bind_type((STB_GLOBAL, STB_GNU_UNIQUE))  # on st_info
_WEAK = _wanted_bind_type((STB_WEAK,))
_TLS = _byte_table(lambda b: b >> 4 in (STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE) and b & 0xF == STT_TLS)
_VISIBLE = _byte_table(lambda b: b & 3 in (STV_DEFAULT, STV_PROTECTED))  # on st_other
_NONZERO = _byte_table(bool)
_ZERO = _byte_table(lambda b: b == 0)


def _int(mask: bytes) -> int:
    return int.from_bytes(mask, "little")


class _SymbolColumns(NamedTuple):
    names: array[int]  # st_name of every entry, in order
    required: bytes  # per entry 1 or 0: named, undefined, global (or unique), not a section or file
    weak: bytes  # named, undefined, weak
    exported: bytes  # named, defined, global or weak, default or protected visibility
    tls_import: bool  # some named undefined global or weak symbol is a TLS one


def _symbol_columns(syms: bytes, entry: int, elf_class: int, little_endian: bool) -> _SymbolColumns:
    """Which ``.dynsym`` entries the loader must resolve, may leave at 0, or offers, decided for the whole
    table at once: each field is cut out as a column (``syms[at::entry]``), classified by
    ``bytes.translate`` and the columns combined as integers, so the cost per symbol is a few byte
    operations in C rather than a round of Python; tens of thousands of symbols per object are common."""
    info_at, shndx_at = (4, 6) if elf_class == 64 else (12, 14)
    info, other = syms[info_at::entry], syms[info_at + 1 :: entry]
    count = len(info)
    shndx = _int(syms[shndx_at::entry]) | _int(syms[shndx_at + 1 :: entry])
    st_name = _int(syms[0::entry]) | _int(syms[1::entry]) | _int(syms[2::entry]) | _int(syms[3::entry])
    named = _int(st_name.to_bytes(count, "little").translate(_NONZERO))
    undefined = _int(shndx.to_bytes(count, "little").translate(_ZERO)) & named
    defined = named & ~undefined
    strong, weak = _int(info.translate(_GLOBAL)), _int(info.translate(_WEAK))
    exported = (strong | weak) & defined & _int(other.translate(_VISIBLE))
    names = array("I")
    names.frombytes(syms)
    if little_endian != (sys.byteorder == "little"):
        names.byteswap()
    return _SymbolColumns(
        names=names[0 :: entry // 4],
        required=(strong & undefined).to_bytes(count, "little"),
        weak=(weak & undefined).to_bytes(count, "little"),
        exported=exported.to_bytes(count, "little"),
        tls_import=bool(_int(info.translate(_TLS)) & undefined),
    )


def parse_dynamic_symbols(f: BinaryIO, size: int) -> DynamicSymbols:
    """Read the dynamic symbols of the open ELF file ``f`` of ``size`` bytes.

    Bounded whatever the file says: one dynamic table (``PT_DYNAMIC``, as the loader reads it), one
    ``.dynsym``, one table of each version kind, at most ``limits.MAX_*`` sections, symbols, needed names
    and RPATH entries, symbols and name bytes charged to the check's budget; past a cap,
    ``InputRefused``."""
    budget = limits.current()
    h = parse_elf(f, size)
    end = "<" if h.little_endian else ">"
    sections = _sections(f, size, h)
    dynamic = _dynamic(f, size, h, budget)
    required: set[str] = set()
    weak: set[str] = set()
    exported: set[str] = set()
    version_needs: list[tuple[str, tuple[str, ...]]] = []
    version_defs: set[str] = set()
    if h.elf_class == 32:
        sym_fmt, sym_fields = end + "IIIBBH", (0, 3, 4, 5)  # name, value, size, info, other, shndx
    else:
        sym_fmt, sym_fields = end + "IBBHQQ", (0, 1, 2, 3)  # name, info, other, shndx, value, size
    sym_size = struct.calcsize(sym_fmt)
    sec = _first(sections, SHT_DYNSYM)
    syms, strtab, tls_import = b"", _Strings(b"", budget), False
    if sec is not None:
        if sec.entsize and sec.entsize != sym_size:
            raise ElfError(f".dynsym entry size {sec.entsize} is not {sym_size}")
        count = sec.size // sym_size
        if count > limits.MAX_SYMBOLS:
            raise limits.refused(".dynsym", count, limits.MAX_SYMBOLS, "symbols")
        budget.charge("symbols", count, limits.MAX_CHECK_SYMBOLS, "symbols")
        syms = _read(f, size, sec.offset, count * sym_size, ".dynsym")
        strtab = _linked_strtab(f, size, sections, sec, ".dynsym", budget)
        cols = _symbol_columns(syms, sym_size, h.elf_class, h.little_endian)
        required = strtab.names_at(compress(cols.names, cols.required), ".dynsym", count)
        weak = strtab.names_at(compress(cols.names, cols.weak), ".dynsym", count)
        exported = strtab.names_at(compress(cols.names, cols.exported), ".dynsym", count)
        tls_import = cols.tls_import
    for sh_type in (SHT_GNU_VERNEED, SHT_GNU_VERDEF):
        sec = _first(sections, sh_type)
        if sec is None:
            continue
        need = sh_type == SHT_GNU_VERNEED
        what = ".gnu.version_r" if need else ".gnu.version_d"
        table = _read(f, size, sec.offset, sec.size, what)
        vstrings = _linked_strtab(f, size, sections, sec, what, budget)
        for file, flags, names in _walk_versions(table, vstrings.table, end, sec.info, need):
            if need:
                wanted = tuple(n for n, vflags in names if not vflags & VER_FLG_WEAK)
                version_needs.append((file, wanted))
            elif not flags & VER_FLG_BASE and names:
                version_defs.add(names[0][0])  # the others name the versions it inherits from
    arm_cpu: Optional[int] = None
    sec = _first(sections, SHT_ARM_ATTRIBUTES) if h.machine == EM_ARM else None
    if sec is not None:
        arm_cpu = arm_cpu_arch(_read(f, size, sec.offset, min(sec.size, 4096), ".ARM.attributes"),
                               h.little_endian)  # fmt: skip
    static_tls: tuple[str, ...] = ()
    if h.tls or tls_import:

        def symbol_at(index: int) -> tuple[bool, str]:
            if (index + 1) * sym_size > len(syms):
                raise ElfError(f"a relocation names symbol {index}, which .dynsym does not have")
            entry = struct.unpack_from(sym_fmt, syms, index * sym_size)
            return entry[sym_fields[3]] != SHN_UNDEF, strtab.name(entry[sym_fields[0]], ".dynsym")

        static_tls = elfrelocs.static_tls_targets(f, size, h, dict(dynamic.reloc_tags), symbol_at, budget)
    return DynamicSymbols(
        arch=elf_arch(h, arm_cpu),
        interpreter=h.interpreter or "",
        soname=dynamic.soname,
        needed=dynamic.needed,
        required=frozenset(required - exported),
        weak=frozenset(weak - exported),
        exported=frozenset(exported),
        rpath=dynamic.rpath,
        runpath=dynamic.runpath,
        version_needs=tuple(version_needs),
        version_defs=frozenset(version_defs),
        machine=h.machine,
        elf_class=h.elf_class,
        loader_tags=dynamic.loader_tags,
        static_tls=static_tls,
        mentions_pyinit=b"PyInit_" in strtab.table,
    )


def read_dynamic_symbols(path: str) -> DynamicSymbols:
    """The dynamic symbols of the ELF file at ``path`` (a regular file; links are followed); a refusal
    names the path."""
    try:
        return parse_regular(path, parse_dynamic_symbols, ElfError)
    except InputRefused as exc:
        raise limits.within(exc, path) from None
