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
name, one search path), both in ``alpinetags._system.loadpath``; the loader itself in
``alpinetags._load.loadsim``;
here ``check_objects`` (ELF objects already read), ``check_paths``/``check_wheel`` (files on disk) and
``system_sonames_needed`` (what a wheel needs from the system: what it does not bundle). The names of the
lower layers that callers use are re-exported here.

Nothing from the target is executed: every fact is read from files. Hints for a missing soname (``apk add
so:libssl.so.3``) come from plugins (hook ``alpinetags_native_hints``), since the core knows no distro.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Union

from alpinetags._elf.elfdynamic import DynamicSymbols, read_dynamic_symbols
from alpinetags._elf.elfscan import ElfObject, ScannedContainer, is_zip, scan_paths, scan_wheel
from alpinetags._limits import per_check
from alpinetags._load.libcmatch import extension_soabi, import_mismatch, mismatch_words
from alpinetags._load.loadsim import (
    PYTHON_API_PREFIXES,
    Closure,
    Files,
    HintFn,
    Location,
    ObjectVerdict,
    host_closure,
    musl_exports,
    verdict,
)
from alpinetags._system.loadpath import (
    GLIBC_CORE_SONAMES,
    MUSL_RESERVED,
    System,
    expand_origin,
    is_libc_soname,
    is_musl_reserved,
    object_libc,
    read_system,
    resolve_soname,
    safe_resolve,
    system_sonames_needed,
)
from alpinetags.errors import ElfError
from alpinetags.model import Target

if TYPE_CHECKING:
    from alpinetags._system.interpreter import PythonBuild


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
            "complete": not self.problems,  # every file found was read: "ok" then covers them all
            "objects": [v.as_dict() for v in self.objects],
            "problems": list(self.problems),
            "bytes_scanned": self.bytes_scanned,
            "checked_as_dependencies": list(self.dependencies),
        }


# --------------------------------------------------------------------------------------------------
# the upper layer: containers and paths


def _is_archive(container: ScannedContainer) -> bool:
    """A wheel (or any zip): its members are read from it, not from disk."""
    if container.kind:
        return container.kind == "wheel"
    return os.path.isfile(container.path) and (container.is_wheel or is_zip(container.path))


def _location(files: Files, container: ScannedContainer, member: str) -> Location:
    if _is_archive(container):
        return container.path, member
    if container.kind == "file" or (not container.kind and os.path.isfile(container.path)):  # a lone ELF file
        return files.to_space(container.path)
    return files.to_space(os.path.join(container.path, member))


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


def pick_arch(root: str, objects: Sequence[ElfObject]) -> Optional[str]:
    """The arch to check ``objects`` as: theirs when the root has a musl loader for it (or none at all),
    else the root's own when it has loaders of one arch only, so that an aarch64 wheel checked against an
    x86_64 root is "built for aarch64" rather than "no C library here"."""
    import glob

    from alpinetags._system.musl import LOADER_ARCH

    wanted = next((o.symbols.arch for o in objects if o.symbols.arch), None)
    lib = safe_resolve(Target(root=root), "/lib")  # a merged /lib is a link: followed inside the root
    pattern = os.path.join(lib or os.path.join(root, "lib"), "ld-musl-*.so.1")
    loaders = {os.path.basename(p)[len("ld-musl-") : -len(".so.1")]: p for p in glob.glob(pattern)}
    found = sorted(loaders)
    if wanted is None or not found or len(found) > 1:
        return wanted
    if found[0] == "armhf" or LOADER_ARCH.get(wanted) not in found:
        # the root's own arch, as its loader's file says (armhf: ARMv6 on Alpine, ARMv7 on Debian)
        try:
            return read_dynamic_symbols(loaders[found[0]]).arch or wanted
        except ElfError:
            pass
    if LOADER_ARCH.get(wanted) in found:
        return wanted
    by_loader: dict[str, str] = {}
    for tag, loader in LOADER_ARCH.items():
        by_loader.setdefault(loader, tag)
    return by_loader.get(found[0], wanted)


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
    files = Files(system, wheels)
    located: list[tuple[Location, DynamicSymbols]] = []
    waiting: list[tuple[Location, DynamicSymbols]] = []
    for c in containers:
        entries = {id(o) for o in entry_objects(c.objects)}
        for o in c.objects:
            loc = _location(files, c, o.member)
            files.seed(loc, o.symbols)
            (located if id(o) in entries else waiting).append((loc, o.symbols))
    state: dict[str, Union[frozenset[str], str, None]] = {}
    versions: dict[str, PythonBuild] = {}
    host_state: dict[str, Union[Closure, str, None]] = {}

    def python() -> PythonBuild:  # read once, and only for a module whose name says which CPython it is for
        from alpinetags._system.interpreter import PythonBuild

        if "v" not in versions:
            versions["v"] = (
                importer_build(files, interpreter, host_state.get("host")) if interpreter else PythonBuild()
            )
        return versions["v"]

    def judge(loc: Location, symbols: DynamicSymbols) -> ObjectVerdict:
        libc = object_libc(symbols, system.libc, system.only_libc)
        if libc == "musl" and "musl" not in state:
            state["musl"] = musl_exports(files)
        if interpreter and symbols.is_python_extension and "host" not in host_state:
            host_state["host"] = host_closure(files, interpreter)
        v = verdict(
            files,
            loc,
            symbols,
            hints=hints,
            libc_exports=state.get("musl"),
            host=host_state.get("host"),
        )
        return _libc_mismatch(v, symbols, system, host_state.get("host"), python)

    verdicts = [judge(loc, s) for loc, s in located]
    # A library another object names is checked as its dependency only where it was really loaded: one
    # the loader does not find from there (a folder's libssl that no RPATH leads to) gets its own verdict.
    reached = {k for v in verdicts for k in _resolved_keys(files, v)} if waiting else set()
    while waiting:
        alone = [(loc, s) for loc, s in waiting if files.key(loc) not in reached]
        if not alone:
            break
        # the tops of what is left (as ``entry_objects``): a library one of them loads stays its dependency
        needed = {n for _, s in alone for n in s.needed}
        tops = [
            (loc, s)
            for loc, s in alone
            if s.soname not in needed and posixpath.basename(loc[1].split("!")[-1]) not in needed
        ] or alone
        for loc, s in tops:
            v = judge(loc, s)
            verdicts.append(v)
            reached.add(files.key(loc))
            reached.update(_resolved_keys(files, v))
        judged = {files.key(loc) for loc, _ in tops}
        waiting = [(loc, s) for loc, s in waiting if files.key(loc) not in judged]
    problems = tuple(p for c in containers for p in c.problems)
    return CheckReport(
        system,
        tuple(verdicts),
        problems,
        sum(c.bytes_scanned for c in containers),
        tuple(files.display(loc) for loc, _ in waiting),
    )


def _libc_mismatch(
    v: ObjectVerdict,
    symbols: DynamicSymbols,
    system: System,
    host: Union[Closure, str, None],
    python: Callable[[], PythonBuild],
) -> ObjectVerdict:
    """``v`` with the libc mismatch said in words (``alpinetags._load.libcmatch``): an extension module the
    importing Python never imports by that name (``-linux-gnu`` under a musl Python, ``-linux-musl`` under
    a glibc one, another CPython version) does not load; a failing object built for the other libc says
    so first among its hints."""
    if symbols.is_python_extension:
        from alpinetags._system.interpreter import PythonBuild  # here: only extension modules need it

        if isinstance(host, Closure):
            importer = object_libc(host.loaded[0].symbols, system.libc, system.only_libc)
        else:
            importer = system.only_libc
        build = python() if isinstance(host, Closure) and extension_soabi(v.path) else PythonBuild()
        why = import_mismatch(v.path, importer, build.version, build.soabi)
        if why:
            return dataclasses.replace(v, reasons=(why, *v.reasons))
    if not v.loads:
        words = mismatch_words(symbols, system.only_libc or object_libc(symbols, system.libc))
        if words and words not in v.hints:
            return dataclasses.replace(v, hints=(words, *v.hints))
    return v


def importer_python(interpreter: str, system: System) -> str:
    """The CPython version (``"3.11"``) of the interpreter inside the root, read from its files
    (``interpreter.python_of``), or ``""`` when they do not say."""
    return _python_of(interpreter, system).version


def _python_of(interpreter: str, system: System) -> PythonBuild:
    from alpinetags._system.interpreter import PythonBuild, python_of

    target = Target(root=system.root)
    host = os.path.realpath(interpreter) if system.root in ("", "/") else safe_resolve(target, interpreter)
    return python_of(host, system.root or "/") if host else PythonBuild()


def importer_build(files: Files, interpreter: str, host: Union[Closure, str, None]) -> PythonBuild:
    """Which CPython imports the modules (``interpreter.python_of``); when its SOABI is in a libpython
    its files alone do not lead to (found through the library path), read from the libpython the loaded
    closure ``host`` holds."""
    from alpinetags._system.interpreter import soabi_in

    build = _python_of(interpreter, files.system)
    if build.soabi or not isinstance(host, Closure):
        return build
    for obj in host.loaded:
        if posixpath.basename(obj.loc[1]).startswith("libpython"):
            found = soabi_in(files.host_path(obj.loc))
            if found is not None:
                return found
    return build


def _resolved_keys(files: Files, v: ObjectVerdict) -> set[str]:
    """The files (``Files.key``) a verdict's object loaded, from the places its ``resolved`` shows."""
    out = set()
    for _name, shown in v.resolved:
        head, bang, member = shown.partition("!")
        if bang and head in files.containers:
            out.add(files.key((head, member)))
            continue
        for space in ("root", "host"):
            if files.exists((space, shown)):
                out.add(files.key((space, shown)))
                break
    return out


def check_paths(
    paths: Sequence[str],
    root: str = "/",
    *,
    arch: Optional[str] = None,
    hints: Optional[HintFn] = None,
    system: Optional[System] = None,
    interpreter: Optional[str] = None,
    library_path: Optional[Sequence[str]] = None,
) -> CheckReport:
    """Check ELF files, wheels and folders (each ELF file under it; wheels in it one by one) against the
    system in ``root``. ``arch`` defaults to the first object's; ``ConfigError`` for a path that is
    neither. ``interpreter``: see ``check_objects``; ``library_path``: see ``read_system`` (unused with a
    ``system``, which says its own). One budget (``limits``) for all of it."""
    with per_check():
        containers = scan_paths(list(paths), root)
        if system is None:
            if arch is None:
                arch = pick_arch(root, [o for c in containers for o in c.objects])
            system = read_system(root, arch, library_path=library_path)
        return check_objects(containers, system, hints=hints, interpreter=interpreter)


def check_wheel(
    path: str,
    root: str = "/",
    *,
    hints: Optional[HintFn] = None,
    system: Optional[System] = None,
    interpreter: Optional[str] = None,
    library_path: Optional[Sequence[str]] = None,
) -> CheckReport:
    """Check one wheel against ``root``: the entry point of the pip hook. A pure-Python wheel has no ELF
    object, so the report is empty and ``ok`` (and nothing is read from the root). ``library_path``: see
    ``read_system``."""
    with per_check():
        container = scan_wheel(path)
        if not container.objects:
            return CheckReport(system or System(root=root, arch="", libc=""), (), container.problems, 0)
        if system is None:
            system = read_system(root, pick_arch(root, container.objects), library_path=library_path)
        return check_objects([container], system, hints=hints, interpreter=interpreter)


def plugin_hints(registry: object = None) -> HintFn:
    """A ``HintFn`` asking the plugins (hook ``alpinetags_native_hints``); plugins load on first use."""
    state: dict[str, object] = {"registry": registry}

    def hints(system: System, soname: str) -> Sequence[str]:
        from alpinetags._engine.plugins import Registry, load_plugins

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
    "GLIBC_CORE_SONAMES",
    "MUSL_RESERVED",
    "PYTHON_API_PREFIXES",
    "CheckReport",
    "HintFn",
    "Location",
    "ObjectVerdict",
    "System",
    "check_objects",
    "check_paths",
    "check_wheel",
    "entry_objects",
    "expand_origin",
    "is_libc_soname",
    "is_musl_reserved",
    "object_libc",
    "plugin_hints",
    "read_system",
    "resolve_soname",
    "system_sonames_needed",
]
