"""The target's interpreter: which file stands for it, and what its ELF header says about the libc.

``detect()`` looks the file up and reads its header once (``find_interpreter``) and hands the result to the
core's base platform and to every plugin's ``alpinetags_detect`` (keyword ``interpreter``). Looking it up is
the dear part on a foreign root: each candidate path is resolved link by link inside the root, and a
minirootfs has no Python, so the search walks the missing Python paths before it reaches busybox. Done by
each of the three readers (the core's arch and libc, then the answering plugin), that cost more than the
rest of detection.
"""

from __future__ import annotations

import logging
import mmap
import os
import re
import sys
from dataclasses import dataclass
from typing import Optional

from alpinetags._elf.elffile import ElfHeader, read_elf
from alpinetags._system.musl import loader_arch
from alpinetags.errors import AlpinetagsError, ElfError
from alpinetags.model import Target

#: glibc's loader names on every Linux arch (ld-linux-x86-64.so.2, ld-linux-armhf.so.3, ld64.so.2, ld.so.1).
_GLIBC_LOADER_RE = re.compile(r"(ld-linux[a-z0-9_-]*\.so\.\d|ld64\.so\.\d|ld\.so\.1)\Z")

log = logging.getLogger("alpinetags")

#: Where an interpreter is looked for in a root given without ``--executable``.
ROOT_EXECUTABLES = (
    "usr/bin/python3",
    "usr/local/bin/python3",
    "bin/busybox",
    "bin/sh",
)


def target_executable(target: Target) -> Optional[str]:
    """The host path of the executable whose ELF header stands for the target's interpreter."""
    return _locate(target)[0]


def _locate(target: Target) -> tuple[Optional[str], bool]:
    """``target_executable``, and whether the file is a stand-in found by searching the root."""
    if target.executable:
        return target.executable, False
    if target.is_running_system:
        return sys.executable, False
    for rel in ROOT_EXECUTABLES:
        # Inside the root: Alpine's /bin/sh -> /bin/busybox must not land on this machine's busybox.
        try:
            path = target.resolve("/" + rel)
        except (OSError, ValueError):  # a link loop, or a NUL in the root
            continue
        if os.path.isfile(path):
            return path, True
    return None, True


@dataclass(frozen=True)
class Interpreter:
    """What an interpreter's ELF header says about its libc: the loader it asks for names the libc."""

    path: str  # the host path read
    loader: Optional[str]  # PT_INTERP as written (a path inside the target); None: statically linked
    libc: str  # "musl", "glibc", or "" (static, or a loader of no known libc)

    def describe(self) -> str:
        """For ``sources``: ``PT_INTERP of /usr/bin/python3: /lib/ld-musl-x86_64.so.1``."""
        if self.loader is None:
            return f"{self.path} is statically linked (no PT_INTERP): no libc loader"
        return f"PT_INTERP of {self.path}: {self.loader}"


def libc_of_loader(loader: Optional[str]) -> str:
    """``musl`` for ``ld-musl-<arch>.so.1``, ``glibc`` for glibc's loader names, else ``""``."""
    if loader is None:
        return ""
    if loader_arch(loader) is not None:
        return "musl"
    return "glibc" if _GLIBC_LOADER_RE.search(os.path.basename(loader)) else ""


@dataclass(frozen=True)
class InterpreterFile:
    """The target's interpreter as found and read once per ``detect()``: what every reader is handed.

    ``path`` is the host path of the executable (``None``: the root holds none of ``ROOT_EXECUTABLES``);
    ``header`` its ELF header, or ``error`` the typed error reading it met. Both are kept, not just the
    libc, because the core takes the arch from the header of any executable, while only some count for
    the libc (``linked``). ``stand_in`` is True when the file was found by the search of a root, not named
    by the user nor this process's own interpreter.
    """

    path: Optional[str]
    header: Optional[ElfHeader] = None
    error: Optional[ElfError] = None
    stand_in: bool = False

    def linked(self) -> Optional[Interpreter]:
        """The libc the interpreter is linked against, from its PT_INTERP; ``None`` when there is nothing
        to read. Raises the error the read met (``ElfError``), as reading it again would.

        This, not os-release, decides the libc: an Alpine root may hold a glibc or a static Python, whose
        wheels must be manylinux ones whatever the distro says. A root without Python is judged by its
        busybox or shell; a static one of those says nothing about the libc a Python there would use, so
        it counts as nothing to read.
        """
        if self.error is not None:
            raise self.error.with_traceback(None)  # one error object, raised by each reader in turn
        if self.path is None or self.header is None:
            return None
        loader = self.header.interpreter
        if self.stand_in and loader is None and not os.path.basename(self.path).startswith("python"):
            return None
        return Interpreter(self.path, loader, libc_of_loader(loader))


def find_interpreter(target: Target) -> InterpreterFile:
    """Look up the target's interpreter and read its ELF header: the one time per ``detect()`` this is
    done. Raises nothing on a bad file: one that cannot be read is kept as ``error``, for each reader to
    handle as it always did (the core reports it, the alpine plugin assumes musl, the musl plugin fails)."""
    exe, stand_in = _locate(target)
    if exe is None:
        log.info("no interpreter to read in %s", target.root)
        return InterpreterFile(None)
    try:
        header = read_elf(exe)
    except ElfError as exc:
        log.info("cannot read %s: %s", exe, exc)
        return InterpreterFile(exe, error=exc, stand_in=stand_in)
    found = InterpreterFile(exe, header, stand_in=stand_in)
    linked = found.linked()
    if linked is None:
        log.info("%s is no Python and static: it says nothing about the libc", exe)
    else:
        log.info("read %s: %s", exe, linked.describe())
    return found


def read_interpreter(target: Target) -> Optional[Interpreter]:
    """Look up and read the target's interpreter anew (``find_interpreter(target).linked()``), for a
    caller outside ``detect()``; a hook is handed what ``detect()`` read. Raises ``ElfError``."""
    return find_interpreter(target).linked()


# --------------------------------------------------------------------------------------------------
# which Python an executable is, read and never run

#: CPython's version-specific extension suffix as compiled into the interpreter or its libpython
#: (``dynload_shlib.c``: ``"." SOABI ".so"``): ``.cpython-311-x86_64-linux-gnu.so``, NUL-terminated.
_SOABI_BYTES_RE = re.compile(
    rb"\.(cpython-(\d)(\d{1,3})([a-z]{0,4})-[a-z0-9_]{1,32}-linux-[a-z0-9]{1,16})\.so\x00"
)
_LIBPYTHON_RE = re.compile(r"libpython(\d)\.(\d{1,3})([a-z]{0,4})\.so")
_NAME_RE = re.compile(r"python(\d)\.(\d{1,3})([a-z]{0,4})\Z")
#: No interpreter or libpython larger than this is searched for its SOABI.
_MAX_SCAN = 512 * 1024 * 1024


@dataclass(frozen=True)
class PythonBuild:
    """Which CPython an executable is: ``version`` ``"3.12"`` (``""`` unknown), its ABI flags (``"t"`` for
    a free-threaded build), its SOABI (``cpython-312-x86_64-linux-gnu``, ``""`` when not found) and where
    that was read, for messages."""

    version: str = ""
    abiflags: str = ""
    soabi: str = ""
    source: str = ""

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.version.split(".")) if self.version else ()


def _soabi_in(path: str) -> Optional[PythonBuild]:
    """The SOABI string compiled into ``path`` (an interpreter or its libpython), or ``None``."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if not 0 < size <= _MAX_SCAN:
                return None
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                m = _SOABI_BYTES_RE.search(data)
                groups = [g.decode() for g in m.groups()] if m else []
    except (OSError, ValueError):
        return None
    if not groups:
        return None
    soabi, major, minor, flags = groups
    return PythonBuild(f"{major}.{minor}", flags, soabi, f"the SOABI compiled into {path}")


def soabi_in(path: str) -> Optional[PythonBuild]:
    """The SOABI compiled into the file at ``path`` (an interpreter or a libpython found elsewhere, as by
    the loader simulation with a library path), or ``None``."""
    return _soabi_in(path)


def python_of(path: str, root: str = "/") -> PythonBuild:
    """Which CPython the executable at ``path`` (a path on this machine, inside ``root`` if the root is not
    ``/``) is, read from its files and never run: the SOABI compiled into it or into the libpython it
    needs (found by its RUNPATH/RPATH, ``$ORIGIN`` expanded, then the usual directories, inside the root);
    else the libpython's soname; else the file name (``python3.12``). Empty when none says."""
    from alpinetags._elf.elfdynamic import read_dynamic_symbols
    from alpinetags._system.loadpath import expand_origin

    found = _soabi_in(path)
    if found is not None:
        return found
    try:
        symbols = read_dynamic_symbols(path)
    except ElfError:
        symbols = None
    if symbols is not None:
        for name in symbols.needed:
            m = _LIBPYTHON_RE.match(name)
            if not m:
                continue
            target = Target(root=root)
            top = os.path.abspath(root)
            inside = path if top == "/" else "/" + os.path.relpath(os.path.abspath(path), top)
            origin = os.path.dirname(inside)
            dirs = [expand_origin(d, origin) for d in (symbols.runpath or symbols.rpath)]
            for d in [*(x for x in dirs if x), "/lib", "/usr/local/lib", "/usr/lib"]:
                try:
                    lib = target.resolve(os.path.join(d, name))
                except OSError:
                    continue
                if os.path.isfile(lib):
                    inner = _soabi_in(lib)
                    if inner is not None:
                        return inner
                    break
            return PythonBuild(f"{m.group(1)}.{m.group(2)}", m.group(3), "", f"DT_NEEDED {name} of {path}")
    m = _NAME_RE.match(os.path.basename(path))
    if m:
        return PythonBuild(f"{m.group(1)}.{m.group(2)}", m.group(3), "", f"the file name {path}")
    return PythonBuild()


def glibc_version_in_root(root: str, loader: Optional[str], arch: str = "") -> tuple[str, str]:
    """The glibc version of the root (``"2.36"``) from its ``libc.so.6``'s version definitions (the newest
    ``GLIBC_2.N`` it defines), and the file read; ``("", "")`` when none is found. ``libc.so.6`` is looked
    for beside the loader ``PT_INTERP`` names (links followed inside the root), then in glibc's default
    directories and those of ``/etc/ld.so.conf``; with ``arch``, only a ``libc.so.6`` of that wheel arch
    counts (``--arch aarch64`` on an x86_64 root says nothing about an aarch64 glibc)."""
    from alpinetags._elf.elfdynamic import read_dynamic_symbols
    from alpinetags._system.loadpath import read_system

    target = Target(root=root)
    dirs: list[str] = []
    if loader:
        try:
            real = target.resolve(loader)
        except OSError:
            real = ""
        if real:
            top = os.path.abspath(root)
            dirs.append(
                os.path.dirname(real) if top == "/" else "/" + os.path.relpath(os.path.dirname(real), top)
            )
    try:
        dirs.extend(read_system(root).glibc_dirs)
    except AlpinetagsError:
        pass
    for d in dict.fromkeys(dirs):
        try:
            host = target.resolve(os.path.join(d, "libc.so.6"))
        except OSError:
            continue
        if not os.path.isfile(host):
            continue
        try:
            libc = read_dynamic_symbols(host)
        except ElfError:
            continue
        if arch and libc.arch != arch:
            continue
        defs = libc.version_defs
        versions = [
            tuple(int(x) for x in v[len("GLIBC_") :].split("."))
            for v in defs
            if re.fullmatch(r"GLIBC_2(\.\d{1,3}){1,2}", v)
        ]
        if versions:
            newest = max(versions)
            return f"{newest[0]}.{newest[1]}", f"the GLIBC_2.x versions {host} defines"
    return "", ""
