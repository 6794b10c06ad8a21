"""Which C library an ELF object was built for, and whether the Python that would import an extension
module imports a file of that name at all: the libc mismatches a symbol check alone misses.

A glibc-built module whose symbols happen to resolve in musl still never loads on Alpine when its name says
``-linux-gnu``: CPython's import system tries only its own ``EXTENSION_SUFFIXES`` (Alpine's CPython 3.11:
``.cpython-311-x86_64-linux-musl.so``, ``.abi3.so``, ``.so``; verified by the tests with the real CPython in
the real 3.17 root), so ``foo.cpython-311-x86_64-linux-gnu.so`` is not ``foo`` to it and the import fails.
The same holds the other way round for a musllinux wheel's ``-linux-musl`` module under a glibc Python, and
for a module of another CPython version (``cpython-312`` under 3.11). All of it is read from names and
headers: nothing is run.
"""

from __future__ import annotations

import posixpath
import re
from typing import Optional

from alpinetags._elf.elfdynamic import DynamicSymbols

#: ``name.cpython-311-x86_64-linux-gnu.so``, ``name.cpython-313t-aarch64-linux-musl.so``,
#: ``name.cpython-311-arm-linux-gnueabihf.so``: CPython's version-, arch- and libc-specific suffix.
_SOABI_RE = re.compile(r"\.cpython-(\d)(\d+)([a-z]*)-([a-z0-9_]+)-linux-(gnu|musl)[a-z0-9]*\.so\Z")


def built_for(symbols: DynamicSymbols) -> str:
    """``"glibc"`` or ``"musl"``: the C library the object was linked against, from its loader
    (``PT_INTERP``), its glibc symbol versions or the libc it names in ``DT_NEEDED``; ``""`` when nothing
    says (a library that needs no libc). ``libc.so`` as a ``DT_NEEDED`` name is musl's (what the Rust
    toolchain and Debian's musl-gcc write): glibc's ``libc.so`` is a linker script, never a runtime name."""
    interp = posixpath.basename(symbols.interpreter)
    if interp.startswith("ld-musl-"):
        return "musl"
    if interp.startswith(("ld-linux", "ld64.so", "ld.so")):
        return "glibc"
    if any(n.startswith("libc.musl-") or n == "libc.so" for n in symbols.needed):
        return "musl"
    if "libc.so.6" in symbols.needed or any(
        v.startswith("GLIBC_") for _file, versions in symbols.version_needs for v in versions
    ):
        return "glibc"
    return ""


def extension_soabi(filename: str) -> Optional[tuple[str, str, str]]:
    """(Python version ``"3.11"`` with its ABI flags, arch triplet part, libc) of a version-specific
    extension suffix; ``None`` for ``.abi3.so``, ``.so`` and anything else every CPython tries."""
    m = _SOABI_RE.search(posixpath.basename(filename))
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2)}{m.group(3)}", m.group(4), "glibc" if m.group(5) == "gnu" else "musl"


def suffixes_for(libc: str, python: str = "", arch: str = "") -> str:
    """The extension suffixes a CPython of that libc (version, arch) imports, for messages."""
    version = python.replace(".", "") if python else "3XY"
    triplet = f"{arch or 'ARCH'}-linux-{'musl' if libc == 'musl' else 'gnu'}"
    return f".cpython-{version}-{triplet}.so, .abi3.so and .so"


def import_mismatch(
    filename: str, importer_libc: str, importer_python: str = "", importer_soabi: str = ""
) -> str:
    """Why the Python that imports extension modules here (``importer_libc``: its C library; its version
    ``"3.11"`` and its SOABI ``cpython-311-x86_64-linux-musl`` when known) never imports the module
    ``filename``, or ``""`` when its name is one it tries. A reason in words, for the verdict: the loader
    is never asked. The SOABI, when known, decides alone: CPythons built on Alpine before their configure
    knew musl (krunner's 3.6 and 3.10) call themselves ``-linux-gnu`` and import those names."""
    soabi = extension_soabi(filename)
    if soabi is None or importer_libc not in ("musl", "glibc"):
        return ""
    python, arch, libc = soabi
    base = posixpath.basename(filename)
    if importer_soabi and base.endswith(f".{importer_soabi}.so"):
        return ""
    exact = f".{importer_soabi}.so, .abi3.so and .so" if importer_soabi else ""
    tried = exact or suffixes_for(importer_libc, importer_python, arch)
    if libc != importer_libc:
        return (
            f"built for {libc} ({base} is a -linux-{'gnu' if libc == 'glibc' else 'musl'} module): a "
            f"{importer_libc} Python imports {tried} only, never this file"
        )
    if importer_python and python.rstrip("dt") != importer_python:
        return (
            f"{base} is a module for CPython {python}: CPython {importer_python} imports "
            f"{tried} only, never this file"
        )
    if exact:
        return f"{base} is not named for the Python that imports it here: it imports {exact} only"
    return ""


def mismatch_words(symbols: DynamicSymbols, loader_libc: str) -> str:
    """The libc mismatch in words for an object that fails to load (its failures are symbols and sonames
    only): ``"built for glibc (it needs libc.so.6 and glibc symbol versions); this system's loader is
    musl"``, or ``""`` when the object was built for the loader that loads it (or nothing says)."""
    built = built_for(symbols)
    if not built or not loader_libc or built == loader_libc:
        return ""
    if built == "glibc":
        said = "its loader is glibc's" if symbols.interpreter else "it names libc.so.6 or glibc versions"
    else:
        said = "its loader is musl's" if symbols.interpreter else "it names musl's libc"
    return f"built for {built} ({said}); the loader here is {loader_libc}'s"
