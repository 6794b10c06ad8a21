"""The dynamic loader, simulated from files: which libraries an object loads on a root, from where, and
whether every symbol (and, on glibc, every symbol version) it and they need is defined.

``load`` follows musl's ``ldso/dynlink.c`` (reserved libc names, libraries already loaded by name, the
``RUNPATH``/``RPATH`` of the requester and of those that loaded it, then the root's path) or glibc's rules,
breadth first; ``verdict`` turns what was loaded into an ``ObjectVerdict`` with the loader's own wording.
Objects are read once (``Files``), wherever they are: in the root, on this machine, or in a wheel.
"""

from __future__ import annotations

import errno
import functools
import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Optional, Union

from alpinetags import _limits as limits
from alpinetags._elf.arch import same_loader_arch
from alpinetags._elf.elfdynamic import DynamicSymbols, read_dynamic_symbols
from alpinetags._load import loaderfeatures
from alpinetags._system.loadpath import (
    MUSL_PATH_BUF,
    System,
    expand_origin,
    is_musl_reserved,
    musl_rpath,
    object_libc,
    safe_resolve,
)
from alpinetags.errors import ElfError, InputRefused, RootRefused
from alpinetags.model import Target

#: Longest file name and path ``open`` takes (Linux): a loader cannot open a longer one, so none is looked up.
NAME_MAX, PATH_MAX = 255, 4096
#: Prefixes of the names the interpreter that loads an extension module provides (CPython's C API).
PYTHON_API_PREFIXES = ("Py", "_Py")
#: Where a library was found: ``("root", "/usr/lib/libssl.so.3")``, ``("host", path)`` or
#: ``(container path, member)``.
Location = tuple[str, str]
#: A plugin's (or caller's) hints for one missing soname on a system: ``["apk add so:libssl.so.3"]``.
HintFn = Callable[["System", str], Sequence[str]]


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
    #: Loader features (``loaderfeatures``: ``relr``) some loaded object needs and this loader lacks.
    missing_features: tuple[str, ...] = ()
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
            "missing_features": list(self.missing_features),
            "reasons": list(self.reasons),
            "hints": list(self.hints),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------------------
# reading objects where a loader would find them


LIBC: Location = ("libc", "")


class Files:
    """Reads each ELF object once, wherever it lies: in the root (links followed inside it), on this
    machine outside the root, or in a wheel already scanned (``containers``: wheel path -> member ->
    symbols). An entry is a ``DynamicSymbols`` or the reason it could not be read."""

    def __init__(self, system: System, containers: Mapping[str, Mapping[str, DynamicSymbols]]) -> None:
        self.system = system
        self.target = Target(root=system.root)
        self.containers = containers
        self._cache: dict[str, Union[DynamicSymbols, str, None]] = {}
        self._hosts: dict[Location, str] = {}
        self._listings: dict[Location, Optional[frozenset[str]]] = {}
        self.budget = limits.current()

    def host_path(self, loc: Location) -> str:
        """Where ``loc`` is on this machine, every link followed (inside the root for the root's files);
        ``""`` for a wheel member or a path that cannot be resolved. Asked for many times: kept."""
        found = self._hosts.get(loc)
        if found is None:
            space, path = loc
            if space in ("root", "host"):  # each component may be a link to follow: counted per check
                self.budget.charge(
                    "path components resolved", path.count("/"), limits.MAX_COMPONENTS, "components"
                )
            if space == "root":
                found = (
                    os.path.realpath(path)
                    if self.system.root in ("", "/")
                    else safe_resolve(self.target, path)
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
        """Whether a loader opening ``loc`` finds a file there. A name its directory does not list is
        answered from that listing, read once per directory: failed lookups (most of them) then cost a
        set lookup and leave nothing behind, however many names times RPATH entries an object brings."""
        return self.open_error(loc) is None

    def open_error(self, loc: Location) -> Optional[str]:
        """``None`` when a loader opening ``loc`` finds a file there; ``""`` when the open fails the way
        a search goes on past (no such file, not a directory); else why the open fails in musl's words
        (a link loop): musl's search stops there (``path_open``), the name is not loaded."""
        space, path = loc
        if space in ("root", "host"):
            directory, name = posixpath.split(path)
            if name not in ("", ".", "..") and loc not in self._hosts:
                listing = self._listing((space, directory))
                if listing is not None and name not in listing:
                    return ""
            host = self.host_path(loc)
            if host and os.path.exists(host):
                return None
            return _open_error(self.target if space == "root" else Target(root="/"), path, host)
        return None if path in self.containers.get(space, {}) else ""

    def _listing(self, directory: Location) -> Optional[frozenset[str]]:
        """The names in a directory (empty if it is none), or ``None`` when it holds more than
        ``MAX_LISTING`` names (each is then looked up on its own)."""
        if directory in self._listings:
            return self._listings[directory]
        names: set[str] = set()
        found: Optional[frozenset[str]] = None
        try:
            with os.scandir(self.host_path(directory) or "\0") as entries:
                for entry in entries:
                    names.add(entry.name)
                    if len(names) > limits.MAX_LISTING:
                        break
                else:
                    found = frozenset(names)
        except PermissionError:
            found = None  # listing refused, names may still open: each is looked up on its own
        except (OSError, ValueError):
            found = frozenset()  # not a directory, or none: nothing is found in it
        self._listings[directory] = found
        return found

    def read(self, loc: Location) -> Union[DynamicSymbols, str]:
        key = self.key(loc)
        if key not in self._cache:
            space, path = loc
            if space in ("root", "host"):
                self.budget.charge("objects read from the root", 1, limits.MAX_ROOT_OBJECTS, "objects")
                try:
                    self._cache[key] = _read_root_object(self.host_path(loc))
                except InputRefused as exc:  # a library of the root: the root is refused
                    raise RootRefused(str(exc)) from None
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
            rel = os.path.relpath(path, root_abs).replace(os.sep, "/")
            return "root", "/" if rel == "." else "/" + rel
        return "host", path


#: What ``read_dynamic_symbols`` gave for a root's file, by the file's identity (device, inode, size,
#: modification and change time): a pip process checks many wheels against one root, and read again for
#: each, the root's libc and libraries were most of the cost of the check of a small wheel. Only what was
#: read is kept (a refusal ends the check; an error may name the path it was reached by); the identity is
#: taken before the read, so a file changed in between is read again by the next check.
_root_objects: dict[tuple[int, ...], DynamicSymbols] = {}
_ROOT_OBJECTS_KEPT = 4096


def _read_root_object(host_path: str) -> Union[DynamicSymbols, str]:
    """The dynamic symbols of a root's file, or why it cannot be read (``ElfError``'s text)."""
    try:
        st = os.stat(host_path)
        identity: Optional[tuple[int, ...]] = (
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
        )
    except (OSError, ValueError):
        identity = None
    found: Optional[DynamicSymbols] = _root_objects.get(identity) if identity is not None else None
    if found is None:
        try:
            found = read_dynamic_symbols(host_path)
        except ElfError as exc:
            return str(exc)  # not kept: it may name the path it was reached by
        if identity is not None and len(_root_objects) < _ROOT_OBJECTS_KEPT:
            _root_objects[identity] = found
    return found


#: musl's words (``strerror``) for the open errors that stop its search and can be known from files.
_MUSL_OPEN_ERRORS = {errno.ELOOP: "Symbolic link loop"}


def _open_error(target: Target, inside: str, host: str) -> str:
    """Why opening ``inside`` (found at ``host``, or ``""`` if its links could not be followed) fails, when
    it fails the way that stops musl's search; ``""`` when the search goes on (``ENOENT``, ``ENOTDIR``,
    ``EACCES``, ``ENAMETOOLONG``, or an error only the running process can meet)."""
    try:
        if not host:
            target.resolve(inside)  # only a loop makes it fail
        os.stat(host or "\0")
    except OSError as exc:
        return _MUSL_OPEN_ERRORS.get(exc.errno or 0, "")
    except ValueError:
        return ""
    return ""


# --------------------------------------------------------------------------------------------------
# the loader, simulated


@dataclass
class Loaded:
    """One object in a simulated process: where it is, what it says, who loaded it (for musl's RPATH
    chain), the name it was found by, and where each of its ``DT_NEEDED`` names was found."""

    loc: Location
    symbols: DynamicSymbols
    needed_by: Optional[Loaded]
    shortname: str = ""
    found_as: dict[str, Location] = field(default_factory=dict)  # DT_NEEDED name -> where it was found


def _search_dirs(
    files: Files, requester: Loaded, name: str, libc: str, relative: dict[str, None]
) -> Iterable[Location]:
    """The places a loader tries for ``name`` on behalf of ``requester``, in order. An entry relative to
    the working directory, which is nobody's to know here, is not searched: it is added to ``relative``
    (the verdict says so)."""
    system = files.system
    musl = libc == "musl"

    def fits(d: str) -> bool:  # musl never opens a candidate longer than its buffer; open, past PATH_MAX
        size = len(d.encode("utf-8", "surrogateescape")) + 1 + len(name.encode("utf-8", "surrogateescape"))
        return size < (MUSL_PATH_BUF if musl else PATH_MAX)

    def absolute(dirs: Iterable[str]) -> Iterable[Location]:
        for d in dirs:
            if not d.startswith("/"):
                relative.setdefault(d)
            elif fits(d):
                yield "root", posixpath.normpath(posixpath.join(d, name))

    def entries(obj: Loaded, paths: tuple[str, ...]) -> Iterable[Location]:
        space, origin = files.origin(obj.loc)
        for entry in musl_rpath(paths) if musl else paths:
            if len(entry) + len(name) >= PATH_MAX:
                continue  # open would fail with ENAMETOOLONG: not even joined (normpath of it is costly)
            if "$" in entry:
                d = expand_origin(entry, origin)
                if d is None or (space == "root" and not fits(d)):
                    continue
                loc = files.join(space, d, name)
                if loc is not None:
                    yield loc
            else:
                yield from absolute((entry,))

    if musl:  # LD_LIBRARY_PATH, then the requester's RPATH (RUNPATH if it has one) and each loader's up
        yield from absolute(system.library_path)  # the chain, then the path file (ldso/dynlink.c)
        chain: Optional[Loaded] = requester
        while chain is not None:
            yield from entries(chain, chain.symbols.runpath or chain.symbols.rpath)
            chain = chain.needed_by
        yield from absolute(system.musl_path)
        return
    if not requester.symbols.runpath:  # glibc: RPATH of the chain only when the requester has no RUNPATH
        chain = requester
        while chain is not None:
            if not chain.symbols.runpath:
                yield from entries(chain, chain.symbols.rpath)
            chain = chain.needed_by
    yield from absolute(system.library_path)  # glibc: after RPATH, before RUNPATH
    yield from entries(requester, requester.symbols.runpath)
    for d in system.glibc_dirs:
        yield "root", posixpath.normpath(posixpath.join(d, name))


def _fits(want: DynamicSymbols, got: DynamicSymbols) -> bool:
    return got.machine == want.machine and got.elf_class == want.elf_class


@dataclass(frozen=True)
class Closure:
    loaded: tuple[Loaded, ...]  # the host's objects first (see ``_load``), then the object's tree
    missing: tuple[tuple[str, str], ...]  # (soname, needed by)
    broken: tuple[tuple[str, str, str], ...]  # (soname, needed by, why)
    start: int = 0  # index of the object checked in ``loaded``
    #: search-path entries relative to the working directory, which the loader would try and nobody here
    #: can: not searched
    unsearched: tuple[str, ...] = ()


def load(
    files: Files, start_loc: Location, start: DynamicSymbols, libc: str, host: Optional[Closure] = None
) -> Closure:
    """Load ``start`` and its dependencies breadth-first, as musl's ``load_deps`` (and glibc) do.

    With ``host`` (the interpreter, already loaded) ``start`` is loaded the way ``dlopen`` loads it into
    that process: what the host loaded is reused by name, and the host is its requester, so musl also
    searches the host's RPATH for its libraries.
    """
    first = Loaded(start_loc, start, host.loaded[0] if host else None)
    loaded = [*(host.loaded if host else ()), first]
    by_key = {files.key(o.loc): o for o in loaded}
    missing: list[tuple[str, str]] = list(host.missing) if host else []
    broken: list[tuple[str, str, str]] = list(host.broken) if host else []
    begin = i = len(loaded) - 1
    # what is loaded by the name it was loaded as (glibc: by its soname too), the first for each name
    by_name: dict[str, Loaded] = {}

    def known(o: Loaded) -> None:
        for n in (o.shortname, o.symbols.soname if libc == "glibc" else ""):
            by_name.setdefault(n, o)

    for o in loaded:
        known(o)
    steps = 0
    relative: dict[str, None] = {}
    while i < len(loaded):
        obj = loaded[i]
        i += 1
        for name in obj.symbols.needed:
            if libc == "musl" and is_musl_reserved(name):
                obj.found_as[name] = LIBC
                continue
            prior = by_name.get(name)
            if prior is not None:
                obj.found_as[name] = prior.loc
                continue
            candidates: Iterable[Location]
            searched = "/" not in name
            candidates = _search_dirs(files, obj, name, libc, relative) if searched else [("root", name)]
            if searched and len(name.encode()) > NAME_MAX:
                candidates = []  # no file has that name (musl does not even search)
            hit: Optional[Location] = None
            why = ""
            for loc in candidates:
                steps += 1
                if steps > limits.MAX_SEARCH_STEPS:  # charged to the check below, or refused here
                    files.budget.charge("loader search steps", steps, limits.MAX_SEARCH_STEPS, "steps")
                if len(loc[1]) >= PATH_MAX:
                    continue  # a path that long cannot be opened (ENAMETOOLONG): the search goes on
                error = files.open_error(loc)
                if error and libc == "musl":  # musl's search stops at an open error of another kind
                    hit, why = loc, error
                    break
                if error is not None:
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
                prior = by_key[key]
                if libc == "musl" and searched and not prior.shortname and prior is not loaded[0]:
                    # musl: loaded by path before (a dlopened module), found by a search now: from here
                    # on it is also known by its file's name (``load_library``)
                    by_name.setdefault(posixpath.basename(prior.loc[1].split("!")[-1]), prior)
                obj.found_as[name] = prior.loc
                continue
            syms = files.read(hit)
            assert not isinstance(syms, str)
            new = Loaded(hit, syms, obj, shortname=name if "/" not in name else "")
            loaded.append(new)
            known(new)
            by_key[key] = new
            obj.found_as[name] = hit
    files.budget.charge("loader search steps", steps, limits.MAX_SEARCH_STEPS, "steps")
    return Closure(tuple(loaded), tuple(missing), tuple(broken), begin, tuple(relative))


def musl_exports(files: Files) -> Union[frozenset[str], str]:
    """What the root's musl defines: its loader's exports (it is also ``libc.so``), plus the LFS64 names
    musl 1.2.4's loader still resolves for old binaries. A ``System`` made with a ``musl_version`` but no
    loader (a system stated, not read) gets that release's list from the musl-abi data instead."""
    system = files.system
    if not system.musl_loader:
        if system.musl_version:
            from alpinetags._load import facts

            try:
                abi = facts.abi_for(system.musl_version, arch=system.arch)
            except ValueError:
                abi = None
            if abi is not None:
                return abi.exports | abi.aliases
        return f"no musl loader for {system.arch} in the root"
    got = files.read(("root", system.musl_loader))
    if isinstance(got, str):
        return got
    exports = got.exported
    if system.musl_version:
        from alpinetags._load import facts

        try:
            if facts.version_tuple(system.musl_version) >= facts.LFS64_DROPPED:
                return exports | facts.lfs64_aliases(exports)
        except ValueError:
            pass
    return exports


@functools.cache
def _musl_names(arch: str = "x86_64") -> frozenset[str]:
    """Every name some musl release exported on ``arch`` (musl-abi data): musl is the one to provide it."""
    from alpinetags._load import facts

    return facts.known_libc_names(arch=arch or "x86_64")


def _musl_floor(names: Iterable[str], arch: str = "x86_64") -> str:
    """The oldest musl release (musl-abi data, on ``arch``) exporting every one of ``names``, or ``""``."""
    from alpinetags._load import facts

    wanted = frozenset(names)
    for abi in facts.musl_abis(arch=arch or "x86_64"):
        if not abi.missing(wanted):
            return abi.version
    return ""


def defined_by_none(names: AbstractSet[str], scopes: Sequence[AbstractSet[str]]) -> set[str]:
    """The ``names`` that no set of ``scopes`` holds. Each set is asked only about what the ones before
    it left: a union of the scopes would copy every name each loaded object exports, for every object
    judged (each of pyarrow's modules loads ``libarrow`` and its siblings: tens of thousands of names,
    most of the judging time of a pip install of 30 wheels)."""
    left = set(names)
    for scope in scopes:
        if not left:
            break
        left = left.difference(scope)
    return left


def verdict(
    files: Files,
    loc: Location,
    symbols: DynamicSymbols,
    *,
    hints: Optional[HintFn] = None,
    libc_exports: Optional[Union[frozenset[str], str]] = None,
    host: Optional[Union[Closure, str]] = None,
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
    if system.arch and symbols.arch and not same_loader_arch(symbols.arch, system.arch):
        reasons.append(f"built for {symbols.arch}, the system is {system.arch}")
        return _replace(base, reasons=reasons)
    if libc not in ("musl", "glibc"):
        notes.append("needs no C library: nothing to resolve")
        return _replace(base, notes=notes)
    python_api = symbols.is_python_extension
    if (
        isinstance(host, Closure)
        and object_libc(host.loaded[0].symbols, system.libc, system.only_libc) != libc
    ):
        host = None  # a musl module is not imported by a glibc interpreter: leave the API to another one
    if python_api and isinstance(host, str):
        return _replace(base, reasons=[host])
    closure = load(files, loc, symbols, libc, host if python_api and isinstance(host, Closure) else None)
    if python_api and host is None:
        notes.append("Python C API names (Py*, _Py*) are left to the interpreter that imports it")
    if closure.unsearched:
        shown_dirs = ", ".join(closure.unsearched[:5])
        notes.append(
            f"search path entries relative to the working directory, unknown here, not searched: {shown_dirs}"
        )
    assume_api = python_api and host is None
    resolved = []
    for obj in closure.loaded:
        for name, where in obj.found_as.items():
            shown = (system.musl_loader or "libc") if where == LIBC else files.display(where)
            resolved.append((name, shown))
    missing_sonames = sorted({name for name, _ in closure.missing})
    for name, by in closure.missing:
        reasons.append(f"Error loading shared library {name}: No such file or directory (needed by {by})")
    for name, by, why in closure.broken:
        reasons.append(f"Error loading shared library {name}: {why} (needed by {by})")
    scope = [obj.symbols.exported for obj in closure.loaded]
    libc_names: frozenset[str] = frozenset()
    if libc == "musl":
        exports = libc_exports if libc_exports is not None else musl_exports(files)
        if isinstance(exports, str):
            reasons.append(exports)
            return _replace(base, reasons=reasons, missing_sonames=missing_sonames)
        libc_names = exports
    missing_symbols: list[str] = []
    own_libc_missing: set[str] = set()
    for obj in closure.loaded:
        lost = sorted(
            n
            for n in defined_by_none(obj.symbols.required, [libc_names, *scope])
            if not (assume_api and n.startswith(PYTHON_API_PREFIXES))
        )
        shown = files.display(obj.loc)
        for n in lost:
            reasons.append(f"Error relocating {shown}: {n}: symbol not found")
            missing_symbols.append(n if obj is closure.loaded[closure.start] else f"{shown}: {n}")
        if libc == "musl":
            own_libc_missing.update(n for n in lost if n in _musl_names(system.arch))
    missing_features: list[str] = []
    hint_list: list[str] = []
    if libc == "musl":
        missing_features = _feature_reasons(files, closure, python_api, reasons, hint_list)
    missing_versions: list[str] = []
    if libc == "glibc":
        for obj in closure.loaded:
            for file, versions in obj.symbols.version_needs:
                found = obj.found_as.get(file)
                if found is None or found == LIBC:
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
    if hints is not None:
        for name in missing_sonames:
            hint_list.extend(h for h in hints(system, name) if h not in hint_list)
    if own_libc_missing:
        floor = _musl_floor(own_libc_missing, system.arch)
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
        missing_features=missing_features,
        reasons=reasons,
        hints=hint_list,
        notes=notes,
    )


def _feature_reasons(
    files: Files, closure: Closure, dlopened: bool, reasons: list[str], hint_list: list[str]
) -> list[str]:
    """What the loaded objects (not the interpreter's own) need of musl's loader beyond names and this
    root's loader lacks (``alpinetags._load.loaderfeatures``): appended to ``reasons`` and ``hint_list``
    in the loader's terms; returns the features."""
    needs: dict[str, list[str]] = {}
    # what the objects loaded at startup (the interpreter's) define is static TLS, which initial-exec
    # code of a dlopened object may use
    startup = frozenset().union(*(o.symbols.exported for o in closure.loaded[: closure.start]))
    for obj in closure.loaded[closure.start :]:
        for feature in loaderfeatures.features_of(obj.symbols, dlopened, startup):
            needs.setdefault(feature, []).append(files.display(obj.loc))
    if not needs:
        return []
    system = files.system
    gaps = loaderfeatures.lacking(
        needs, system.root, system.distro_id, system.distro_version, system.arch, system.musl_version
    )
    for feature in gaps:
        for path in needs[feature]:
            reasons.append(loaderfeatures.reason(feature, path, system.musl_version))
        hint_list.append(loaderfeatures.hint(feature))
    return list(gaps)


def _replace(base: ObjectVerdict, **changes: Iterable[object]) -> ObjectVerdict:
    import dataclasses

    return dataclasses.replace(base, **{k: tuple(v) for k, v in changes.items()})  # type: ignore[arg-type]


def host_closure(files: Files, interpreter: str) -> Union[Closure, str]:
    """The interpreter loaded as the kernel starts it: through its real path (a venv's ``bin/python`` is a
    link; the kernel's ``$ORIGIN`` is the directory of the file it maps), then its libraries."""
    loc: Location = ("root", interpreter)
    if not files.exists(loc):
        return f"interpreter {interpreter}: no such file in the root"
    loc = files.to_space(files.host_path(loc))
    got = files.read(loc)
    if isinstance(got, str):
        return f"interpreter {interpreter}: {got}"
    return load(files, loc, got, object_libc(got, files.system.libc, files.system.only_libc))
