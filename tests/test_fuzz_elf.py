"""Hostile ELF files made from real musl binaries: a header, an ``ElfError`` or a ``LoaderError``, no crash.

The bases are real: Debian's musl loader (``/usr/lib/x86_64-linux-musl/libc.so``, i.e.
``/lib/ld-musl-x86_64.so.1``), a ``musl-gcc`` dynamic and a static build, and the foreign-arch loaders of
``tests/realparts.py`` when that module provides them. Each example applies a few mutations the way a
truncated download or a hostile image would: truncations, bogus e_phoff / e_phnum / e_phentsize /
p_offset / p_filesz, a PT_INTERP without its NUL, huge sizes, a wrong class or byte order, random bytes.
Reads go through a counting file object, so the cap is measured, not assumed.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alpinetags._elf.elffile import MAX_READ, ElfError, ElfHeader, parse_elf, read_elf
from alpinetags._system.musl import MAX_LOADER_SIZE, musllinux_platforms, read_musl_version, run_musl_version
from alpinetags.errors import LoaderError
from tests.fuzzing import EXAMPLES, fuzz_settings
from tests.parts_hostile import Entry, Shape

LOADER_EXAMPLES = max(EXAMPLES // 5, 10)
DEBIAN_LOADER = Path("/usr/lib/x86_64-linux-musl/libc.so")
FOREIGN_ARCHES = ("i386", "arm64", "armhf", "s390x", "ppc64el")
HELLO = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'


@dataclass(frozen=True)
class Layout:
    """Where the fields the mutations aim at sit in a base file, found here independently of elffile."""

    data: bytes
    elf64: bool
    little: bool
    phoff: int
    phentsize: int
    phnum: int
    interp: tuple[int, int] | None  # PT_INTERP (offset, size)
    interp_index: int = -1  # which program header is PT_INTERP

    @classmethod
    def of(cls, data: bytes) -> Layout:
        elf64, little = data[4] == 2, data[5] == 1
        e = "<" if little else ">"
        if elf64:
            phoff = struct.unpack_from(e + "Q", data, 0x20)[0]
            phentsize, phnum = struct.unpack_from(e + "HH", data, 0x36)
        else:
            phoff = struct.unpack_from(e + "I", data, 0x1C)[0]
            phentsize, phnum = struct.unpack_from(e + "HH", data, 0x2A)
        interp, interp_index = None, -1
        for i in range(phnum):
            at = phoff + i * phentsize
            if struct.unpack_from(e + "I", data, at)[0] == 3:
                if elf64:
                    off, size = (
                        struct.unpack_from(e + "Q", data, at + 8)[0],
                        struct.unpack_from(e + "Q", data, at + 32)[0],
                    )
                else:
                    off, size = (
                        struct.unpack_from(e + "I", data, at + 4)[0],
                        struct.unpack_from(e + "I", data, at + 16)[0],
                    )
                interp, interp_index = (off, size), i
        return cls(data, elf64, little, phoff, phentsize, phnum, interp, interp_index)

    # (offset, width) of the header fields, by class
    def header_field(self, name: str) -> tuple[int, int]:
        table64 = {"phoff": (0x20, 8), "shoff": (0x28, 8), "phentsize": (0x36, 2), "phnum": (0x38, 2)}
        table32 = {"phoff": (0x1C, 4), "shoff": (0x20, 4), "phentsize": (0x2A, 2), "phnum": (0x2C, 2)}
        return (table64 if self.elf64 else table32)[name]

    def phdr_field(self, index: int, name: str) -> tuple[int, int]:
        table64 = {"type": (0, 4), "offset": (8, 8), "filesz": (32, 8)}
        table32 = {"type": (0, 4), "offset": (4, 4), "filesz": (16, 4)}
        off, width = (table64 if self.elf64 else table32)[name]
        return self.phoff + index * self.phentsize + off, width


def _compile(dest: Path, *flags: str) -> bytes:
    if shutil.which("musl-gcc") is None:
        pytest.fail("musl-gcc is missing: apt-get install musl-tools (scripts/test installs it)")
    src = dest.with_suffix(".c")
    src.write_text(HELLO)
    subprocess.run(["musl-gcc", *flags, "-o", str(dest), str(src)], check=True, capture_output=True)
    return dest.read_bytes()


def _foreign_loaders() -> dict[str, bytes]:
    """The Debian musl loaders of other arches, if tests/realparts.py offers them yet."""
    try:
        from tests import realparts
    except ImportError:
        return {}
    get = getattr(realparts, "musl_loader", None)
    if get is None:
        return {}
    return {f"loader-{arch}": Path(get(arch)).read_bytes() for arch in FOREIGN_ARCHES}


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Layout]:
    if not DEBIAN_LOADER.is_file():
        pytest.fail(f"{DEBIAN_LOADER} is missing: apt-get install musl (scripts/test installs it)")
    tmp = tmp_path_factory.mktemp("musl-builds")
    raw = {
        "debian-loader": DEBIAN_LOADER.read_bytes(),
        "musl-gcc-dynamic": _compile(tmp / "dynamic"),
        "musl-gcc-static": _compile(tmp / "static", "-static"),
        **_foreign_loaders(),
    }
    return {name: Layout.of(data) for name, data in raw.items()}


def test_bases_read_as_expected(bases: dict[str, Layout]) -> None:
    """The unmutated bases, against facts known independently of the reader."""
    assert read_elf(str(DEBIAN_LOADER)).interpreter is None  # the loader is its own interpreter
    assert bases["musl-gcc-dynamic"].interp is not None
    for name, layout in bases.items():
        header = parse_elf(io.BytesIO(layout.data), len(layout.data))
        assert header.elf_class == (64 if layout.elf64 else 32), name
        assert header.little_endian == layout.little, name
        if layout.interp is None:
            assert header.interpreter is None, name
        else:
            off, size = layout.interp
            assert header.interpreter == layout.data[off : off + size - 1].decode(), name


class CountingFile:
    """A file object that counts the bytes handed out; what parse_elf reads through."""

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)
        self.bytes_read = 0
        self.reads = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def read(self, n: int = -1) -> bytes:
        assert n >= 0, "the reader must always ask for a bounded amount"
        out = self._f.read(n)
        self.bytes_read += len(out)
        self.reads += 1
        return out


INTERESTING = [
    0, 1, 2, 3, 7, 8, 0x34, 0x38, 0x40, 0xFF, 0x100, 0xFFFF, 0x10000, MAX_READ - 1, MAX_READ, MAX_READ + 1,
    0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 2**63 - 1, 2**63, 2**64 - 1,
]  # fmt: skip
HEADER_FIELDS = ("phoff", "shoff", "phentsize", "phnum")
PHDR_FIELDS = ("type", "offset", "filesz")


def _put(buf: bytearray, layout: Layout, at: int, width: int, value: int) -> None:
    if at < 0 or at + width > len(buf):
        return
    fmt = {2: "H", 4: "I", 8: "Q"}[width]
    buf[at : at + width] = struct.pack(
        ("<" if layout.little else ">") + fmt, value & ((1 << (8 * width)) - 1)
    )


def mutate(layout: Layout, code: bytes) -> tuple[bytes, int]:
    """Apply the mutations spelled by ``code`` to a copy of the base; return (data, size to claim).

    One drawn byte string is decoded into operations: cheap to draw in bulk, and hypothesis still
    mutates and shrinks it. Every 4 bytes: an operation and three argument bytes.
    """
    buf = bytearray(layout.data)
    claimed_extra = 0
    for i in range(0, len(code) - 3, 4):
        op, a, b, c = code[i : i + 4]
        value = INTERESTING[b % len(INTERESTING)] if c < 192 else (b << 8 | c) * (a + 1)
        kind = op % 10
        if kind == 0:  # truncate: mostly inside the headers, sometimes anywhere
            end = (a << 8 | b) % 4096 if c < 200 else len(buf) * c // 255
            del buf[end:]
        elif kind in (1, 2):  # a bogus header field
            at, width = layout.header_field(HEADER_FIELDS[a % len(HEADER_FIELDS)])
            _put(buf, layout, at, width, value)
        elif kind in (3, 4):  # a bogus program header field
            at, width = layout.phdr_field(a % max(layout.phnum, 1), PHDR_FIELDS[op % len(PHDR_FIELDS)])
            _put(buf, layout, at, width, 3 if op & 0x80 and width == 4 else value)
        elif kind == 5:  # wrong class or byte order, or a bad version byte
            buf[4 + a % 3 : 5 + a % 3] = bytes([b % 4])
        elif kind == 6 and layout.interp:  # PT_INTERP without its NUL, or its string damaged
            off, size = layout.interp
            if off + size <= len(buf):
                buf[off + size - 1 - (a % 4) if b & 1 else off + a % size] = 0x58 if c & 1 else c
        elif kind == 7 and layout.interp:  # PT_INTERP pointed at the very end of the file
            _put(buf, layout, *layout.phdr_field(layout.interp_index, "offset"), len(buf) - (a % 8))
        elif kind == 8:  # random bytes in the first 4 KB
            at = (a << 8 | b) % 4096
            if at < len(buf):
                buf[at] = c
        else:  # the caller claims a size larger than the file (it shrank after the stat)
            claimed_extra = value % (1 << 40)
    return bytes(buf), len(buf) + claimed_extra


def check_header(header: ElfHeader) -> None:
    assert header.elf_class in (32, 64)
    if header.interpreter is not None:
        assert isinstance(header.interpreter, str)
        assert "\x00" not in header.interpreter and len(header.interpreter) < 4096
        assert header.interpreter.isascii()


def test_fuzzed_elf_headers(bases: dict[str, Layout]) -> None:
    names = sorted(bases)
    outcomes: dict[str, int] = {"header": 0, "error": 0}
    most_read = 0

    @fuzz_settings()
    @given(base=st.sampled_from(names), code=st.binary(min_size=4, max_size=24))
    def run(base: str, code: bytes) -> None:
        nonlocal most_read
        data, claimed = mutate(bases[base], code)
        f = CountingFile(data)
        try:
            header = parse_elf(f, claimed)  # type: ignore[arg-type]
        except ElfError as exc:
            assert str(exc)
            outcomes["error"] += 1
        else:
            check_header(header)
            outcomes["header"] += 1
        most_read = max(most_read, f.bytes_read)
        assert f.bytes_read <= MAX_READ, f"read {f.bytes_read} bytes, cap {MAX_READ}"

    run()
    assert outcomes["header"] + outcomes["error"] >= EXAMPLES
    assert outcomes["header"] and outcomes["error"], outcomes  # both kinds of outcome were reached
    print(f"ELF fuzz on {names}: {outcomes}, most bytes read by one parse: {most_read} (cap {MAX_READ})")


def _named(layout: Layout, name: str) -> tuple[bytes, int]:
    """One classic corruption of ``layout``, by name; (data, size to claim)."""
    buf = bytearray(layout.data)
    assert layout.interp is not None
    interp_index = layout.interp_index
    if name == "truncated-to-ident":
        del buf[16:]
    elif name == "truncated-in-program-headers":
        del buf[layout.phoff + 10 :]
    elif name == "phnum-65535":
        _put(buf, layout, *layout.header_field("phnum"), 0xFFFF)
    elif name == "phoff-2^64-1":
        _put(buf, layout, *layout.header_field("phoff"), 2**64 - 1)
    elif name == "phentsize-1":
        _put(buf, layout, *layout.header_field("phentsize"), 1)
    elif name == "interp-filesz-2^63":
        _put(buf, layout, *layout.phdr_field(interp_index, "filesz"), 2**63)
    elif name == "interp-offset-past-the-end":
        _put(buf, layout, *layout.phdr_field(interp_index, "offset"), len(buf) - 3)
    elif name == "interp-without-nul":
        off, size = layout.interp
        buf[off + size - 1] = ord("X")
    elif name == "class-3":
        buf[4] = 3
    elif name == "byte-order-swapped":
        buf[5] = 2 if layout.little else 1
    return bytes(buf), len(buf)


@pytest.mark.parametrize(
    "name",
    [
        "truncated-to-ident",
        "truncated-in-program-headers",
        "phnum-65535",
        "phoff-2^64-1",
        "phentsize-1",
        "interp-filesz-2^63",
        "interp-offset-past-the-end",
        "interp-without-nul",
        "class-3",
        "byte-order-swapped",
    ],
)
def test_named_corruptions_are_elf_errors(bases: dict[str, Layout], name: str) -> None:
    """The classic corruptions one by one on the dynamic build: each is an ElfError, within the cap."""
    data, claimed = _named(bases["musl-gcc-dynamic"], name)
    f = CountingFile(data)
    with pytest.raises(ElfError):
        parse_elf(f, claimed)  # type: ignore[arg-type]
    assert f.bytes_read <= MAX_READ


def test_a_lying_size_is_harmless(bases: dict[str, Layout]) -> None:
    """A caller claiming a terabyte (the file shrank after the stat) still reads only what is needed."""
    layout = bases["musl-gcc-dynamic"]
    f = CountingFile(layout.data)
    header = parse_elf(f, 1 << 40)  # type: ignore[arg-type]
    assert header.interpreter == "/lib/ld-musl-x86_64.so.1"
    assert f.bytes_read <= MAX_READ
    short = CountingFile(layout.data[: layout.phoff + 8])
    with pytest.raises(ElfError, match="truncated"):
        parse_elf(short, len(layout.data))  # type: ignore[arg-type]


# --- the loader's version, read from mutated loaders ---------------------------------------------------

_BANNER = b"musl libc ("
_HOSTILE_VERSIONS = [b"1.99999.0", b"999.999.999", b"1.2.3.4", b"2.0.0", b"1.2.3-git", b"0.0.0", b"1.2.4"]


def mutate_loader(data: bytes, version_at: int, banner_at: int, code: bytes) -> bytes:
    """Damage a real loader around the places a version reader looks at."""
    buf = bytearray(data)
    for i in range(0, len(code) - 2, 3):
        op, a, b = code[i : i + 3]
        kind = op % 6
        near = (version_at, banner_at)[op & 1]
        if kind == 0:  # truncate near the banner or the version, or anywhere
            end = near + (a - 128) * (b % 8 + 1) if op & 2 else len(buf) * a // 255
            del buf[max(end, 0) :]
        elif kind == 1:  # overwrite a byte near them
            at = near + a - 128
            if 0 <= at < len(buf):
                buf[at] = b
        elif kind == 2:  # a second, hostile version string somewhere near
            text = b"\x00" + _HOSTILE_VERSIONS[a % len(_HOSTILE_VERSIONS)] + b"\x00"
            at = max(near + (b - 128) * 64, 0)
            buf[at : at + len(text)] = text
        elif kind == 3:  # the real version replaced
            text = _HOSTILE_VERSIONS[a % len(_HOSTILE_VERSIONS)]
            buf[version_at : version_at + 5] = text
        elif kind == 4:  # the banner damaged
            if banner_at + len(_BANNER) <= len(buf):
                buf[banner_at + a % len(_BANNER)] = b
        else:  # bytes appended
            buf.extend(bytes([a]) * (b * 16))
    return bytes(buf)


def test_real_loader_version_read_equals_run() -> None:
    """The oracle for the loader fuzz: the static read agrees with running the loader."""
    assert read_musl_version(str(DEBIAN_LOADER)) == run_musl_version("/lib/ld-musl-x86_64.so.1")


_VERSION_OUT_RE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}")


def test_fuzzed_loader_versions(shm: Path, bases: dict[str, Layout]) -> None:
    """Every real loader (x86_64 and the foreign ones) damaged where a version reader looks."""
    loaders = {}
    for name, layout in bases.items():
        if "loader" not in name:
            continue
        path = shm / f"{name}.so"
        path.write_bytes(layout.data)
        version = read_musl_version(str(path)).encode()
        at = re.search(rb"(?<![0-9A-Za-z._+~-])" + re.escape(version) + rb"\x00", layout.data)
        banner_at = layout.data.find(_BANNER)
        assert at and banner_at > 0, name
        loaders[name] = (layout.data, at.start(), banner_at, version.decode())
    names = sorted(loaders)
    path = shm / "ld-musl-x86_64.so.1"
    ran = []

    @fuzz_settings(LOADER_EXAMPLES)
    @given(base=st.sampled_from(names), code=st.binary(min_size=3, max_size=15))
    def run(base: str, code: bytes) -> None:
        data, version_at, banner_at, _ = loaders[base]
        path.write_bytes(mutate_loader(data, version_at, banner_at, code))
        try:
            found = read_musl_version(str(path))
        except LoaderError as exc:
            assert str(exc)
            ran.append("error")
        else:
            assert _VERSION_OUT_RE.match(found), found
            assert len(musllinux_platforms(found, "x86_64")) <= 1000
            ran.append(found)
        try:
            check_header(read_elf(str(path)))
        except ElfError:
            pass

    run()
    assert len(ran) >= LOADER_EXAMPLES
    assert "error" in ran and any(v in ran for *_, v in loaders.values())
    print(f"loader fuzz on {names}: {len(ran)} cases, {ran.count('error')} LoaderError")


def test_loader_larger_than_the_cap_is_refused_unread(shm: Path) -> None:
    path = shm / "ld-musl-x86_64.so.1"
    with open(path, "wb") as f:  # sparse: costs no memory
        f.write(DEBIAN_LOADER.read_bytes())
        f.truncate(MAX_LOADER_SIZE + 1)
    with pytest.raises(LoaderError, match="too large"):
        read_musl_version(str(path))


# --- hostile shapes (issue 23) --------------------------------------------------------------------------

SHAPE_EXAMPLES = max(EXAMPLES // 50, 10)


def test_fuzzed_hostile_shapes() -> None:
    """Objects built to be expensive (``fuzzing.hostile_shapes``), some with bytes flipped: the reader
    gives each needed name and RPATH entry once, refuses exactly the shapes past a cap, and otherwise
    ends in ``ElfError``; never another exception."""
    from alpinetags import _limits as limits
    from alpinetags._elf.elfdynamic import parse_dynamic_symbols
    from alpinetags.errors import InputRefused
    from tests.fuzzing import hostile_shapes
    from tests.parts_hostile import elf_object

    outcomes = {"read": 0, "refused": 0, "error": 0}

    @fuzz_settings(SHAPE_EXAMPLES)
    @given(
        shape=hostile_shapes(),
        flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=3),
    )
    def run(shape: Shape, flips: list[tuple[int, int]]) -> None:
        data = bytearray(elf_object(shape))
        for at, value in flips:
            data[at % len(data)] = value
        needed = tuple(dict.fromkeys(shape.needed))
        rpath = tuple(dict.fromkeys(p for p in shape.rpath.split(":") if p))
        past_cap = len(needed) > limits.MAX_NEEDED or len(rpath) > limits.MAX_RPATH_ENTRIES
        try:
            got = parse_dynamic_symbols(io.BytesIO(bytes(data)), len(data))
        except InputRefused as exc:
            assert str(exc).startswith("refused: ") and "exceeds the cap" in str(exc)
            assert past_cap or flips
            outcomes["refused"] += 1
            return
        except ElfError:
            assert flips, "an unflipped object is readable"
            outcomes["error"] += 1
            return
        outcomes["read"] += 1
        assert len(got.needed) == len(set(got.needed)) <= limits.MAX_NEEDED
        if not flips:
            assert not past_cap
            assert (got.needed, got.rpath, got.soname) == (needed, rpath, shape.soname)
            assert got.required == frozenset(shape.undefined)

    run()
    assert outcomes["read"] and outcomes["refused"], outcomes
    print(f"hostile ELF shapes: {outcomes}")


def test_fuzzed_zip_layouts(tmp_path: Path) -> None:
    """Central directories that lie (``fuzzing.zip_layouts``): entries sharing data are always refused,
    a declared size the data does not have is refused when the member is read, an honest zip is scanned;
    never another exception."""
    from alpinetags._elf.elfscan import scan_wheel
    from alpinetags._limits import per_check
    from alpinetags.errors import InputRefused
    from tests.fuzzing import zip_layouts
    from tests.parts_hostile import raw_zip

    outcomes = {"scanned": 0, "refused": 0}
    path = tmp_path / "w.whl"

    @fuzz_settings(SHAPE_EXAMPLES)
    @given(layout=zip_layouts())
    def run(layout: tuple[list[bytes], list[Entry]]) -> None:
        blobs, entries = layout
        raw_zip(path, blobs, entries)
        shared = len({e.blob for e in entries}) < len(entries) or len({e.name for e in entries}) < len(
            entries
        )
        lying = any(e.declared not in (None, len(blobs[e.blob])) for e in entries)
        try:
            with per_check():
                scan_wheel(str(path))
        except InputRefused as exc:
            assert str(exc).startswith("refused: ")
            assert shared or lying, exc
            outcomes["refused"] += 1
            return
        assert not shared, "entries sharing data were scanned"
        outcomes["scanned"] += 1

    run()
    assert outcomes["scanned"] and outcomes["refused"], outcomes
    print(f"zip layouts: {outcomes}")


def _patched_dynamic(data: bytes, tag: int, value: int) -> bytes:
    """``data`` (a little-endian ELF64 object) with the value of dynamic tag ``tag`` replaced."""
    h = parse_elf(io.BytesIO(data), len(data))
    assert h.dynamic is not None and h.elf_class == 64 and h.little_endian
    out = bytearray(data)
    offset, size = h.dynamic
    for at in range(offset, offset + size, 16):
        if struct.unpack_from("<q", out, at)[0] == tag:
            struct.pack_into("<Q", out, at + 8, value)
            return bytes(out)
    raise AssertionError(f"no dynamic tag {tag}")


def test_relocation_tables_are_read_within_caps(tmp_path: Path) -> None:
    """The relocations of an object with TLS are read (pendulum 3.0.0's aarch64 module, a real one); a
    table claiming more entries than ``limits.MAX_RELOCATIONS`` is refused before it is read, one placed
    outside the file is an ``ElfError``, and the check's budget bounds all objects together."""
    from alpinetags import _limits as limits
    from alpinetags._elf.elfdynamic import parse_dynamic_symbols
    from alpinetags._elf.elfrelocs import DT_RELA, DT_RELASZ
    from alpinetags.errors import InputRefused
    from tests import parts_dlprobe

    whl = parts_dlprobe.wheel("pendulum-3.0.0-cp311-cp311-musllinux_1_1_aarch64")
    data = (
        parts_dlprobe.unpack(whl, tmp_path) / "pendulum/_pendulum.cpython-311-aarch64-linux-musl.so"
    ).read_bytes()
    assert parse_dynamic_symbols(io.BytesIO(data), len(data)).static_tls == ("",)
    huge = _patched_dynamic(data, DT_RELASZ, (limits.MAX_RELOCATIONS + 1) * 24)
    with pytest.raises(InputRefused, match=r"DT_RELA: 4,000,001 relocations exceeds the cap"):
        parse_dynamic_symbols(io.BytesIO(huge), len(huge))
    away = _patched_dynamic(data, DT_RELA, 1 << 40)
    with pytest.raises(ElfError, match="DT_RELA lies in no PT_LOAD segment"):
        parse_dynamic_symbols(io.BytesIO(away), len(away))
    with limits.per_check() as budget:
        budget.charge(
            "relocations", limits.MAX_CHECK_RELOCATIONS - 10, limits.MAX_CHECK_RELOCATIONS, "relocations"
        )
        with pytest.raises(InputRefused, match="relocations in one check"):
            parse_dynamic_symbols(io.BytesIO(data), len(data))
