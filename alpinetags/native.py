"""Does every ELF object in a wheel, a folder or a file load on a given system? (``alpinetags check``)

A platform tag says which systems a wheel was built for; it cannot say which *libraries* the wheel expects
to find there. Alpine 3.17 replaced ``libssl.so.1.1`` by ``libssl.so.3``; a wheel tagged ``alpine_3_16``
is still accepted there by the tag policy, and fails at import. This module answers the question a loader
would answer, without running anything from the target: for each object it finds the ``DT_NEEDED``
libraries the way the target's loader would (musl: reserved libc names, libraries already loaded,
``RPATH``/``RUNPATH`` with ``$ORIGIN`` of the requester and of those that loaded it, then
``/etc/ld-musl-<arch>.path`` or ``/lib:/usr/local/lib:/usr/lib``; glibc: ``RPATH``, ``RUNPATH``,
``/etc/ld.so.conf`` and the default directories), follows symlinks *inside* the root
(``Target.resolve``), then checks every undefined, non-weak symbol against what the loaded objects export
(and, on glibc, every ``GLIBC_2.x`` version asked for against the versions the library defines).

Layers, so others can reuse the lower ones: ``read_system`` (what the root is), ``resolve_soname`` (one
name, one search path), ``check_objects`` (ELF objects already read), ``check_paths``/``check_wheel``
(files on disk). ``system_sonames_needed`` is what a wheel needs from the system (what is not bundled).

Nothing from the target is executed: every fact is read from files. Hints for a missing soname (``apk add
so:libssl.so.3``) come from plugins (hook ``alpinetags_native_hints``), since the core knows no distro.
"""

from __future__ import annotations

import os
import posixpath
import sys
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional, Union

from .elfdynamic import DynamicSymbols, read_dynamic_symbols
from .elfscan import ElfObject, ScannedContainer, scan_paths, scan_wheel
from .errors import ConfigError, ElfError, LoaderError, OsReleaseError
from .model import Target

#: musl maps ``lib<name>.…`` of these to itself without a search (``ldso/dynlink.c``, "reserved").
MUSL_RESERVED = ("c", "pthread", "rt", "m", "dl", "util", "xnet")
#: musl's built-in search path, used when ``/etc/ld-musl-<arch>.path`` does not exist.
MUSL_DEFAULT_PATH = ("/lib", "/usr/local/lib", "/usr/lib")
#: glibc's trusted directories after ``/etc/ld.so.conf`` (64-bit first where they exist).
GLIBC_DEFAULT_PATH = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
#: Sonames that are the C library itself on glibc (the tag covers them, not the soname check).
GLIBC_CORE_SONAMES = (
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libresolv.so.2",
    "libanl.so.1",
    "libmvec.so.1",
)
#: Prefixes of the names the interpreter that loads an extension module provides (CPython's C API).
PYTHON_API_PREFIXES = ("Py", "_Py")
#: No ld.so.conf include chain deeper than this (a loop would be endless).
_MAX_CONF_DEPTH = 8
#: Where a library was found: ``("root", "/usr/lib/libssl.so.3")``, ``("host", path)`` or
#: ``(container path, member)``.
Location = tuple[str, str]
#: A plugin's (or caller's) hints for one missing soname on a system: ``["apk add so:libssl.so.3"]``.
HintFn = Callable[["System", str], Sequence[str]]


# --------------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ObjectVerdict:
    """Whether one ELF object loads on the system, and why not.

    ``resolved`` maps each soname loaded (the object's own and those of its dependencies) to where it was
    found: a path inside the root, or ``container!member`` for a library bundled in the wheel. The
    ``missing_*`` lists cover the whole dependency tree, since a dependency that fails fails the object;
    ``reasons`` says it the way the loader would, naming who needed what.
    """

    path: str
    arch: str
    libc: str  # "musl", "glibc", or "" if the object needs no libc
    needed: tuple[str, ...]
    resolved: tuple[tuple[str, str], ...] = ()
    missing_sonames: tuple[str, ...] = ()
    missing_symbols: tuple[str, ...] = ()
    missing_versions: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def loads(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "arch": self.arch,
            "libc": self.libc,
            "loads": self.loads,
            "needed": list(self.needed),
            "resolved": dict(self.resolved),
            "missing_sonames": list(self.missing_sonames),
            "missing_symbols": list(self.missing_symbols),
            "missing_versions": list(self.missing_versions),
            "reasons": list(self.reasons),
            "hints": list(self.hints),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class System:
    """What the check needs to know about the target root, all read from files in it.

    ``libc_path`` is the C library inside the root (musl's loader, or glibc's ``libc.so.6``);
    ``libc_exports`` what it defines. ``musl_path`` and ``glibc_dirs`` are the search paths of each
    loader; a root may have both (Debian with the ``musl`` package), and each object is checked with the
    loader it names.
    """

    root: str
    arch: str
    libc: str  # the root's own libc: "musl", "glibc" or ""
    libc_version: str = ""
    distro_id: str = ""
    distro_version: str = ""
    musl_loader: str = ""  # "/lib/ld-musl-x86_64.so.1" if present
    musl_version: str = ""
    musl_path: tuple[str, ...] = MUSL_DEFAULT_PATH
    glibc_dirs: tuple[str, ...] = GLIBC_DEFAULT_PATH

    @property
    def only_libc(self) -> str:
        """The root's C library when it has just one (every library there is loaded by it), else ``""``."""
        if self.musl_loader and self.libc == "musl":
            return "musl"
        if self.libc == "glibc" and not self.musl_loader:
            return "glibc"
        return ""

    def as_dict(self) -> dict[str, object]:
        return {
            "root": self.root,
            "arch": self.arch,
            "libc": self.libc,
            "libc_version": self.libc_version,
            "distro_id": self.distro_id,
            "distro_version": self.distro_version,
            "musl_loader": self.musl_loader,
            "musl_path": list(self.musl_path),
        }


@dataclass(frozen=True)
class CheckReport:
    """The verdicts for every ELF object checked against one system, and what could not be read."""

    system: System
    objects: tuple[ObjectVerdict, ...]
    problems: tuple[str, ...] = ()  # files that looked like ELF but could not be read
    bytes_scanned: int = 0
    #: Objects checked only as dependencies of others (see ``entry_objects``), by path.
    dependencies: tuple[str, ...] = ()

    @property
    def root(self) -> str:
        return self.system.root

    @property
    def ok(self) -> bool:
        """True when every object loads (problems are reported, not counted: they are not verdicts)."""
        return all(v.loads for v in self.objects)

    @property
    def failures(self) -> tuple[ObjectVerdict, ...]:
        return tuple(v for v in self.objects if not v.loads)

    def as_dict(self) -> dict[str, object]:
        return {
            "system": self.system.as_dict(),
            "ok": self.ok,
            "objects": [v.as_dict() for v in self.objects],
            "problems": list(self.problems),
            "bytes_scanned": self.bytes_scanned,
            "checked_as_dependencies": list(self.dependencies),
        }


# --------------------------------------------------------------------------------------------------
# the system


def _musl_path_file(target: Target, loader_arch: str) -> tuple[str, ...]:
    """musl reads ``/etc/ld-musl-<arch>.path`` (entries split at ``:`` and newlines); an absent file means
    the built-in path, an unreadable one an empty path."""
    host = target.resolve(f"/etc/ld-musl-{loader_arch}.path")
    try:
        with open(host, encoding="utf-8", errors="replace") as f:
            text = f.read(64 * 1024)
    except FileNotFoundError:
        return MUSL_DEFAULT_PATH
    except OSError:
        return ()
    return tuple(p for p in text.replace("\n", ":").split(":") if p)


def _ld_so_conf(target: Target, path: str, depth: int = 0) -> list[str]:
    """Directories of ``/etc/ld.so.conf`` inside the root, ``include`` globs followed (inside the root)."""
    import glob

    if depth > _MAX_CONF_DEPTH:
        return []
    try:
        with open(target.resolve(path), encoding="utf-8", errors="replace") as f:
            lines = f.read(256 * 1024).splitlines()
    except OSError:
        return []
    out: list[str] = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("include"):
            for pattern in line.split()[1:]:
                if not pattern.startswith("/"):
                    pattern = posixpath.join(posixpath.dirname(path), pattern)
                base = target.resolve(posixpath.dirname(pattern))
                for hit in sorted(glob.glob(os.path.join(base, posixpath.basename(pattern)))):
                    inside = posixpath.join(posixpath.dirname(pattern), os.path.basename(hit))
                    out.extend(_ld_so_conf(target, inside, depth + 1))
        elif line.startswith("/"):
            out.append(line.split("=", 1)[0])
    return out


def read_system(
    root: str = "/", arch: Optional[str] = None, environ: Optional[Mapping[str, str]] = None
) -> System:
    """What ``root`` is, read from its files: its musl loader and version, its glibc, its os-release.

    ``arch`` is the wheel-tag arch whose loader is looked for (default: this machine's). Nothing in the
    root is run; a root that is not a directory is a ``ConfigError``.
    """
    from .arch import host_arch
    from .musl import LOADER_ARCH, read_musl_version
    from .os_release import read_os_release

    if not os.path.isdir(root):
        raise ConfigError(f"root {root!r} is not a directory")
    arch = arch or host_arch()
    target = Target(root=root, environ=dict(environ or {}))
    loader_arch = LOADER_ARCH.get(arch, arch)
    musl_loader = f"/lib/ld-musl-{loader_arch}.so.1"
    musl_version = ""
    try:
        musl_host = target.resolve(musl_loader)
    except OSError:
        musl_host = ""
    if musl_host and os.path.isfile(musl_host):
        try:
            musl_version = read_musl_version(musl_host)
        except LoaderError:
            musl_version = ""
    else:
        musl_loader = ""
    glibc_dirs = tuple(dict.fromkeys([*_ld_so_conf(target, "/etc/ld.so.conf"), *GLIBC_DEFAULT_PATH]))
    has_glibc = any(os.path.exists(_safe_resolve(target, posixpath.join(d, "libc.so.6"))) for d in glibc_dirs)
    try:
        fields, _ = read_os_release(root)
    except OsReleaseError:
        fields = {}
    libc = (
        "musl" if musl_loader and not has_glibc else "glibc" if has_glibc else "musl" if musl_loader else ""
    )
    return System(
        root=root,
        arch=arch,
        libc=libc,
        libc_version=musl_version if libc == "musl" else "",
        distro_id=fields.get("id", ""),
        distro_version=fields.get("version_id", ""),
        musl_loader=musl_loader,
        musl_version=musl_version,
        musl_path=_musl_path_file(target, loader_arch),
        glibc_dirs=glibc_dirs,
    )


def _safe_resolve(target: Target, inside: str) -> str:
    try:
        return target.resolve(inside)
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------------
# the lower layer: names


def is_musl_reserved(soname: str) -> bool:
    """Whether musl's loader answers ``soname`` with itself (``libc.so``, ``libm.so.6``, ``libc.musl-…``)."""
    if not soname.startswith("lib"):
        return False
    rest = soname[3:]
    return any(rest.startswith(name + ".") for name in MUSL_RESERVED)


def is_libc_soname(soname: str) -> bool:
    """Whether ``soname`` is part of a C library (musl's reserved names, glibc's core libraries, loaders):
    those are the platform tag's business, not a dependency to record or to look up in a distro table."""
    return (
        is_musl_reserved(soname)
        or soname in GLIBC_CORE_SONAMES
        or soname.startswith(("ld-linux", "ld64.so", "ld-musl-", "ld.so"))
    )


def object_libc(symbols: DynamicSymbols, default: str, only: str = "") -> str:
    """Which loader loads an object: a program's ``PT_INTERP`` says; a library is loaded by whatever
    process loads it, so on a root with one C library (``only``) that one (musl loads the glibc-built
    ``libz`` the tests patch, answering its ``libc.so.6`` with itself); on a root with both, the libc it
    names in ``DT_NEEDED``; else ``default``, the root's own."""
    interp = posixpath.basename(symbols.interpreter)
    if interp.startswith("ld-musl-"):
        return "musl"
    if interp.startswith(("ld-linux", "ld64.so", "ld.so")):
        return "glibc"
    if only:
        return only
    if any(n.startswith("libc.musl-") or n == "libc.so" for n in symbols.needed):
        return "musl"
    if "libc.so.6" in symbols.needed:
        return "glibc"
    return default


def expand_origin(entry: str, origin: str) -> Optional[str]:
    """``$ORIGIN``/``${ORIGIN}`` in one RPATH entry replaced by ``origin``; ``None`` for an entry with
    another ``$`` token (``$LIB``, ``$PLATFORM``: musl does not expand them, glibc rarely needs them)."""
    out = entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
    return None if "$" in out else out


def resolve_soname(
    soname: str, root: str, search_dirs: Sequence[str], *, origin: Optional[str] = None
) -> Optional[str]:
    """The path inside ``root`` where a loader searching ``search_dirs`` finds ``soname``, or ``None``.

    A name with a ``/`` is taken as it is; entries are tried in order and the first that exists wins
    (musl stops there even if the file is broken); ``$ORIGIN`` in an entry becomes ``origin`` (an
    inside-root directory). Links are followed inside the root.
    """
    target = Target(root=root)
    if "/" in soname:
        return soname if os.path.lexists(_safe_resolve(target, soname) or "\0") else None
    for entry in search_dirs:
        d = expand_origin(entry, origin or "") if "$" in entry else entry
        if not d or not d.startswith("/"):
            continue
        inside = posixpath.normpath(posixpath.join(d, soname))
        host = _safe_resolve(target, inside)
        if host and os.path.exists(host):
            return inside
    return None


def system_sonames_needed(
    objects: Iterable[Union[ElfObject, DynamicSymbols]], include_libc: bool = False
) -> tuple[str, ...]:
    """The ``DT_NEEDED`` sonames of ``objects`` that none of them provides (by ``DT_SONAME`` or file name):
    what a wheel needs from the system, sorted. The C library's own names are left out unless asked for."""
    provided: set[str] = set()
    needed: set[str] = set()
    for obj in objects:
        syms = obj.symbols if isinstance(obj, ElfObject) else obj
        if syms.soname:
            provided.add(syms.soname)
        if isinstance(obj, ElfObject):
            provided.add(posixpath.basename(obj.member.split("!")[-1]))
        needed.update(syms.needed)
    return tuple(sorted(n for n in needed - provided if include_libc or not is_libc_soname(n)))


# --------------------------------------------------------------------------------------------------
# reading objects where a loader would find them


_LIBC: Location = ("libc", "")


class _Files:
    """Reads each ELF object once, wherever it lies: in the root (links followed inside it), on this
    machine outside the root, or in a wheel already scanned (``containers``: wheel path -> member ->
    symbols). An entry is a ``DynamicSymbols`` or the reason it could not be read."""

    def __init__(self, system: System, containers: Mapping[str, Mapping[str, DynamicSymbols]]) -> None:
        self.system = system
        self.target = Target(root=system.root)
        self.containers = containers
        self._cache: dict[str, Union[DynamicSymbols, str, None]] = {}
        self._hosts: dict[Location, str] = {}

    def host_path(self, loc: Location) -> str:
        """Where ``loc`` is on this machine, every link followed (inside the root for the root's files);
        ``""`` for a wheel member or a path that cannot be resolved. Asked for many times: kept."""
        found = self._hosts.get(loc)
        if found is None:
            space, path = loc
            if space == "root":
                found = (
                    os.path.realpath(path)
                    if self.system.root in ("", "/")
                    else _safe_resolve(self.target, path)
                )
            elif space == "host":
                found = os.path.realpath(path)
            else:
                found = ""
            self._hosts[loc] = found
        return found

    def key(self, loc: Location) -> str:
        """One key per file, so a library reached by two names is loaded once (musl compares dev/ino)."""
        host = self.host_path(loc)
        return host if host else f"{loc[0]}!{loc[1]}"

    def seed(self, loc: Location, symbols: DynamicSymbols) -> None:
        self._cache[self.key(loc)] = symbols

    def exists(self, loc: Location) -> bool:
        space, path = loc
        if space in ("root", "host"):
            host = self.host_path(loc)
            return bool(host) and os.path.exists(host)
        return path in self.containers.get(space, {})

    def read(self, loc: Location) -> Union[DynamicSymbols, str]:
        key = self.key(loc)
        if key not in self._cache:
            space, path = loc
            if space in ("root", "host"):
                try:
                    self._cache[key] = read_dynamic_symbols(self.host_path(loc))
                except ElfError as exc:
                    self._cache[key] = str(exc)
            else:
                self._cache[key] = self.containers.get(space, {}).get(path) or f"{path}: not an ELF object"
        found = self._cache[key]
        return found if found is not None else f"{loc[1]}: not read"

    def display(self, loc: Location) -> str:
        space, path = loc
        return path if space in ("root", "host") else f"{space}!{path}"

    # locations -------------------------------------------------------------------------------

    def origin(self, loc: Location) -> tuple[str, str]:
        """``$ORIGIN`` of an object: its directory, in the same space."""
        space, path = loc
        if space in ("root", "host"):
            return space, posixpath.dirname(path)
        head, bang, inner = path.rpartition("!")
        # "." for a member at the top of the wheel: "$ORIGIN/x.libs" must stay inside it, not become "/x.libs"
        return space, (head + bang if bang else "") + (posixpath.dirname(inner) or ".")

    def join(self, space: str, directory: str, name: str) -> Optional[Location]:
        """``directory/name`` in ``space``, normalised; ``None`` if it leaves a wheel (or a tarball in it),
        since where that lands depends on where the wheel is installed."""
        if space in ("root", "host"):
            path = posixpath.normpath(posixpath.join(directory, name))
            return self.to_space(path) if space == "host" else (space, path)
        head, bang, inner = directory.rpartition("!")
        joined = posixpath.normpath(posixpath.join(inner, name)) if inner else posixpath.normpath(name)
        if joined.startswith("../") or joined == ".." or joined.startswith("/"):
            return None
        return space, (head + bang if bang else "") + joined

    def to_space(self, host_path: str) -> Location:
        """A path on this machine as a location: inside the root if it lies there."""
        root = self.system.root
        path = os.path.abspath(host_path)
        if root in ("", "/"):
            return "root", path
        root_abs = os.path.abspath(root)
        if path == root_abs or path.startswith(root_abs.rstrip("/") + "/"):
            return "root", "/" + os.path.relpath(path, root_abs).replace(os.sep, "/").lstrip("./")
        return "host", path


# --------------------------------------------------------------------------------------------------
# the loader, simulated


@dataclass
class _Loaded:
    loc: Location
    symbols: DynamicSymbols
    needed_by: Optional[_Loaded]
    shortname: str = ""
    found_as: dict[str, Location] = field(default_factory=dict)  # DT_NEEDED name -> where it was found


def _search_dirs(files: _Files, requester: _Loaded, name: str, libc: str) -> Iterable[Location]:
    """The places a loader tries for ``name`` on behalf of ``requester``, in order."""
    system = files.system

    def entries(obj: _Loaded, paths: tuple[str, ...]) -> Iterable[Location]:
        space, origin = files.origin(obj.loc)
        for entry in paths:
            if "$" in entry:
                d = expand_origin(entry, origin)
                if d is None:
                    continue
                loc = files.join(space, d, name)
            elif entry.startswith("/"):
                loc = ("root", posixpath.normpath(posixpath.join(entry, name)))
            else:
                continue  # relative to the working directory, which is nobody's to know
            if loc is not None:
                yield loc

    if libc == "musl":
        chain: Optional[_Loaded] = requester
        while chain is not None:  # musl: the requester's, then each loader's up the chain
            yield from entries(chain, chain.symbols.runpath or chain.symbols.rpath)
            chain = chain.needed_by
        for d in system.musl_path:
            yield "root", posixpath.normpath(posixpath.join(d, name))
        return
    if not requester.symbols.runpath:  # glibc: RPATH of the chain only when the requester has no RUNPATH
        chain = requester
        while chain is not None:
            if not chain.symbols.runpath:
                yield from entries(chain, chain.symbols.rpath)
            chain = chain.needed_by
    yield from entries(requester, requester.symbols.runpath)
    for d in system.glibc_dirs:
        yield "root", posixpath.normpath(posixpath.join(d, name))


def _fits(want: DynamicSymbols, got: DynamicSymbols) -> bool:
    return got.machine == want.machine and got.elf_class == want.elf_class


@dataclass(frozen=True)
class _Closure:
    loaded: tuple[_Loaded, ...]  # the host's objects first (see ``_load``), then the object's tree
    missing: tuple[tuple[str, str], ...]  # (soname, needed by)
    broken: tuple[tuple[str, str, str], ...]  # (soname, needed by, why)
    start: int = 0  # index of the object checked in ``loaded``


def _load(
    files: _Files, start_loc: Location, start: DynamicSymbols, libc: str, host: Optional[_Closure] = None
) -> _Closure:
    """Load ``start`` and its dependencies breadth-first, as musl's ``load_deps`` (and glibc) do.

    With ``host`` (the interpreter, already loaded) ``start`` is loaded the way ``dlopen`` loads it into
    that process: what the host loaded is reused by name, and the host is its requester, so musl also
    searches the host's RPATH for its libraries.
    """
    first = _Loaded(start_loc, start, host.loaded[0] if host else None)
    loaded = [*(host.loaded if host else ()), first]
    by_key = {files.key(o.loc): o for o in loaded}
    missing: list[tuple[str, str]] = list(host.missing) if host else []
    broken: list[tuple[str, str, str]] = list(host.broken) if host else []
    begin = i = len(loaded) - 1
    while i < len(loaded):
        obj = loaded[i]
        i += 1
        for name in obj.symbols.needed:
            if libc == "musl" and is_musl_reserved(name):
                obj.found_as[name] = _LIBC
                continue
            prior = next(
                (o for o in loaded if name in (o.shortname, o.symbols.soname if libc == "glibc" else "")),
                None,
            )
            if prior is not None:
                obj.found_as[name] = prior.loc
                continue
            candidates: Iterable[Location]
            candidates = [("root", name)] if "/" in name else _search_dirs(files, obj, name, libc)
            hit: Optional[Location] = None
            why = ""
            for loc in candidates:
                if not files.exists(loc):
                    continue
                got = files.read(loc)
                if libc == "glibc" and (isinstance(got, str) or not _fits(start, got)):
                    continue  # glibc skips what it cannot use and searches on; musl stops at the first
                hit = loc
                if isinstance(got, str):
                    why = got
                elif not _fits(start, got):  # musl maps it anyway; its relocations cannot be applied
                    why = f"built for another machine ({got.arch or got.machine})"
                break
            if hit is None:
                missing.append((name, files.display(obj.loc)))
                continue
            if why:
                broken.append((name, files.display(obj.loc), why))
                continue
            key = files.key(hit)
            if key in by_key:
                obj.found_as[name] = by_key[key].loc
                continue
            syms = files.read(hit)
            assert not isinstance(syms, str)
            new = _Loaded(hit, syms, obj, shortname=name if "/" not in name else "")
            loaded.append(new)
            by_key[key] = new
            obj.found_as[name] = hit
    return _Closure(tuple(loaded), tuple(missing), tuple(broken), begin)


def _musl_exports(files: _Files) -> Union[frozenset[str], str]:
    """What the root's musl defines: its loader's exports (it is also ``libc.so``), plus the LFS64 names
    musl 1.2.4's loader still resolves for old binaries. A ``System`` made with a ``musl_version`` but no
    loader (a system stated, not read) gets that release's list from the musl-abi data instead."""
    system = files.system
    if not system.musl_loader:
        if system.musl_version:
            from . import facts

            try:
                abi = facts.abi_for(system.musl_version)
            except ValueError:
                abi = None
            if abi is not None:
                return abi.exports | abi.aliases
        return f"no musl loader for {system.arch} in the root"
    got = files.read(("root", system.musl_loader))
    if isinstance(got, str):
        return got
    exports = set(got.exported)
    if system.musl_version:
        from . import facts

        try:
            if facts.version_tuple(system.musl_version) >= facts.LFS64_DROPPED:
                for abi in facts.musl_abis():
                    exports |= abi.aliases
        except ValueError:
            pass
    return frozenset(exports)


def _musl_floor(names: Iterable[str]) -> str:
    """The oldest musl release (musl-abi data) that exports every one of ``names``, or ``""``."""
    from . import facts

    wanted = frozenset(names)
    for abi in facts.musl_abis():
        if not abi.missing(wanted):
            return abi.version
    return ""


def verdict(
    files: _Files,
    loc: Location,
    symbols: DynamicSymbols,
    *,
    hints: Optional[HintFn] = None,
    libc_exports: Optional[Union[frozenset[str], str]] = None,
    host: Optional[Union[_Closure, str]] = None,
) -> ObjectVerdict:
    """Whether the object at ``loc`` loads on ``files.system``: its dependency tree, then its symbols.

    ``host`` is the interpreter's loaded closure (or why it could not be read) when the object is an
    extension module checked as that interpreter would import it; without one, the module is assumed to
    get Python's C API from whatever interpreter imports it.
    """
    system = files.system
    libc = object_libc(symbols, system.libc, system.only_libc)
    base = ObjectVerdict(path=files.display(loc), arch=symbols.arch, libc=libc, needed=symbols.needed)
    reasons: list[str] = []
    notes: list[str] = []
    if system.arch and symbols.arch and symbols.arch != system.arch:
        reasons.append(f"built for {symbols.arch}, the system is {system.arch}")
        return _replace(base, reasons=reasons)
    if libc not in ("musl", "glibc"):
        notes.append("needs no C library: nothing to resolve")
        return _replace(base, notes=notes)
    python_api = symbols.is_python_extension
    if (
        isinstance(host, _Closure)
        and object_libc(host.loaded[0].symbols, system.libc, system.only_libc) != libc
    ):
        host = None  # a musl module is not imported by a glibc interpreter: leave the API to another one
    if python_api and isinstance(host, str):
        return _replace(base, reasons=[host])
    closure = _load(files, loc, symbols, libc, host if python_api and isinstance(host, _Closure) else None)
    if python_api and host is None:
        notes.append("Python C API names (Py*, _Py*) are left to the interpreter that imports it")
    assume_api = python_api and host is None
    resolved = []
    for obj in closure.loaded:
        for name, where in obj.found_as.items():
            shown = system.musl_loader or "libc" if where == _LIBC else files.display(where)
            resolved.append((name, shown))
    missing_sonames = sorted({name for name, _ in closure.missing})
    for name, by in closure.missing:
        reasons.append(f"Error loading shared library {name}: No such file or directory (needed by {by})")
    for name, by, why in closure.broken:
        reasons.append(f"Error loading shared library {name}: {why} (needed by {by})")
    scope: set[str] = set()
    for obj in closure.loaded:
        scope |= obj.symbols.exported
    libc_names: frozenset[str] = frozenset()
    if libc == "musl":
        exports = libc_exports if libc_exports is not None else _musl_exports(files)
        if isinstance(exports, str):
            reasons.append(exports)
            return _replace(base, reasons=reasons, missing_sonames=missing_sonames)
        libc_names = exports
    missing_symbols: list[str] = []
    own_libc_missing: set[str] = set()
    for obj in closure.loaded:
        lost = sorted(
            n
            for n in obj.symbols.required
            if n not in scope
            and n not in libc_names
            and not (assume_api and n.startswith(PYTHON_API_PREFIXES))
        )
        shown = files.display(obj.loc)
        for n in lost:
            reasons.append(f"Error relocating {shown}: {n}: symbol not found")
            missing_symbols.append(n if obj is closure.loaded[closure.start] else f"{shown}: {n}")
        if libc == "musl":
            own_libc_missing.update(lost)
    missing_versions: list[str] = []
    if libc == "glibc":
        for obj in closure.loaded:
            for file, versions in obj.symbols.version_needs:
                found = obj.found_as.get(file)
                if found is None or found == _LIBC:
                    continue
                target = next((o for o in closure.loaded if o.loc == found), None)
                if target is None:
                    continue
                for v in versions:
                    if v not in target.symbols.version_defs:
                        reasons.append(
                            f"{files.display(found)}: version `{v}' not found "
                            f"(required by {files.display(obj.loc)})"
                        )
                        missing_versions.append(f"{file}: {v}")
    hint_list: list[str] = []
    if hints is not None:
        for name in missing_sonames:
            hint_list.extend(h for h in hints(system, name) if h not in hint_list)
    if own_libc_missing:
        floor = _musl_floor(own_libc_missing)
        if floor:
            hint_list.append(
                f"needs musl {floor} or newer ({', '.join(sorted(own_libc_missing)[:5])}); "
                f"this root has musl {system.musl_version or 'of unknown version'}"
            )
    return _replace(
        base,
        resolved=tuple(dict.fromkeys(resolved)),
        missing_sonames=missing_sonames,
        missing_symbols=missing_symbols,
        missing_versions=missing_versions,
        reasons=reasons,
        hints=hint_list,
        notes=notes,
    )


def _replace(base: ObjectVerdict, **changes: Iterable[object]) -> ObjectVerdict:
    import dataclasses

    return dataclasses.replace(base, **{k: tuple(v) for k, v in changes.items()})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# the upper layer: containers and paths


def _is_archive(container: ScannedContainer) -> bool:
    """A wheel (or any zip): its members are read from it, not from disk."""
    return os.path.isfile(container.path) and (container.is_wheel or zipfile.is_zipfile(container.path))


def _location(files: _Files, container: ScannedContainer, member: str) -> Location:
    if _is_archive(container):
        return container.path, member
    if os.path.isfile(container.path):  # a lone ELF file
        return files.to_space(container.path)
    return files.to_space(os.path.join(container.path, member))


def _host_closure(files: _Files, interpreter: str) -> Union[_Closure, str]:
    """The interpreter loaded as the kernel starts it: through its real path (a venv's ``bin/python`` is a
    link; the kernel's ``$ORIGIN`` is the directory of the file it maps), then its libraries."""
    loc: Location = ("root", interpreter)
    if not files.exists(loc):
        return f"interpreter {interpreter}: no such file in the root"
    loc = files.to_space(files.host_path(loc))
    got = files.read(loc)
    if isinstance(got, str):
        return f"interpreter {interpreter}: {got}"
    return _load(files, loc, got, object_libc(got, files.system.libc, files.system.only_libc))


def entry_objects(objects: Sequence[ElfObject]) -> list[ElfObject]:
    """The objects of one wheel or folder that none of the others needs (by ``DT_SONAME`` or file name):
    extension modules, programs, libraries loaded by name at run time. A bundled library that another
    object needs is checked where it is loaded, as that object's dependency: alone, auditwheel's
    ``libstdc++`` lacks the ``libgcc_s`` its module's RPATH finds for it, and ``libarrow_python`` the C
    API its module's interpreter gives it. If every object is needed by another (a cycle), all are."""
    needed = {n for o in objects for n in o.symbols.needed}
    entries = [
        o
        for o in objects
        if o.symbols.soname not in needed and posixpath.basename(o.member.split("!")[-1]) not in needed
    ]
    return entries or list(objects)


def check_objects(
    containers: Sequence[ScannedContainer],
    system: System,
    *,
    hints: Optional[HintFn] = None,
    interpreter: Optional[str] = None,
) -> CheckReport:
    """Check every ELF object of already scanned ``containers`` against ``system``.

    ``interpreter`` (a path inside the root) is the Python that will import the extension modules: they
    are then checked as loaded into it, its own libraries and failures included (a module may rely on
    what the interpreter links: mypyc's modules take ``libm`` from it). ``None`` means this interpreter
    when the root is ``/`` and no interpreter otherwise; ``""`` means none.
    """
    if interpreter is None and os.path.realpath(system.root) == "/":
        interpreter = os.path.realpath(sys.executable)
    wheels = {c.path: {o.member: o.symbols for o in c.objects} for c in containers if _is_archive(c)}
    files = _Files(system, wheels)
    located = []
    dependencies = []
    for c in containers:
        entries = {id(o) for o in entry_objects(c.objects)}
        for o in c.objects:
            loc = _location(files, c, o.member)
            files.seed(loc, o.symbols)
            if id(o) in entries:
                located.append((loc, o.symbols))
            else:
                dependencies.append(files.display(loc))
    musl = (
        _musl_exports(files)
        if any(object_libc(s, system.libc, system.only_libc) == "musl" for _, s in located)
        else None
    )
    host = None
    if interpreter and any(s.is_python_extension for _, s in located):
        host = _host_closure(files, interpreter)
    verdicts = tuple(verdict(files, loc, s, hints=hints, libc_exports=musl, host=host) for loc, s in located)
    problems = tuple(p for c in containers for p in c.problems)
    return CheckReport(
        system, verdicts, problems, sum(c.bytes_scanned for c in containers), tuple(dependencies)
    )


def check_paths(
    paths: Sequence[str],
    root: str = "/",
    *,
    arch: Optional[str] = None,
    hints: Optional[HintFn] = None,
    system: Optional[System] = None,
    interpreter: Optional[str] = None,
) -> CheckReport:
    """Check ELF files, wheels and folders (each ELF file under it; wheels in it one by one) against the
    system in ``root``. ``arch`` defaults to the first object's; ``ConfigError`` for a path that is
    neither. ``interpreter``: see ``check_objects``."""
    containers = scan_paths(list(paths))
    if system is None:
        if arch is None:
            arch = next((o.symbols.arch for c in containers for o in c.objects if o.symbols.arch), None)
        system = read_system(root, arch)
    return check_objects(containers, system, hints=hints, interpreter=interpreter)


def check_wheel(
    path: str,
    root: str = "/",
    *,
    hints: Optional[HintFn] = None,
    system: Optional[System] = None,
    interpreter: Optional[str] = None,
) -> CheckReport:
    """Check one wheel against ``root``: the entry point of the pip hook. A pure-Python wheel has no ELF
    object, so the report is empty and ``ok`` (and nothing is read from the root)."""
    container = scan_wheel(path)
    if not container.objects:
        return CheckReport(system or System(root=root, arch="", libc=""), (), container.problems, 0)
    if system is None:
        arch = next((o.symbols.arch for o in container.objects if o.symbols.arch), None)
        system = read_system(root, arch)
    return check_objects([container], system, hints=hints, interpreter=interpreter)


def plugin_hints(registry: object = None) -> HintFn:
    """A ``HintFn`` asking the plugins (hook ``alpinetags_native_hints``); plugins load on first use."""
    state: dict[str, object] = {"registry": registry}

    def hints(system: System, soname: str) -> Sequence[str]:
        from .plugins import Registry, load_plugins

        reg = state["registry"]
        if reg is None:
            reg = state["registry"] = load_plugins()
        assert isinstance(reg, Registry)
        if not hasattr(reg.manager.hook, "alpinetags_native_hints"):
            return []
        out: list[str] = []
        for _name, result in reg.call_all(
            "alpinetags_native_hints",
            lambda r: isinstance(r, list) and all(isinstance(x, str) for x in r),
            distro_id=system.distro_id,
            distro_version=system.distro_version,
            arch=system.arch,
            soname=soname,
        ):
            out.extend(result)
        return out

    return hints


__all__ = [
    "CheckReport",
    "HintFn",
    "ObjectVerdict",
    "System",
    "check_objects",
    "check_paths",
    "check_wheel",
    "is_libc_soname",
    "plugin_hints",
    "read_system",
    "resolve_soname",
    "system_sonames_needed",
]
