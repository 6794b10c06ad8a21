"""Where a loader looks on a root: what the root is (``read_system``), which names are the C library itself,
which loader loads an object, and one soname along one search path (``resolve_soname``).

Everything is read from files inside the root, links followed inside it (``Target.resolve``); nothing there is
run. The loader simulation that uses this is ``alpinetags._load.loadsim``; the check built on both,
``alpinetags._load.native``.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Optional, Union

from alpinetags import _limits as limits
from alpinetags._elf.elfdynamic import DynamicSymbols
from alpinetags._elf.elfscan import ElfObject
from alpinetags._safefile import read_regular, regular_size
from alpinetags.errors import ConfigError, LoaderError, OsReleaseError, RootRefused
from alpinetags.model import Target

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
#: No ld.so.conf include chain deeper than this (a loop would be endless).
_MAX_CONF_DEPTH = limits.MAX_CONF_DEPTH
#: musl composes each candidate ``dir/name`` in a buffer of ``2*NAME_MAX+2`` bytes (``load_library``): a
#: candidate that does not fit, its NUL included, is never opened (the search goes on past it).
MUSL_PATH_BUF = 2 * 255 + 2


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
    #: ``LD_LIBRARY_PATH`` of the process that will load the objects (``split_library_path``): stated for
    #: another root (``--library-path``), this process's own for the running system.
    library_path: tuple[str, ...] = ()

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
            "library_path": list(self.library_path),
        }


# --------------------------------------------------------------------------------------------------
# the system


def _root_host(target: Target, inside: str) -> str:
    """``Target.resolve``, a link loop refusing the root (the loader would fail on it too, but what it
    then does is not this reader's to guess)."""
    try:
        return target.resolve(inside)
    except (OSError, ValueError) as exc:
        where = os.path.join(target.root, inside.lstrip("/"))
        raise RootRefused(f"{where}: {getattr(exc, 'strerror', None) or exc}") from None


def read_root_file(target: Target, inside: str, what: str) -> Optional[str]:
    """The text of a configuration file of the root (``None`` if it does not exist), read through the
    guards of ``safefile``: only a regular file, without blocking, at most ``MAX_CONF_SIZE`` bytes. A
    FIFO, a device, a link loop or a file over the cap refuses the root (``RootRefused``), fast."""
    host = _root_host(target, inside)
    try:
        if regular_size(host, limits.MAX_CONF_SIZE, RootRefused, what, missing_ok=True) is None:
            return None
        return read_regular(host, limits.MAX_CONF_SIZE, RootRefused, what).decode("utf-8", "replace")
    except RootRefused as exc:  # named as the root names it, then where its links led
        raise limits.within(exc, os.path.join(target.root, inside.lstrip("/"))) from None


def _musl_path_file(target: Target, loader_arch: str) -> tuple[str, ...]:
    """musl reads ``/etc/ld-musl-<arch>.path`` (entries split at ``:`` and newlines); an absent file means
    the built-in path. One that cannot be read safely refuses the root (``read_root_file``)."""
    text = read_root_file(target, f"/etc/ld-musl-{loader_arch}.path", "a musl path file")
    if text is None:
        return MUSL_DEFAULT_PATH
    entries = tuple(dict.fromkeys(p for p in text.replace("\n", ":").split(":") if p))
    if len(entries) > limits.MAX_RPATH_ENTRIES:
        raise limits.refused(
            f"{target.root}: /etc/ld-musl-{loader_arch}.path",
            len(entries),
            limits.MAX_RPATH_ENTRIES,
            "entries",
            RootRefused,
        )
    return entries


def _ld_so_conf(target: Target, path: str) -> list[str]:
    """Directories of ``/etc/ld.so.conf`` inside the root, ``include`` globs followed (inside the root).

    Each file is read once (an include of a file already read adds nothing new: its directories are
    kept once anyway), at most ``MAX_CONF_FILES`` files in all and ``MAX_CONF_DEPTH`` includes deep, so
    files that include each other cost what their number costs; past a cap the root is refused."""
    import glob
    import itertools

    seen: set[str] = set()
    out: list[str] = []

    def read(inside: str, depth: int) -> None:
        host = _root_host(target, inside)
        if host in seen:
            return
        if depth > _MAX_CONF_DEPTH:
            raise limits.refused(
                f"{target.root}: {inside}", depth, _MAX_CONF_DEPTH, "include levels", RootRefused
            )
        seen.add(host)
        if len(seen) > limits.MAX_CONF_FILES:
            raise limits.refused(
                f"{target.root}: /etc/ld.so.conf", len(seen), limits.MAX_CONF_FILES, "files", RootRefused
            )
        text = read_root_file(target, inside, "an ld.so.conf file")
        for raw in (text or "").splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include"):
                for pattern in line.split()[1:]:
                    if not pattern.startswith("/"):
                        pattern = posixpath.join(posixpath.dirname(inside), pattern)
                    base = _root_host(target, posixpath.dirname(pattern))
                    found = glob.iglob(os.path.join(glob.escape(base), posixpath.basename(pattern)))
                    hits = list(itertools.islice(found, limits.MAX_CONF_FILES + 1))
                    if len(hits) > limits.MAX_CONF_FILES:
                        where = f"{target.root}: include {pattern}"
                        raise limits.refused(
                            where, len(hits), limits.MAX_CONF_FILES, "files or more", RootRefused
                        )
                    for hit in sorted(hits):
                        read(posixpath.join(posixpath.dirname(pattern), os.path.basename(hit)), depth + 1)
            elif line.startswith("/"):
                out.append(line.split("=", 1)[0])

    read(path, 0)
    return out


def split_library_path(value: str) -> tuple[str, ...]:
    """The entries of an ``LD_LIBRARY_PATH`` value as musl reads it (``path_open``): split at ``:`` and
    newlines, empty entries skipped, each kept once in order; past ``MAX_RPATH_ENTRIES``: refused."""
    entries = tuple(dict.fromkeys(p for p in value.replace("\n", ":").split(":") if p))
    if len(entries) > limits.MAX_RPATH_ENTRIES:
        raise limits.refused("the library path", len(entries), limits.MAX_RPATH_ENTRIES, "entries")
    return entries


def running_library_path(environ: Optional[Mapping[str, str]] = None) -> tuple[str, ...]:
    """This process's ``LD_LIBRARY_PATH`` (``environ``, default ``os.environ``), which the programs it
    starts inherit; none when it runs set-uid or set-gid (the loaders ignore it then, ``AT_SECURE``)."""
    env = os.environ if environ is None else environ
    if os.getuid() != os.geteuid() or os.getgid() != os.getegid():
        return ()
    return split_library_path(env.get("LD_LIBRARY_PATH", ""))


def read_system(
    root: str = "/",
    arch: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    library_path: Optional[Sequence[str]] = None,
) -> System:
    """What ``root`` is, read from its files: its musl loader and version, its glibc, its os-release.

    ``arch`` is the wheel-tag arch whose loader is looked for (default: this machine's). Nothing in the
    root is run; a root that is not a directory is a ``ConfigError``. ``library_path`` is the
    ``LD_LIBRARY_PATH`` the loading process will have (entries inside the root); ``None`` means this
    process's own for the running system (``/``) and none for another root, whose programs' environment
    nothing here can know.
    """
    from alpinetags._elf.arch import host_arch
    from alpinetags._system.musl import LOADER_ARCH, read_musl_version
    from alpinetags._system.os_release import read_os_release

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
    has_glibc = any(_is_glibc(safe_resolve(target, posixpath.join(d, "libc.so.6"))) for d in glibc_dirs)
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
        library_path=(
            (running_library_path(environ) if os.path.realpath(root) == "/" else ())
            if library_path is None
            else split_library_path(":".join(library_path))
        ),
    )


def _is_glibc(host_path: str) -> bool:
    """Whether a ``libc.so.6`` is glibc's: it defines ``GLIBC_2.*`` versions. Alpine's gcompat installs a
    ``libc.so.6`` too (musl underneath, no glibc versions): that root stays a musl root."""
    from alpinetags._elf.elfdynamic import read_dynamic_symbols
    from alpinetags.errors import ElfError, InputRefused

    if not host_path or not os.path.exists(host_path):
        return False
    try:
        return any(v.startswith("GLIBC_2.") for v in read_dynamic_symbols(host_path).version_defs)
    except ElfError:
        return True  # there, but unreadable: say glibc, as its name does
    except InputRefused as exc:
        raise RootRefused(str(exc)) from None


def safe_resolve(target: Target, inside: str) -> str:
    """``Target.resolve``, with ``""`` for a path that cannot be resolved (a link loop): not found."""
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


_ORIGIN = re.compile(r"\$\{ORIGIN\}|\$ORIGIN")


@functools.lru_cache(maxsize=1024)  # asked once per name and per object up the chain: the same few tuples
def musl_rpath(entries: tuple[str, ...]) -> tuple[str, ...]:
    """An object's RPATH (or RUNPATH) entries as musl's ``fixup_rpath`` takes them: split at newlines
    too, and none at all when a ``$`` in it starts anything but ``$ORIGIN``/``${ORIGIN}`` (``$LIB``,
    ``$PLATFORM``, a typo): musl then ignores the whole RPATH, not only that entry. Unexpanded."""
    text = ":".join(entries)
    if len(_ORIGIN.findall(text)) != text.count("$"):
        return ()
    return tuple(p for p in text.replace("\n", ":").split(":") if p)


def expand_origin(entry: str, origin: str) -> Optional[str]:
    """``$ORIGIN``/``${ORIGIN}`` in one RPATH entry replaced by ``origin``, in one pass (an origin holding a
    ``$`` stays as it is); ``None`` for an entry with another ``$`` token (``$LIB``, ``$PLATFORM``: musl
    does not expand them, see ``musl_rpath``; glibc rarely needs them)."""
    if len(_ORIGIN.findall(entry)) != entry.count("$"):
        return None
    return _ORIGIN.sub(lambda _: origin, entry)


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
        return soname if os.path.lexists(safe_resolve(target, soname) or "\0") else None
    for entry in search_dirs:
        d = expand_origin(entry, origin or "") if "$" in entry else entry
        if not d or not d.startswith("/"):
            continue
        inside = posixpath.normpath(posixpath.join(d, soname))
        host = safe_resolve(target, inside)
        if host and os.path.exists(host):
            return inside
    return None
