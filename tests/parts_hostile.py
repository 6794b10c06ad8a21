"""Hostile inputs, generated at test time (nothing large is kept in the repository): ELF objects whose
tables are built to be expensive, zip archives whose central directory lies, and a way to run a command
under an address-space limit.

The ELF writer lays out a small x86-64 shared object the way a linker does (one PT_LOAD mapping the file,
PT_DYNAMIC, ``.dynstr``, ``.dynsym``, ``.dynamic``, section headers), with knobs for what an attacker
controls: how many ``DT_NEEDED`` entries and which names, the RPATH, how many section headers describe
the one dynamic table. ``tests/test_hostile.py`` checks that the real musl loader lists what this writer
writes, so the shapes are ones a loader accepts.
"""

from __future__ import annotations

import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

#: The address-space limit every hostile case runs under (the assertion is that it suffices).
ADDRESS_SPACE = 2 * 1024 * 1024 * 1024

_DT = {
    "NULL": 0,
    "NEEDED": 1,
    "STRTAB": 5,
    "SYMTAB": 6,
    "STRSZ": 10,
    "SYMENT": 11,
    "SONAME": 14,
    "RPATH": 15,
    "HASH": 4,
}


def _align(n: int, to: int = 8) -> int:
    return (n + to - 1) // to * to


@dataclass(frozen=True)
class Shape:
    """What the ELF writer writes: needed names (in order, repeats kept), an RPATH, a soname, undefined
    symbols, and how many section headers describe the dynamic table and the symbol table."""

    needed: Sequence[str] = ()
    rpath: str = ""
    soname: str = ""
    undefined: Sequence[str] = ()
    dynamic_headers: int = 1
    dynsym_headers: int = 1


def elf_object(shape: Shape) -> bytes:
    """An ELF64 little-endian x86-64 ``ET_DYN`` object of ``shape``."""
    strings = bytearray(b"\0")
    offsets: dict[str, int] = {}

    def name(s: str) -> int:
        if s not in offsets:
            offsets[s] = len(strings)
            strings.extend(s.encode() + b"\0")
        return offsets[s]

    needed = [name(n) for n in shape.needed]
    rpath = name(shape.rpath) if shape.rpath else None
    soname = name(shape.soname) if shape.soname else None
    syms = [name(s) for s in shape.undefined]
    phoff, phnum = 64, 2
    str_off = phoff + 56 * phnum
    sym_off = _align(str_off + len(strings))
    symtab = bytes(24) + b"".join(struct.pack("<IBBHQQ", n, (1 << 4) | 2, 0, 0, 0, 0) for n in syms)
    hash_off = _align(sym_off + len(symtab))
    hashtab = struct.pack("<II", 1, len(syms) + 1) + bytes(4 * (len(syms) + 2))  # one empty bucket
    dyn_off = _align(hash_off + len(hashtab))
    entries = [(_DT["NEEDED"], n) for n in needed]
    if soname is not None:
        entries.append((_DT["SONAME"], soname))
    if rpath is not None:
        entries.append((_DT["RPATH"], rpath))
    entries += [
        (_DT["STRTAB"], str_off),
        (_DT["STRSZ"], len(strings)),
        (_DT["SYMTAB"], sym_off),
        (_DT["HASH"], hash_off),
    ]
    entries += [(_DT["SYMENT"], 24), (_DT["NULL"], 0)]
    dynamic = b"".join(struct.pack("<qQ", t, v) for t, v in entries)
    shstr = b"\0.dynstr\0.dynsym\0.dynamic\0.shstrtab\0"
    shstr_off = dyn_off + len(dynamic)
    sh_off = _align(shstr_off + len(shstr))
    sections = [bytes(64)]

    def section(nm: int, typ: int, off: int, size: int, link: int, entsize: int, info: int = 0) -> bytes:
        return struct.pack("<IIQQQQIIQQ", nm, typ, 2, off, off, size, link, info, 8, entsize)

    sections.append(section(1, 3, str_off, len(strings), 0, 0))  # .dynstr, index 1
    sections += [section(9, 11, sym_off, len(symtab), 1, 24, 1)] * shape.dynsym_headers
    sections += [section(17, 6, dyn_off, len(dynamic), 1, 16)] * shape.dynamic_headers
    sections.append(struct.pack("<IIQQQQIIQQ", 26, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0))
    shnum = len(sections)
    size = sh_off + 64 * shnum
    header = b"\x7fELF\x02\x01\x01" + bytes(9)
    header += struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, sh_off, 0, 64, 56, phnum, 64, shnum, shnum - 1
    )
    phdrs = struct.pack("<IIQQQQQQ", 1, 6, 0, 0, 0, size, size, 0x1000)
    phdrs += struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_off, dyn_off, len(dynamic), len(dynamic), 8)
    out = bytearray(size)
    for off, blob in (
        (0, header),
        (phoff, phdrs),
        (str_off, strings),
        (sym_off, symtab),
        (hash_off, hashtab),
        (dyn_off, dynamic),
    ):
        out[off : off + len(blob)] = blob
    out[shstr_off : shstr_off + len(shstr)] = shstr
    out[sh_off:] = b"".join(sections)
    return bytes(out)


# --------------------------------------------------------------------------------------------------
# zip archives written by hand, so the central directory can say what the data does not


@dataclass(frozen=True)
class Entry:
    """One central-directory entry: its name, which stored blob it points at, and the sizes it claims
    (``None``: the blob's own)."""

    name: str
    blob: int = 0
    declared: Optional[int] = None
    mode: int = 0o100644


@dataclass(frozen=True)
class Deflated:
    """A member's data already deflated (raw deflate), with the CRC and size of what it inflates to."""

    data: bytes
    crc: int
    size: int

    @classmethod
    def of(cls, blob: bytes) -> Deflated:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return cls(c.compress(blob) + c.flush(), zlib.crc32(blob), len(blob))


def deflated_zeros(head: bytes, size: int) -> Deflated:
    """``head`` and then zeros up to ``size`` bytes, deflated a MiB at a time (never all in memory)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc, left = [c.compress(head)], zlib.crc32(head), size - len(head)
    chunk = bytes(1 << 20)
    while left > 0:
        piece = chunk[: min(left, len(chunk))]
        parts.append(c.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(c.flush())
    return Deflated(b"".join(parts), crc, size)


def raw_zip(path: Path, blobs: Sequence[Union[bytes, Deflated]], entries: Sequence[Entry]) -> Path:
    """A zip holding each of ``blobs`` once (deflated), with ``entries`` in the central directory: several
    entries may name one blob (a bomb's overlap), and an entry may claim a size its data does not have
    (over 4 GiB through a zip64 extra field, as zipfile reads it)."""
    out = bytearray()
    where = []
    for i, blob in enumerate(blobs):
        d = blob if isinstance(blob, Deflated) else Deflated.of(blob)
        local = next((e.name for e in entries if e.blob == i), f"blob{i}").encode()
        where.append((len(out), d))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, d.crc, len(d.data), d.size,
                           len(local), 0) + local + d.data  # fmt: skip
    central = bytearray()
    for e in entries:
        offset, d = where[e.blob]
        usize = d.size if e.declared is None else e.declared
        extra = b""
        if usize >= 0xFFFFFFFF:
            extra, usize = struct.pack("<HHQ", 1, 8, usize), 0xFFFFFFFF
        name = e.name.encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 45, 0, 8, 0, 0x21, d.crc,
                               len(d.data), usize, len(name), len(extra), 0, 0, 0, e.mode << 16,
                               offset) + name + extra  # fmt: skip
    start = len(out)
    out += central
    count = len(entries)
    if count > 0xFFFF:  # zip64 end records: the only place a count this large fits
        record = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central), start)
        out += struct.pack("<IIQI", 0x07064B50, 0, record, 1)
        count = 0xFFFF
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def wheel_metadata(name: str, version: str, tag: str) -> dict[str, bytes]:
    """The dist-info members a wheel needs (RECORD without hashes: hostile wheels need not be honest)."""
    dist = f"{name}-{version}.dist-info"
    return {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": f"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: false\nTag: {tag}\n".encode(),
        f"{dist}/RECORD": b"",
    }


def bomb_wheel(
    path: Path,
    member: Union[bytes, Deflated],
    names: Sequence[str],
    tag: str,
    *,
    declared: Optional[int] = None,
) -> Path:
    """A wheel whose ``names`` all point at one stored ``member`` (the overlap of a zip bomb; one name
    repeated: a duplicate entry), each claiming ``declared`` bytes if given."""
    base = path.name[: -len(".whl")].split("-")
    meta = wheel_metadata(base[0], base[1], tag)
    blobs: list[Union[bytes, Deflated]] = [member, *meta.values()]
    entries = [Entry(n, 0, declared) for n in names]
    entries += [Entry(n, i + 1) for i, n in enumerate(meta)]
    return raw_zip(path, blobs, entries)


def plain_wheel(
    path: Path, files: dict[str, bytes], tag: str, modes: Optional[dict[str, int]] = None
) -> Path:
    """A well-formed wheel (each member once) holding ``files``, with unix ``modes`` where given."""
    base = path.name[: -len(".whl")].split("-")
    members = {**files, **wheel_metadata(base[0], base[1], tag)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.external_attr = ((modes or {}).get(name, 0o100644)) << 16
            info.create_system = 3
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return path


# --------------------------------------------------------------------------------------------------
# running a case under the limit


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_limited(
    argv: Sequence[str], env: Optional[dict[str, str]] = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` under ``ADDRESS_SPACE`` of address space. The timeout only keeps a hang from
    stalling the suite; the limit is what the tests assert (a case that needs more fails with
    ``MemoryError`` and a traceback)."""
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, env=env, preexec_fn=_limit, check=False
    )


def alpinetags(*args: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    """``python -m alpinetags ARGS`` under the limit."""
    return run_limited([sys.executable, "-m", "alpinetags", *args], env=env)
