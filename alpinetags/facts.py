"""The facts the experiments stand on, read from the package data (copies of ``shared/data``).

* ``alpine-musl.tsv``: which musl each Alpine release ships.
* ``alpine-arches.tsv``: Alpine's arch names and their wheel-tag spelling.
* ``musl-abi/musl-X.Y.Z-x86_64.txt``: the names musl's ``libc.so`` exports, per release.

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

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

#: The musl release whose loader started resolving the LFS64 names it dropped from libc.so.
LFS64_DROPPED = (1, 2, 4)

_ABI_FILE_RE = re.compile(r"musl-(\d+\.\d+\.\d+)-([a-z0-9_]+)\.txt\Z")


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.2.4"`` -> ``(1, 2, 4)``; anything after the numbers (``_git2023``) is ignored."""
    m = re.match(r"\d+(?:\.\d+)*", version.strip())
    if not m:
        raise ValueError(f"not a version: {version!r}")
    return tuple(int(p) for p in m.group(0).split("."))


@dataclass(frozen=True)
class AlpineRelease:
    """One row of ``alpine-musl.tsv``."""

    version: str  # "3.19"
    musl: str  # "1.2.4"
    verified: bool
    note: str

    @property
    def minor(self) -> int:
        return version_tuple(self.version)[1]


@dataclass(frozen=True)
class AlpineArch:
    """One row of ``alpine-arches.tsv``."""

    alpine_arch: str  # "armv7"
    loader: str  # "ld-musl-armhf.so.1"
    tag_arch: str  # "armv7l"


def _rows(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    return [line.split("\t") for line in lines[1:]]  # the first is the column header


@cache
def alpine_releases(data_dir: str = DATA_DIR) -> tuple[AlpineRelease, ...]:
    """Every Alpine release in the table, oldest first."""
    out = []
    for row in _rows(os.path.join(data_dir, "alpine-musl.tsv")):
        row += [""] * (4 - len(row))
        out.append(AlpineRelease(row[0], row[1], row[2] == "verified", row[3]))
    return tuple(sorted(out, key=lambda r: version_tuple(r.version)))


@cache
def alpine_arches(data_dir: str = DATA_DIR) -> tuple[AlpineArch, ...]:
    """Every Alpine arch in the table, in its order."""
    return tuple(AlpineArch(r[0], r[1], r[2]) for r in _rows(os.path.join(data_dir, "alpine-arches.tsv")))


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


def read_symbol_list(path: str) -> frozenset[str]:
    """A ``musl-abi`` list: one name a line, ``#`` lines are comments."""
    with open(path, encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip() and not line.startswith("#"))


def lfs64_base(name: str) -> Optional[str]:
    """``open64`` -> ``open``, ``readdir64_r`` -> ``readdir_r``, ``__fxstat64`` -> ``__fxstat``."""
    if name.endswith("64"):
        return name[:-2]
    if name.endswith("64_r"):
        return name[:-4] + "_r"
    return None


@cache
def musl_abis(data_dir: str = DATA_DIR) -> tuple[MuslAbi, ...]:
    """Every symbol list in ``musl-abi/``, oldest first, with the LFS64 aliases the loader resolves.

    The alias set is taken from the data itself: the ``*64`` names the last list before 1.2.4 had and
    1.2.4's does not, kept only where the plain name is exported (that is what the loader maps to).
    """
    abi_dir = os.path.join(data_dir, "musl-abi")
    found = []
    for name in os.listdir(abi_dir):
        m = _ABI_FILE_RE.match(name)
        if m:
            found.append((version_tuple(m.group(1)), m.group(1), m.group(2), os.path.join(abi_dir, name)))
    found.sort()
    lists = [(v, ver, arch, read_symbol_list(path)) for v, ver, arch, path in found]
    before = [exports for v, _, _, exports in lists if v < LFS64_DROPPED]
    lfs64_names = frozenset(n for n in (before[-1] if before else ()) if lfs64_base(n))
    out = []
    for v, ver, arch, exports in lists:
        aliases: frozenset[str] = frozenset()
        if v >= LFS64_DROPPED:
            aliases = frozenset(n for n in lfs64_names - exports if lfs64_base(n) in exports)
        out.append(MuslAbi(ver, arch, exports, aliases))
    return tuple(out)


def abi_for(musl_version: str, data_dir: str = DATA_DIR) -> Optional[MuslAbi]:
    """The symbol list of exactly this musl release (patch level counts), or ``None``."""
    want = version_tuple(musl_version)[:3]
    for abi in musl_abis(data_dir):
        if version_tuple(abi.version) == want:
            return abi
    return None


def known_libc_names(data_dir: str = DATA_DIR) -> frozenset[str]:
    """Every name any listed musl ever exported or resolved: what counts as "a libc symbol"."""
    out: set[str] = set()
    for abi in musl_abis(data_dir):
        out |= abi.exports | abi.aliases
    return frozenset(out)


def oldest_alpine_with_musl(musl_version: str, data_dir: str = DATA_DIR) -> Optional[AlpineRelease]:
    """The oldest Alpine release whose musl is this version or newer."""
    want = version_tuple(musl_version)
    for release in alpine_releases(data_dir):
        if version_tuple(release.musl) >= want:
            return release
    return None


# --------------------------------------------------------------------------------------------------
# system libraries per Alpine release (alpine-sonames/sonames.tsv, a copy of shared/data)

SONAMES_DIR = "alpine-sonames"


@dataclass(frozen=True)
class SonameRow:
    """One row of ``sonames.tsv``: the sonames one source package ships in one Alpine release (x.0)."""

    release: str  # "3.17"
    package: str  # the aport: "openssl"
    version: str  # "3.0.7-r0"
    sonames: tuple[str, ...]


def _soname_cell(cell: str) -> tuple[str, ...]:
    """``"libssl.so.3 libcrypto.so.3"`` -> both; parenthesised remarks (``(no libtinfo.so.6)``) and the
    musl row's ``$ARCH`` patterns are not sonames a release ships."""
    kept = re.sub(r"\([^)]*\)", " ", cell)
    return tuple(t for t in kept.split() if ".so" in t and "$" not in t)


@cache
def alpine_sonames(data_dir: str = DATA_DIR) -> tuple[SonameRow, ...]:
    """Every row of the soname table, oldest release first."""
    rows = []
    for row in _rows(os.path.join(data_dir, SONAMES_DIR, "sonames.tsv")):
        if len(row) >= 4:
            rows.append(SonameRow(row[0], row[1], row[2], _soname_cell(row[3])))
    return tuple(sorted(rows, key=lambda r: version_tuple(r.release)))


def soname_table_releases(data_dir: str = DATA_DIR) -> tuple[str, ...]:
    """The Alpine releases the soname table covers, oldest first (``3.10`` ... ``3.24``)."""
    return tuple(dict.fromkeys(r.release for r in alpine_sonames(data_dir)))


def soname_providers(soname: str, data_dir: str = DATA_DIR) -> tuple[SonameRow, ...]:
    """The rows (release, package) that ship ``soname``, oldest release first; ``()`` if the table does
    not know it (the table has 28 libraries, not all of Alpine)."""
    return tuple(r for r in alpine_sonames(data_dir) if soname in r.sonames)


def soname_provider(soname: str, release: str, data_dir: str = DATA_DIR) -> Optional[SonameRow]:
    """The package that ships ``soname`` in Alpine ``release`` (``3.17`` or ``3.17.10``), or ``None``."""
    minor = ".".join(release.split(".")[:2])
    return next((r for r in soname_providers(soname, data_dir) if r.release == minor), None)


def alpine_soname_hints(release: str, soname: str, data_dir: str = DATA_DIR) -> list[str]:
    """What to tell a user of Alpine ``release`` whose system lacks ``soname``, from the table.

    Either the package to add (apk resolves ``so:<soname>`` to whichever package provides it), or, when
    that release has no such package, the releases that had one and what the same package ships now.
    Nothing for a soname the table does not know or a release it cannot place.
    """
    providers = soname_providers(soname, data_dir)
    if not providers:
        return []
    minor = ".".join(release.split(".")[:2])
    known = soname_table_releases(data_dir)
    here = next((r for r in providers if r.release == minor), None)
    if here is not None:
        return [f"apk add so:{soname}  (Alpine {minor}: package {here.package} {here.version} ships it)"]
    first, last = providers[0].release, providers[-1].release
    span = first if first == last else f"{first}-{last}"
    hint = f"no Alpine {minor or release} package ships {soname} (Alpine {span}: {providers[-1].package})"
    now = next(
        (r for r in alpine_sonames(data_dir) if r.release == minor and r.package == providers[-1].package),
        None,
    )
    if now is not None and now.sonames:
        hint += f"; Alpine {minor}'s {now.package} {now.version} ships {' '.join(now.sonames)}"
    if minor not in known:
        hint = (
            f"Alpine {span} ships {soname} ({providers[-1].package}); {minor or release} is not in the table"
        )
    return [hint]
