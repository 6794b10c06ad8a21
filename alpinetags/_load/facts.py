"""What musl's releases export, read from the package data (copies of ``shared/data``).

* ``musl-abi/musl-X.Y.Z-x86_64.txt``: the names musl's ``libc.so`` exports, per release.

musl is a libc, not a distribution, so its facts are the core's; what a distribution ships (which musl,
which libraries, in which release) is its plugin's (the shipped ``alpinetags_alpine.facts``).

Two facts of the symbol lists matter to anyone asking "does musl R provide what a binary built on B
needs": musl 1.2.4 dropped the LFS64 ``*64`` aliases from ``libc.so`` but its loader still resolves them
for old binaries (so they are not missing), and 1.1.21 hid about 200 internal ``__*`` names (so a binary
that used one breaks on newer musl). ``MuslAbi.resolves`` accounts for the first; the second shows up in
the data as it is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Optional

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")

#: The musl release whose loader started resolving the LFS64 names it dropped from libc.so.
LFS64_DROPPED = (1, 2, 4)

_ABI_FILE_RE = re.compile(r"musl-(\d+\.\d+\.\d+)-([a-z0-9_]+)\.txt\Z")


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.2.4"`` -> ``(1, 2, 4)``; anything after the numbers (``_git2023``) is ignored."""
    m = re.match(r"\d+(?:\.\d+)*", version.strip())
    if not m:
        raise ValueError(f"not a version: {version!r}")
    return tuple(int(p) for p in m.group(0).split("."))


def read_table_rows(path: str) -> list[list[str]]:
    """The rows of a tab-separated data table: blank and ``#`` lines skipped, the first line left is the
    column header and is left out too. (The plugins' tables use the same layout.)"""
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]


@dataclass(frozen=True)
class MuslAbi:
    """The names one musl release's ``libc.so`` exports, and the names its loader resolves besides."""

    version: str
    arch: str
    exports: frozenset[str]
    #: Names the loader resolves although libc.so does not export them (LFS64 aliases, 1.2.4 and later).
    aliases: frozenset[str] = frozenset()

    def resolves(self, name: str) -> bool:
        """Whether a binary's reference to ``name`` is satisfied by this musl (libc.so or its loader)."""
        return name in self.exports or name in self.aliases

    def missing(self, names: frozenset[str]) -> frozenset[str]:
        return frozenset(n for n in names if not self.resolves(n))


_COMMENT_LINE = re.compile(r"^#.*$", re.MULTILINE)


def read_symbol_list(path: str) -> frozenset[str]:
    """A ``musl-abi`` list: one name a line, ``#`` lines are comments."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # names hold no whitespace: one split in C, after the comment lines are cut out, is a third of the
    # cost of a Python test per line (13 lists of ~1,700 names are read by every wheel show and check)
    return frozenset(_COMMENT_LINE.sub("", text).split())


def lfs64_base(name: str) -> Optional[str]:
    """``open64`` -> ``open``, ``readdir64_r`` -> ``readdir_r``, ``__fxstat64`` -> ``__fxstat``."""
    if name.endswith("64"):
        return name[:-2]
    if name.endswith("64_r"):
        return name[:-4] + "_r"
    return None


#: Wheel-tag arches that are 32-bit: musl 1.2 gave them a 64-bit ``time_t`` and the ``__*time64`` names.
TIME32_ARCHES = frozenset({"i686", "armv6l", "armv7l", "armv8l", "ppc", "riscv32", "s390"})


def arch_classes(arch: str) -> tuple[str, ...]:
    """The classes of ``musl-abi/arch-changes.tsv`` that apply to a wheel-tag arch (``i686``: both)."""
    return (*(("time32",) if arch in TIME32_ARCHES else ()), arch)


@cache
def arch_changes(data_dir: str = DATA_DIR) -> tuple[tuple[str, str, tuple[int, ...], str], ...]:
    """The rows of ``musl-abi/arch-changes.tsv``: (class, ``+``/``-``, from version, name)."""
    path = os.path.join(data_dir, "musl-abi", "arch-changes.tsv")
    if not os.path.exists(path):
        return ()
    return tuple((c, change, version_tuple(v), name) for c, change, v, name in read_table_rows(path))


def musl_abis(data_dir: str = DATA_DIR, arch: str = "x86_64") -> tuple[MuslAbi, ...]:
    """Every symbol list in ``musl-abi/`` for ``arch``, oldest first (``_musl_abis``), read once however the
    arguments are spelled: a cache keyed on the call as written read the 13 lists once for ``musl_abis()``
    and again for ``musl_abis(arch="x86_64")``."""
    return _musl_abis(data_dir, arch)


@cache
def _musl_abis(data_dir: str, arch: str) -> tuple[MuslAbi, ...]:
    """Every symbol list in ``musl-abi/``, oldest first, with the LFS64 aliases the loader resolves, for
    ``arch``: the x86_64 lists with the changes measured on real loaders of other arches applied
    (``arch-changes.tsv``: the ``__*time64`` names of the 32-bit arches from musl 1.2.2, ...).

    The alias set is taken from the data itself: the ``*64`` names the last list before 1.2.4 had and
    1.2.4's does not, kept only where the plain name is exported (that is what the loader maps to).
    """
    if arch != "x86_64":
        classes = arch_classes(arch)
        changes = [row for row in arch_changes(data_dir) if row[0] in classes]
        out = []
        for abi in musl_abis(data_dir):
            v = version_tuple(abi.version)
            add = {name for _c, change, since, name in changes if change == "+" and v >= since}
            drop = {name for _c, change, since, name in changes if change == "-" and v >= since}
            out.append(MuslAbi(abi.version, arch, (abi.exports | add) - drop, abi.aliases))
        return tuple(out)
    lists = [(v, ver, arch, read_symbol_list(path)) for v, ver, arch, path in _abi_files(data_dir)]
    before = [exports for v, _, _, exports in lists if v < LFS64_DROPPED]
    dropped = _lfs64_of(before[-1] if before else frozenset())  # from the list already read
    out = []
    for v, ver, arch, exports in lists:
        aliases: frozenset[str] = frozenset()
        if v >= LFS64_DROPPED:
            aliases = _aliases(dropped, exports)
        out.append(MuslAbi(ver, arch, exports, aliases))
    return tuple(out)


def _abi_files(data_dir: str) -> list[tuple[tuple[int, ...], str, str, str]]:
    """The ``musl-abi/`` lists, oldest first: (version tuple, version, arch, path)."""
    abi_dir = os.path.join(data_dir, "musl-abi")
    found = []
    for name in os.listdir(abi_dir):
        m = _ABI_FILE_RE.match(name)
        if m:
            found.append((version_tuple(m.group(1)), m.group(1), m.group(2), os.path.join(abi_dir, name)))
    return sorted(found)


@cache
def lfs64_names(data_dir: str = DATA_DIR) -> frozenset[str]:
    """The ``*64`` names (``open64``, ``readdir64_r``) of the last list before musl 1.2.4 dropped them from
    ``libc.so``; read from that one list, so a check on a root with musl 1.2.4 does not read all 13."""
    before = [path for v, _, _, path in _abi_files(data_dir) if v < LFS64_DROPPED]
    return _lfs64_of(read_symbol_list(before[-1]) if before else frozenset())


def _lfs64_of(exports: frozenset[str]) -> frozenset[str]:
    return frozenset(n for n in exports if lfs64_base(n))


def lfs64_aliases(exports: frozenset[str], data_dir: str = DATA_DIR) -> frozenset[str]:
    """The LFS64 names a musl 1.2.4+ loader exporting ``exports`` still resolves for old binaries: those
    it no longer exports whose plain name it does (that is what its loader maps them to)."""
    return _aliases(lfs64_names(data_dir), exports)


def _aliases(lfs64: frozenset[str], exports: frozenset[str]) -> frozenset[str]:
    return frozenset(n for n in lfs64 - exports if lfs64_base(n) in exports)


def abi_for(musl_version: str, data_dir: str = DATA_DIR, arch: str = "x86_64") -> Optional[MuslAbi]:
    """The symbol list of exactly this musl release (patch level counts) for ``arch``, or ``None``."""
    want = version_tuple(musl_version)[:3]
    for abi in musl_abis(data_dir, arch or "x86_64"):
        if version_tuple(abi.version) == want:
            return abi
    return None


def known_libc_names(data_dir: str = DATA_DIR, arch: str = "x86_64") -> frozenset[str]:
    """Every name any listed musl ever exported or resolved (on ``arch``): what counts as "a libc symbol"."""
    return _known_libc_names(data_dir, arch or "x86_64")


@cache
def _known_libc_names(data_dir: str, arch: str) -> frozenset[str]:
    out: set[str] = set()
    for abi in musl_abis(data_dir, arch):
        out |= abi.exports | abi.aliases
    return frozenset(out)
