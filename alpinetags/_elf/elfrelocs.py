"""Initial-exec TLS, read where the loader meets it: in the dynamic relocations.

Code compiled for the initial-exec TLS model reaches a thread-local variable at a fixed offset from the
thread pointer, which the loader writes into the object through a TP-offset relocation
(``R_X86_64_TPOFF64``, ``R_AARCH64_TLS_TPREL64``, ...). Such an offset exists only for TLS in the static
block laid out at program start. musl's loader (from 1.1.20) refuses the relocation when the variable
belongs to an object loaded later by ``dlopen`` ("initial-exec TLS resolves to dynamic definition");
older loaders wrote an offset outside the block. The ``DF_STATIC_TLS`` flag that linkers set for such
objects is not what the loader reads, and not every toolchain sets it (pendulum 3.0.0's aarch64 module
has the relocations and no flag), so the relocations are the evidence.

Only objects with TLS are read (a ``PT_TLS`` segment, or an undefined ``STT_TLS`` symbol): others cannot
have such a relocation that resolves anywhere. The tables are found as the loader finds them, through
``PT_DYNAMIC`` (``DT_RELA``, ``DT_REL``, ``DT_JMPREL``), bounded by ``limits.MAX_RELOCATIONS`` per object
and by the check's budget; each is scanned for the arch's TP-offset types without a Python step per entry.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Callable, Iterator
from typing import BinaryIO

from alpinetags import _limits as limits
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
from alpinetags.errors import ElfError

DT_PLTRELSZ, DT_RELA, DT_RELASZ, DT_REL, DT_RELSZ, DT_PLTREL, DT_JMPREL = 2, 7, 8, 17, 18, 20, 23
#: The dynamic tags this module needs from ``PT_DYNAMIC``.
RELOC_TAGS = frozenset({DT_PLTRELSZ, DT_RELA, DT_RELASZ, DT_REL, DT_RELSZ, DT_PLTREL, DT_JMPREL})

#: The relocation types musl's loader treats as a TP offset (its ``REL_TPOFF``/``REL_TPOFF_NEG``), by
#: e_machine, checked against glibc's <elf.h>: R_X86_64_TPOFF64, R_386_TLS_TPOFF and R_386_TLS_TPOFF32,
#: R_AARCH64_TLS_TPREL, R_ARM_TLS_TPOFF32, R_PPC_TPREL32, R_PPC64_TPREL64, R_390_TLS_TPOFF,
#: R_RISCV_TLS_TPREL32/64, R_LARCH_TLS_TPREL32/64. MIPS (whose 64-bit r_info is laid out differently) is
#: not read: there only the ``DF_STATIC_TLS`` flag speaks.
TPOFF_TYPES: dict[int, tuple[int, ...]] = {
    EM_X86_64: (18,),
    EM_386: (14, 37),
    EM_AARCH64: (1030,),
    EM_ARM: (19,),
    EM_PPC: (73,),
    EM_PPC64: (73,),
    EM_S390: (56,),
    EM_RISCV: (10, 11),
    EM_LOONGARCH: (10, 11),
}

#: (symbol index) -> (whether this object defines it, its name): from the object's ``.dynsym``.
SymbolAt = Callable[[int], tuple[bool, str]]


def _tables(h: ElfHeader, tags: dict[int, int]) -> Iterator[tuple[str, int, int, bool]]:
    """(name, address, size in bytes, has addends) of each relocation table the loader applies."""
    if DT_RELA in tags:
        yield "DT_RELA", tags[DT_RELA], tags.get(DT_RELASZ, 0), True
    if DT_REL in tags:
        yield "DT_REL", tags[DT_REL], tags.get(DT_RELSZ, 0), False
    if DT_JMPREL in tags:
        yield "DT_JMPREL", tags[DT_JMPREL], tags.get(DT_PLTRELSZ, 0), tags.get(DT_PLTREL) == DT_RELA


def _hits(data: bytes, entsize: int, h: ElfHeader, types: tuple[int, ...]) -> Iterator[int]:
    """The symbol index of every entry of ``data`` whose type is one of ``types``. The type column is cut
    out with a strided slice and searched by ``index``/``find``, so a table of a million relative
    relocations costs no Python step per entry."""
    n = len(data) // entsize
    if h.elf_class == 64:
        words = array.array("I", data[: n * entsize])
        if h.little_endian != (sys.byteorder == "little"):
            words.byteswap()
        step = entsize // 4
        type_col, sym_col = (2, 3) if h.little_endian else (3, 2)  # r_info: sym << 32 | type
        col, syms = words[type_col::step], words[sym_col::step]
        for t in types:
            at = 0
            while True:
                try:
                    at = col.index(t, at)
                except ValueError:
                    break
                yield syms[at]
                at += 1
        return
    info = 4  # r_info: sym << 8 | type
    types_32 = data[info if h.little_endian else info + 3 : n * entsize : entsize]
    for t in types:
        if t > 0xFF:
            continue
        at = types_32.find(bytes((t,)))
        while at >= 0:
            start = at * entsize + info
            word = data[start : start + 4]
            yield (int.from_bytes(word, "little") if h.little_endian else int.from_bytes(word, "big")) >> 8
            at = types_32.find(bytes((t,)), at + 1)


def static_tls_targets(
    f: BinaryIO, size: int, h: ElfHeader, tags: dict[int, int], symbol_at: SymbolAt, budget: limits.Budget
) -> tuple[str, ...]:
    """What the object's TP-offset relocations resolve: ``""`` for its own TLS (no symbol, or a symbol it
    defines), else the name of the undefined TLS symbol (some other object's). Sorted, each once; ``()``
    for an arch whose types are not known here."""
    types = TPOFF_TYPES.get(h.machine)
    if not types:
        return ()
    entry = 8 if h.elf_class == 64 else 4
    found: set[str] = set()
    for what, address, length, addends in _tables(h, tags):
        entsize = entry * (3 if addends else 2)
        count = length // entsize
        if count == 0:
            continue
        if count > limits.MAX_RELOCATIONS:
            raise limits.refused(what, count, limits.MAX_RELOCATIONS, "relocations")
        budget.charge("relocations", count, limits.MAX_CHECK_RELOCATIONS, "relocations")
        at = h.file_offset(address, count * entsize)
        if at is None:
            raise ElfError(f"{what} lies in no PT_LOAD segment of the file")
        if at + count * entsize > size:
            raise ElfError(f"{what} lies outside the file")
        f.seek(at)
        data = f.read(count * entsize)
        if len(data) != count * entsize:
            raise ElfError(f"{what} is truncated")
        for index in _hits(data, entsize, h, types):
            if index == 0:
                found.add("")
                continue
            defined, name = symbol_at(index)
            found.add("" if defined else name)
    return tuple(sorted(found))
