"""What the Alpine plugin knows about Alpine's releases, read from its package data (copies of
``shared/data``).

* ``data/alpine-musl.tsv``: which musl each Alpine release ships.
* ``data/alpine-arches.tsv``: Alpine's arch names and their wheel-tag spelling.
* ``data/alpine-sonames/sonames.tsv``: the sonames each library package ships in each release (x.0).

These tables live here, not in the core, because the core knows no distribution by name: it asks the
plugins (hooks ``alpinetags_native_hints``, ``alpinetags_wheel_report``). What musl itself exports is a
fact of the libc, not of Alpine, and stays in ``alpinetags._load.facts``; its names are re-exported here so a
study of Alpine (``alpinetags.experiments``) reads both from one module.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Optional

from alpinetags._load.facts import (
    LFS64_DROPPED,
    MuslAbi,
    abi_for,
    known_libc_names,
    lfs64_base,
    musl_abis,
    read_symbol_list,
    read_table_rows,
    version_tuple,
)

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

__all__ = [
    "DATA_DIR",
    "LFS64_DROPPED",
    "SONAMES_DIR",
    "AlpineArch",
    "AlpineRelease",
    "MuslAbi",
    "SonameRow",
    "abi_for",
    "alpine_arches",
    "alpine_releases",
    "alpine_soname_hints",
    "alpine_sonames",
    "known_libc_names",
    "lfs64_base",
    "musl_abis",
    "read_symbol_list",
    "soname_provider",
    "soname_providers",
    "soname_table_releases",
    "version_tuple",
]


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


@cache
def alpine_releases(data_dir: str = DATA_DIR) -> tuple[AlpineRelease, ...]:
    """Every Alpine release in the table, oldest first."""
    out = []
    for row in read_table_rows(os.path.join(data_dir, "alpine-musl.tsv")):
        row += [""] * (4 - len(row))
        out.append(AlpineRelease(row[0], row[1], row[2] == "verified", row[3]))
    return tuple(sorted(out, key=lambda r: version_tuple(r.version)))


@cache
def alpine_arches(data_dir: str = DATA_DIR) -> tuple[AlpineArch, ...]:
    """Every Alpine arch in the table, in its order."""
    rows = read_table_rows(os.path.join(data_dir, "alpine-arches.tsv"))
    return tuple(AlpineArch(r[0], r[1], r[2]) for r in rows)


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
    for row in read_table_rows(os.path.join(data_dir, SONAMES_DIR, "sonames.tsv")):
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
