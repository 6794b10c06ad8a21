"""The native-library check at pip's install step: a wheel that would not load here is not installed.

pip trusts a wheel's tags. An ``alpine_3_16_x86_64`` wheel linked against Alpine 3.16's
``libssl.so.1.1`` is accepted on 3.17 by the tag policy (later releases accept earlier tags), and fails
at import there, because 3.17 has only ``libssl.so.3``. So, with the hook on, each wheel pip is about to
install is checked against the target system (``/``, or ``ALPINETAGS_ROOT``) first; one that needs a
soname or symbol the target lacks stops pip with one error naming the wheel, what is missing and the
ways out (the hints of the check, such as an ``apk add``; ``--no-binary NAME``; ``ALPINETAGS_CHECK=0``).

The patch point is ``pip._internal.operations.install.wheel.install_wheel(name, wheel_path, ...)``
(pip 23.0, 24.3.1 and 26.3: same name, same first two parameters; pip's ``InstallRequirement.install``
calls it once per wheel, after resolving and downloading, before anything of that wheel is written).
It is patched lazily through the same ``.pth`` finder as the tag module (``alpinetags._pip.pth``). The
wrapper changes nothing about the call: it runs the check, then pip's function with pip's arguments.

Cost: a wheel whose file name says platform ``any`` (pure Python) is not opened at all. Any other wheel
is read once: first the ``Requires-External`` sonames its METADATA lists (written by ``alpinetags wheel
tag``; a missing one refuses the wheel without any ELF read), then its ELF members (members named like
source, text or images are not opened). The ELF bytes decompressed for the check are handed to pip's
own extraction, so pip does not decompress them again; a library whose bytes are those of one read
earlier in the run is not read again (``twins``), nor a wheel file whose read an earlier pip run kept
(``readcache``: the third run that meets an unchanged file). Only the wheel's entries (members no other
member needs) are judged, each with everything it loads: a bundled library is judged as its loaders
load it. Measured in bench/bench_pip.py, figures in docs/pip.md.

Fail open: a failure of the check itself (a bug, an unreadable file, a missing module) is one
``alpinetags: warning:`` line and pip installs the wheel as it would without alpinetags. Fail closed: a
wheel or root the check refuses as hostile (``InputRefused``: a zip bomb's layout, a member or table over
its cap, a root file that is a FIFO) is not installed, with one ``refused: …`` line.
"""

from __future__ import annotations

import os
import posixpath
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from alpinetags._pip.patching import CHECK_OFF, TAGS_OFF, replace_pip_function, warn

CHECK_ENV = "ALPINETAGS_CHECK"
#: What a Requires-External entry must look like to be taken as a soname (the field also allows
#: things like ``C`` or ``libpng (>=1.5)``, which are not files to look for).
_SONAME_RE = re.compile(r"[A-Za-z0-9_.+-]+\.so(\.[0-9]+)*\Z")
#: At most this many missing symbols are named per file in the error (the rest are counted).
MAX_SYMBOLS_SHOWN = 5
#: Every module the check imports, also inside functions. pip 26.3 blocks imports once it starts
#: installing (``BlockedImportError``: a module could come from a half-installed distribution), so there
#: they are all imported when the install module is patched, which pip 26.3 does just before it blocks.
PRELOAD = (
    "zipfile",
    "glob",
    "io",
    "dataclasses",
    "packaging.utils",
    "alpinetags._wheel.wheelfile",
    "alpinetags._limits",
    "alpinetags._elf.zipguard",
    "alpinetags._engine.detcache",
    "alpinetags._pip.twins",
    "alpinetags._pip.readcache",
    "alpinetags._engine.readlog",
    "json",
    "alpinetags._elf.elfdynamic",
    "alpinetags._elf.elfscan",
    "alpinetags._load.native",
    "alpinetags._system.loadpath",
    "alpinetags._load.loadsim",
    "alpinetags.model",
    "alpinetags._load.facts",
    "alpinetags._elf.arch",
    "alpinetags._system.musl",
    "alpinetags._system.os_release",
    "alpinetags._engine.plugins",
    "alpinetags._engine.entrypoints",
    "alpinetags._engine.detect",
    "alpinetags._engine.markers_vars",
    "alpinetags.markers",
    "distro",
)
#: Why a module of ``PRELOAD`` could not be imported (reported when the check then fails open).
preload_errors: dict[str, str] = {}


@dataclass(frozen=True)
class Problem:
    """One file of the wheel that would not load on the target, and why."""

    member: str  # the path inside the wheel, or "METADATA" for a Requires-External line
    missing_sonames: tuple[str, ...]
    missing_symbols: tuple[str, ...]

    def line(self) -> str:
        """``  pkg/mod.so needs libssl.so.1.1, libcrypto.so.1.1``: the sonames first, as the loader
        fails on them first; symbols are named only when every library was found."""
        if self.missing_sonames:
            return f"  {self.member} needs {', '.join(self.missing_sonames)}, which the system does not have"
        shown = ", ".join(self.missing_symbols[:MAX_SYMBOLS_SHOWN])
        more = len(self.missing_symbols) - MAX_SYMBOLS_SHOWN
        shown += f" and {more} more" if more > 0 else ""
        return f"  {self.member} needs symbols the system's libraries do not define: {shown}"


@dataclass(frozen=True)
class Refusal:
    """Why a wheel is not installed: what is missing where, and what the user can do about it."""

    wheel: str  # the wheel's file name
    project: str  # the name pip installs it as (for --no-binary)
    root: str
    problems: tuple[Problem, ...]
    hints: tuple[str, ...]  # from the check, e.g. "apk add so:libssl.so.1.1"

    def message(self) -> str:
        """The one error pip prints (pip adds ``ERROR: `` in front)."""
        where = "this system" if self.root in ("", "/") else f"the system in {self.root} (ALPINETAGS_ROOT)"
        lines = [f"alpinetags: {self.wheel} would not load on {where}, so pip does not install it:"]
        lines.extend(p.line() for p in self.problems)
        lines.append("ways out:")
        lines.extend(f"  {hint}" for hint in self.hints)
        lines.append(f"  pip install --no-binary {self.project} ...   build it from source on this system")
        lines.append(f"  {CHECK_ENV}=0 pip install ...   install it anyway, unchecked")
        return "\n".join(lines)


def check_switches(environ: Mapping[str, str]) -> bool:
    """False when ``ALPINETAGS_CHECK`` or ``ALPINETAGS_PIP`` is ``0`` (or off/false/no); a
    ``ConfigError`` naming the variable for a value that is neither on nor off (the CLI's answer)."""
    from alpinetags._pip.hook import hook_enabled, switch_on

    return hook_enabled(environ) and switch_on(environ, CHECK_ENV)


def check_enabled(environ: Mapping[str, str]) -> bool:
    """``check_switches`` under pip, which must run whatever the environment says: a bad switch is one
    warning naming it, and the check is off (pip installs as it would without alpinetags)."""
    from alpinetags._pip.hook import hook_enabled, switch_on

    try:
        if not hook_enabled(environ):
            return False
    except Exception as exc:  # the same line as the tag wrapper's, so pip prints it once
        warn(f"{TAGS_OFF}: {type(exc).__name__}: {exc}")
        return False
    try:
        return switch_on(environ, CHECK_ENV)
    except Exception as exc:
        warn(f"{CHECK_OFF}: {type(exc).__name__}: {exc}")
        return False


def is_pure(wheel_path: str) -> bool:
    """True when the wheel's file name gives platform ``any`` only (nothing native to check).

    Read from the name alone: pip has not opened the wheel yet, and a pure wheel must cost nothing.
    """
    base = os.path.basename(wheel_path)
    if not base.endswith(".whl"):
        return False
    platforms = base[: -len(".whl")].rsplit("-", 1)[-1].split(".")
    return all(p == "any" for p in platforms)


def target_root(environ: Mapping[str, str], explicit_platforms: Sequence[str] = ()) -> Optional[str]:
    """The root of the system the wheel will run on: ``ALPINETAGS_ROOT``, or ``/``.

    ``None`` when pip was given ``--platform`` (``explicit_platforms``) and no root: pip then installs
    for another system (``pip install --platform ... --target DIR``), which is not ``/``, and the check
    has nothing to check against.
    """
    root = environ.get("ALPINETAGS_ROOT", "")
    if root:
        return root
    return None if explicit_platforms else "/"


def soname_looking(names: Sequence[str]) -> list[str]:
    """The Requires-External entries that name a shared library file (``libssl.so.1.1``)."""
    return [n for n in names if _SONAME_RE.match(n)]


def soname_in_root(soname: str, root: str) -> bool:
    """Whether a loader of the root could find ``soname``: in any directory either of its loaders
    searches (musl's path file or default path, glibc's ld.so.conf and defaults), links followed inside
    the root (``native.resolve_soname``).

    Only the cheap first look, for ``Requires-External`` names, so it is lenient: a soname found here
    is checked again, with everything the loader does, by the full check.
    """
    from alpinetags._load import native

    system = _system(root, "")
    dirs = tuple(dict.fromkeys((*system.musl_path, *system.glibc_dirs)))
    return native.resolve_soname(soname, root, dirs) is not None


def requires_external_problem(declared: Sequence[str], root: str) -> Optional[Problem]:
    """The ``Requires-External`` sonames of a wheel that the root lacks, as a ``Problem`` (or None).
    More sonames than an object may need (``limits.MAX_NEEDED``) are refused, not each looked up."""
    from alpinetags import _limits as limits

    sonames = soname_looking(declared)
    if len(sonames) > limits.MAX_NEEDED:
        raise limits.refused("METADATA Requires-External", len(sonames), limits.MAX_NEEDED, "sonames")
    missing = tuple(s for s in sonames if not soname_in_root(s, root))
    return Problem("METADATA (Requires-External)", missing, ()) if missing else None


def soname_hints(sonames: Sequence[str], root: str) -> tuple[str, ...]:
    """What the plugins suggest for sonames the root lacks (``apk add so:libexpat.so.1 ...``), each once."""
    from alpinetags._load import native
    from alpinetags._pip.hook import _registry

    system = _system(root, "")
    hints = native.plugin_hints(_registry(os.environ))
    return tuple(dict.fromkeys(h for soname in sonames for h in hints(system, soname)))


@dataclass
class Scanned:
    """One read of a wheel before pip installs it: what the check needs, and the ELF bytes it read.

    ``kept`` holds the uncompressed ELF members (up to ``KEEP_LIMIT`` bytes), handed to pip's own
    extraction so that the check costs no second decompression (``wrap_install_wheel``).
    """

    container: Any  # elfscan.ScannedContainer
    kept: dict[str, list[bytes]]  # member name -> its bytes, in the pieces zipguard.inflate read


#: At most this many uncompressed ELF bytes of one wheel are kept for pip's extraction (the rest it
#: decompresses again): pyarrow 26 has 200 MB of ELF, scipy 90 MB.
KEEP_LIMIT = 256 * 1024 * 1024
#: Members not opened at all: archives (pip installs them as files; nothing is loaded from inside
#: them), and names of source, text and image files, which no loader loads. Most members of a wheel are
#: ``.py`` files: opening each one to read four bytes cost about 2 % of a 40-wheel install.
_NOT_ELF = (".tar.xz", ".tar.gz", ".tgz", ".tar.bz2", ".tar", ".zip", ".whl",
            ".py", ".pyi", ".pyc", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp", ".f", ".f90",
            ".txt", ".md", ".rst", ".json", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".xml", ".csv",
            ".html", ".css", ".js", ".typed", ".pem", ".mo", ".po", ".png", ".jpg", ".gif", ".svg",
            ".ttf", ".afm", ".npy", ".npz")  # fmt: skip
_METADATA_RE = re.compile(r"[^/]+\.dist-info/METADATA\Z")


#: The marker environment of each target root, detected once per pip process (``marker_environment``).
_environments: dict[str, Optional[dict[str, str]]] = {}


def marker_environment(root: str) -> Optional[dict[str, str]]:
    """The PEP 508 environment of the system in ``root``, for the markers of ``Requires-External`` entries
    (an entry ``libfoo.so.1; sys_platform == "darwin"`` is not needed here). ``None`` when it cannot be
    had, and then every entry counts: a marker left unevaluated can only refuse, never pass, a wheel."""
    if root not in _environments:
        try:
            from alpinetags._pip.hook import _registry
            from alpinetags.markers import default_environment
            from alpinetags.model import Target

            # The process's plugins, as the tag list loaded them: none is imported again here, where
            # pip 26.3 already blocks imports.
            target = Target(root=root, environ=dict(os.environ))
            _environments[root] = default_environment(target=target, registry=_registry(os.environ))
        except Exception:
            _environments[root] = None
    return _environments[root]


#: A ``Requires-External`` line with a marker (``libfoo.so.1; sys_platform == "darwin"``).
_MARKED_RE = re.compile(r"^Requires-External:[^\n]*;", re.MULTILINE | re.IGNORECASE)


def metadata_text(zf: Any) -> str:
    """The text of the one ``*.dist-info/METADATA`` of the wheel open in ``zf`` if it has a
    ``Requires-External`` header, else ``""`` (also without one METADATA)."""
    from alpinetags._wheel.wheelfile import MAX_META
    from alpinetags.errors import InputRefused

    metadata = [i for i in zf.infolist() if _METADATA_RE.match(i.filename)]
    if len(metadata) != 1:
        return ""
    if metadata[0].file_size > MAX_META:  # declared: zipfile stops at it, so it bounds the read
        raise InputRefused(
            f"{metadata[0].filename}: {metadata[0].file_size} bytes exceeds the cap of {MAX_META}"
        )
    text: str = zf.read(metadata[0]).decode("utf-8", "replace")
    # Most wheels have no such header: their METADATA (a long description included) is not split into
    # lines. A header whose name lower()s to the field's is in the text's lower() too.
    return text if "requires-external" in text.lower() else ""


def declared_in(text: str, root: Optional[str] = None) -> tuple[str, ...]:
    """The ``Requires-External`` names of a METADATA ``text`` (``metadata_text``); with ``root``, those
    whose marker is false for the system there are left out (its environment is detected only when an
    entry has a marker)."""
    from alpinetags._wheel.wheelfile import parse_requires_external

    if not text:
        return ()
    environment = marker_environment(root) if root is not None and _MARKED_RE.search(text) else None
    return parse_requires_external(text, environment)


def scan_members(zf: Any, wheel_path: str) -> Scanned:
    """Every ELF member of the wheel open in ``zf``, parsed by ``elfdynamic`` (the project's one ELF
    reader), with the uncompressed bytes kept for pip. ``ElfError`` for a member that cannot be read."""
    from alpinetags._elf.elfdynamic import parse_dynamic_symbols
    from alpinetags._elf.elfscan import ELF_MAGIC, ElfObject, ScannedContainer
    from alpinetags._elf.zipguard import DATA_ERRORS, SPOOL_OVER, ChunkFile, Inflation, inflate, parse_stream
    from alpinetags._limits import within
    from alpinetags._pip.twins import this_process as twins
    from alpinetags.errors import InputRefused

    objects: list[Any] = []
    kept: dict[str, list[bytes]] = {}
    size = kept_size = 0
    inflation = Inflation(os.path.basename(wheel_path))
    for info in zf.infolist():
        if info.is_dir() or info.file_size < 64 or info.filename.lower().endswith(_NOT_ELF):
            continue
        twin = twins.find(zf, info)
        if twin is not None:  # the same bytes as a library read before: its symbols; pip inflates it
            inflation.charge(info.filename, info.file_size)
            objects.append(ElfObject(info.filename, info.file_size, twin))
            size += info.file_size
            continue
        try:
            with zf.open(info) as raw:
                if raw.peek(4)[:4] != ELF_MAGIC:  # peek, so the whole member is read below without a copy
                    continue
                inflation.charge(info.filename, info.file_size)  # refused on what it declares, unread
                if info.file_size > SPOOL_OVER:  # parsed from a temporary file, not kept for pip
                    symbols = parse_stream(raw, b"", info.file_size, parse_dynamic_symbols)
                    data: list[bytes] = []
                else:
                    data = inflate(raw, b"", info.file_size)
                    symbols = parse_dynamic_symbols(ChunkFile(data), info.file_size)  # type: ignore[arg-type]
        except InputRefused as exc:
            raise within(exc, f"{os.path.basename(wheel_path)}!{info.filename}") from None
        except DATA_ERRORS as exc:  # its data does not inflate to what its entry says
            raise InputRefused(f"{os.path.basename(wheel_path)}!{info.filename}: {exc}") from None
        objects.append(ElfObject(info.filename, info.file_size, symbols))
        twins.remember(zf, wheel_path, info, symbols)
        size += info.file_size
        if data and kept_size + info.file_size <= KEEP_LIMIT:
            kept[info.filename] = data
            kept_size += info.file_size
    return Scanned(ScannedContainer(wheel_path, tuple(objects), size, ()), kept)


NativeCheck = Callable[[Any, str], tuple[tuple[Problem, ...], tuple[str, ...]]]

#: The target system as the check reads it, per (root, arch): read once per pip process.
_systems: dict[tuple[str, str], Any] = {}


def _system(root: str, arch: str) -> Any:
    """``native.read_system(root, arch)``, once per pip process (``""``: the root's own arch)."""
    from alpinetags._load import native

    system = _systems.get((root, arch))
    if system is None:
        system = _systems[(root, arch)] = native.read_system(root, arch or None)
    return system


def native_problems(container: Any, root: str) -> tuple[tuple[Problem, ...], tuple[str, ...]]:
    """The entries of the scanned wheel that would not load in ``root`` (``alpinetags._load.native``), and
    the hints the plugins give for what is missing."""
    from alpinetags._load import native
    from alpinetags._pip.hook import _registry

    if not container.objects:
        return (), ()
    arch = next((o.symbols.arch for o in container.objects if o.symbols.arch), "")
    system = _system(root, arch)
    hints = native.plugin_hints(_registry(os.environ))
    entries = entry_members(container.objects)
    found = _entry_problems(native.check_objects([container], system, hints=hints, interpreter=""), entries)
    if found[0] and root == "/" and sys.executable:
        # On this system the modules are judged as this interpreter will import them: some rely on what
        # it links (mypyc modules take libm from python on glibc). Reading the interpreter's closure
        # costs a few ms per wheel, and it can only add what a module finds, so it is read only for a
        # wheel that fails without it. In another root, the interpreter that will import them is unknown.
        report = native.check_objects([container], system, hints=hints, interpreter=sys.executable)
        found = _entry_problems(report, entries)
    return found


def _entry_problems(report: Any, entries: frozenset[str]) -> tuple[tuple[Problem, ...], tuple[str, ...]]:
    """The failures of a ``native.CheckReport`` among ``entries``, and the hints given for them."""
    problems = []
    found_hints: list[str] = []
    for obj in report.failures:
        if _member(obj.path) not in entries:
            continue  # a bundled library: judged as its loaders load it, not on its own
        symbols = (*obj.missing_symbols, *obj.missing_versions)
        problems.append(Problem(_member(obj.path), obj.missing_sonames, symbols))
        found_hints.extend(h for h in obj.hints if h not in found_hints)
    return tuple(problems), tuple(found_hints)


def entry_members(objects: Sequence[Any]) -> frozenset[str]:
    """The members of a wheel that something outside it loads: those no object of the wheel needs.

    A library bundled in ``<pkg>.libs/`` (auditwheel) is only ever loaded by the wheel's own modules,
    through their RPATH, and the loader finds its siblings among the libraries already loaded. Checked
    on its own it would miss them (and a helper library of an extension module would miss the Python C
    API its importer provides), so only the entries are judged, each with everything it loads.
    """
    needed = {n for o in objects for n in o.symbols.needed}
    names = {o.member: {posixpath.basename(o.member), o.symbols.soname} for o in objects}
    return frozenset(member for member, known in names.items() if not known & needed)


def _member(path: str) -> str:
    """``wheel.whl!pkg/mod.so`` -> ``pkg/mod.so``: the error names the wheel once, at its top."""
    return path.split("!", 1)[1] if "!" in path else path


@dataclass
class Inspection:
    """The outcome for one wheel: a refusal, or ``None``; and the ELF bytes read, for pip's extraction."""

    refusal: Optional[Refusal]
    kept: dict[str, list[bytes]]


def inspect_wheel(
    project: str,
    wheel_path: str,
    environ: Mapping[str, str],
    explicit_platforms: Sequence[str] = (),
    native: Optional[NativeCheck] = None,
) -> Inspection:
    """Whether pip may install the wheel at ``wheel_path`` (``refusal`` is ``None``), else why not.

    Pure wheels are not opened. ``Requires-External`` sonames the target lacks refuse the wheel before
    any ELF is read. Errors of the check itself propagate (the caller fails open). ``native`` defaults
    to the full ELF check of ``alpinetags._load.native``.
    """
    if is_pure(wheel_path):
        return Inspection(None, {})
    root = target_root(environ, explicit_platforms)
    if root is None:
        return Inspection(None, {})
    wheel = os.path.basename(wheel_path)
    import zipfile

    from alpinetags._elf.elfscan import ScannedContainer
    from alpinetags._elf.zipguard import open_archive
    from alpinetags._limits import per_check
    from alpinetags._pip import readcache
    from alpinetags.errors import ElfError

    with per_check():  # one budget for the wheel and its lookups; past a cap: InputRefused
        found = readcache.load(wheel_path, environ)  # this very file, read by an earlier pip run?
        known = found.read
        if known is not None:
            declared = requires_external_problem(declared_in(known.metadata, root), root)
            size = sum(o.size for o in known.objects)
            scanned = Scanned(ScannedContainer(wheel_path, known.objects, size, ()), {})  # pip inflates all
        else:
            started = readcache.before(wheel_path)
            try:
                with open_archive(wheel_path) as zf:  # a bomb's central directory: InputRefused
                    metadata = metadata_text(zf)
                    declared = requires_external_problem(declared_in(metadata, root), root)
                    if declared is None:
                        scanned = scan_members(zf, wheel_path)
            except (zipfile.BadZipFile, ElfError) as exc:
                raise OSError(f"{wheel}: {exc}") from exc
            if declared is None:
                read = readcache.WheelRead(metadata, scanned.container.objects)
                readcache.store(wheel_path, environ, read, started, found.seen)
        if declared is not None:
            hints = soname_hints(declared.missing_sonames, root)
            return Inspection(Refusal(wheel, project, root, (declared,), hints), {})
        problems, hints = (native or native_problems)(scanned.container, root)
    if not problems:
        return Inspection(None, scanned.kept)
    return Inspection(Refusal(wheel, project, root, problems, hints), {})


def check_for_pip(
    project: str,
    wheel_path: str,
    environ: Mapping[str, str],
    explicit_platforms: Sequence[str] = (),
    native: Optional[NativeCheck] = None,
) -> Optional[Refusal]:
    """``inspect_wheel``'s verdict alone: ``None`` when pip may install the wheel."""
    return inspect_wheel(project, wheel_path, environ, explicit_platforms, native).refusal


def _installation_error(message: str) -> Exception:
    """pip's own ``InstallationError``: pip prints it as ``ERROR: message`` and exits 1, no traceback."""
    from pip._internal.exceptions import InstallationError

    return InstallationError(message)


#: The ELF bytes the check decompressed, per wheel path, while pip installs that wheel.
_prefills: dict[str, dict[str, list[bytes]]] = {}


def prefilled_zipfile(base: type, prefills: dict[str, dict[str, list[bytes]]]) -> type:
    """A ``ZipFile`` class whose ``open`` of a member the check already decompressed (``prefills``, per
    archive path) returns those bytes, once, instead of decompressing it again; every other call is
    ``base``'s own. pip reads each member once. (Imported here, when pip's wheel module is patched: pip
    26.3 blocks imports while it installs.)"""
    from alpinetags._elf.zipguard import PieceFile

    class PrefilledZipFile(base):  # type: ignore[misc]
        def open(self, name: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            kept = prefills.get(self.filename) if isinstance(self.filename, str) else None
            key = getattr(name, "filename", name)
            data = kept.pop(key, None) if kept and mode == "r" and isinstance(key, str) else None
            if data is None:
                return super().open(name, mode, *args, **kwargs)
            return PieceFile(data)

    PrefilledZipFile.alpinetags_prefilled = True
    return PrefilledZipFile


def refused_message(wheel_path: str, exc: Exception) -> str:
    """The error pip prints for a wheel (or root) the check refuses as hostile: it is not installed."""
    wheel = os.path.basename(wheel_path)
    return (
        f"alpinetags: {wheel} is not installed: {exc}\n"
        f"  (a wheel or root the check cannot read safely is refused; {CHECK_ENV}=0 installs it unchecked)"
    )


def wrap_install_wheel(original: Callable[..., Any]) -> Callable[..., Any]:
    """pip's ``install_wheel`` with the native check in front; pip's own alone when the check fails.

    When the check passes, the ELF bytes it decompressed wait in ``_prefills`` under the wheel's path
    for the duration of the call: pip's wheel module opens ``ZipFile(wheel_path)``, which
    ``patch_wheel_module`` made a ``prefilled_zipfile``, and reads each member with ``open``.
    """

    from alpinetags.errors import InputRefused

    def install_wheel(*args: Any, **kwargs: Any) -> Any:
        project = args[0] if args else kwargs.get("name")
        wheel_path = args[1] if len(args) > 1 else kwargs.get("wheel_path")
        found = None
        if check_enabled(os.environ) and isinstance(wheel_path, str):
            try:
                from alpinetags._pip.hook import explicit_platforms

                found = inspect_wheel(str(project), wheel_path, os.environ, explicit_platforms)
            except InputRefused as exc:  # hostile input, or past a cap: fail closed
                raise _installation_error(refused_message(wheel_path, exc)) from None
            except Exception as exc:
                cause = f"{type(exc).__name__}: {exc}"
                if preload_errors:  # the first cause, rather than pip's later block of the same import
                    cause = "; ".join(f"importing {n}: {e}" for n, e in preload_errors.items())
                wheel = os.path.basename(wheel_path)
                warn(f"native check failed for {wheel}, pip installs it unchecked: {cause}")
        if found is not None and found.refusal is not None:
            raise _installation_error(found.refusal.message())
        if found is None or not found.kept or not isinstance(wheel_path, str):
            return original(*args, **kwargs)
        _prefills[wheel_path] = found.kept
        try:
            return original(*args, **kwargs)
        finally:
            _prefills.pop(wheel_path, None)

    install_wheel.__doc__ = original.__doc__
    return install_wheel


def blocks_imports() -> bool:
    """Whether this pip blocks imports while it installs: pip 26.3 does, and says so by having
    ``pip._EAGER_IMPORTS`` (names it imports before it blocks). Older pips import the install module
    at start for most commands, so preloading there would cost every ``pip`` run about 0.1 s for nothing.
    """
    return getattr(sys.modules.get("pip"), "_EAGER_IMPORTS", None) is not None


def preload() -> None:
    """Import ``PRELOAD`` now, while pip still allows imports; remember what failed and why."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:
            preload_errors[name] = f"{type(exc).__name__}: {exc}"


def _accepts_wheel_path(func: Any) -> bool:
    """Whether ``func`` is ``install_wheel(name, wheel_path, ...)`` as the wrapper expects."""
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    return tuple(code.co_varnames[: min(code.co_argcount, 2)]) == ("name", "wheel_path")


def patch_wheel_module(module: Any) -> None:
    """Replace ``module.install_wheel`` (pip's wheel installer) by the wrapper (see ``replace_pip_function``).

    Just before the swap, the check's modules are preloaded on a pip that blocks imports while installing,
    and the module's ``ZipFile`` is replaced by one that takes the ELF bytes the check already read.
    """

    def before() -> None:
        if blocks_imports():
            preload()
        base = getattr(module, "ZipFile", None)
        if isinstance(base, type) and not getattr(base, "alpinetags_prefilled", False):
            module.ZipFile = prefilled_zipfile(base, _prefills)

    replace_pip_function(
        module, "install_wheel", _accepts_wheel_path, wrap_install_wheel,
        "install_wheel(name, wheel_path, ...)", before,
    )  # fmt: skip
