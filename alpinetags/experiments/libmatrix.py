"""The matrix with system libraries: a wheel built on Alpine B that links library L, installed on R.

A distro tag exists so that a wheel may link the distro's own libraries instead of bundling them. So the
question per (B, R, L) is not only "is R's musl new enough" but "does R still have the sonames L had on
B". The facts come from the shared soname table (the Alpine plugin's
``data/alpine-sonames/sonames.tsv``: the sonames of 28 libraries in the x.0 tree of each release
3.10 to 3.24, with sources).

Two columns here hold by construction and are computed only to be labelled so:

* the alpine scheme accepts ``alpine_<B>`` on R exactly when B <= R (the Alpine plugin's policy, on the
  64-bit arches), and Alpine's musl never goes down between releases, so no accepted pair is unsafe by
  the musl version;
* a musllinux wheel bundles L (auditwheel copies it into the wheel), so no musllinux pair breaks by a
  missing system soname: what can break it is R's musl (the musl-abi lists, ``matrix.py``).

What is measured from the data is the rest: which accepted pairs lose a soname, and where.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Optional

from alpinetags_alpine import facts

SONAMES_TSV = os.path.join(facts.DATA_DIR, "alpine-sonames", "sonames.tsv")
#: Rows that are not a library a wheel links: musl is judged by the musl rule, libpython by the cp tag.
NOT_LIBRARIES = frozenset({"musl", "python3"})
#: Side packages that carry another library's sonames for a while (openssl3 before 3.17, the 1.1
#: compat package in community on 3.17 and 3.18). They count as "in the release", not as libraries.
SIDE_PACKAGES = {"openssl3": "openssl", "openssl1.1-compat": "openssl"}


@dataclass(frozen=True)
class SonameRow:
    release: str
    package: str
    version: str
    sonames: tuple[str, ...]


@cache
def soname_rows(path: str = SONAMES_TSV) -> tuple[SonameRow, ...]:
    """Every row of the table (the header line is skipped)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines()[1:]:
            cells = line.split("\t")
            if len(cells) < 4 or not line.strip():
                continue
            sonames = tuple(re.sub(r"\([^)]*\)", " ", cells[3]).split())  # "(no libtinfo.so.6)" is a note
            out.append(SonameRow(cells[0], cells[1], cells[2], sonames))
    return tuple(out)


def releases(rows: Sequence[SonameRow]) -> list[str]:
    return sorted({r.release for r in rows}, key=facts.version_tuple)


def libraries(rows: Sequence[SonameRow]) -> list[str]:
    return sorted({r.package for r in rows} - NOT_LIBRARIES - set(SIDE_PACKAGES))


def provided(rows: Sequence[SonameRow], release: str, with_side: bool = True) -> dict[str, str]:
    """``{soname: package}`` of every soname some package of ``release`` carries."""
    out: dict[str, str] = {}
    for r in rows:
        if r.release == release and r.package not in NOT_LIBRARIES:
            if with_side or r.package not in SIDE_PACKAGES:
                for s in r.sonames:
                    out.setdefault(s, r.package)
    return out


@dataclass(frozen=True)
class LibCell:
    library: str
    built_on: str
    installed_on: str
    needs: tuple[str, ...]  # L's sonames on B: what a wheel built there records as Requires-External
    missing: tuple[str, ...]  # of those, the ones no package of R carries (side packages count)
    missing_main: tuple[str, ...]  # the same, counting only L's own package in R
    alpine_accepts: bool

    @property
    def loads(self) -> bool:
        return not self.missing


def build(rows: Optional[Sequence[SonameRow]] = None, arch: str = "x86_64") -> list[LibCell]:
    """Every (library, B, R) of the table where L exists on B."""
    from alpinetags_alpine import alpine_platforms, parse_alpine_version

    rows = list(rows if rows is not None else soname_rows())
    rels = releases(rows)
    by_release = {r: provided(rows, r) for r in rels}
    accepts = {r: set(alpine_platforms(parse_alpine_version(r), arch)) for r in rels}
    cells = []
    for lib in libraries(rows):
        own = {r.release: r for r in rows if r.package == lib}
        for b in rels:
            if b not in own:
                continue
            needs = own[b].sonames
            for r in rels:
                main = set(own[r].sonames) if r in own else set()
                tag = "alpine_" + b.replace(".", "_") + "_" + arch
                cells.append(
                    LibCell(
                        library=lib,
                        built_on=b,
                        installed_on=r,
                        needs=needs,
                        missing=tuple(s for s in needs if s not in by_release[r]),
                        missing_main=tuple(s for s in needs if s not in main),
                        alpine_accepts=tag in accepts[r],
                    )
                )
    return cells


@dataclass(frozen=True)
class LibSummary:
    """One library across all pairs, for the alpine scheme."""

    library: str
    eras: tuple[tuple[str, str, str], ...]  # (first release, last release, sonames) of each soname set
    accepted: int  # pairs the alpine scheme accepts (B <= R)
    accepted_broken: int  # ... where R has none of the packages carrying a soname L had on B
    accepted_broken_main: int  # ... counting only L's own package on R (no side/compat package)
    breaks: tuple[tuple[str, str, str], ...]  # (first B, last B, the first R where it breaks)


def _eras(rows: Sequence[SonameRow], lib: str) -> tuple[tuple[str, str, str], ...]:
    own = sorted((r for r in rows if r.package == lib), key=lambda r: facts.version_tuple(r.release))
    out: list[tuple[str, str, str]] = []
    for r in own:
        key = " ".join(r.sonames)
        if out and out[-1][2] == key:
            out[-1] = (out[-1][0], r.release, key)
        else:
            out.append((r.release, r.release, key))
    return tuple(out)


def summarize(cells: Iterable[LibCell], rows: Optional[Sequence[SonameRow]] = None) -> list[LibSummary]:
    rows = list(rows if rows is not None else soname_rows())
    by_lib: dict[str, list[LibCell]] = {}
    for c in cells:
        by_lib.setdefault(c.library, []).append(c)
    out = []
    for lib, mine in sorted(by_lib.items()):
        first_break: dict[str, str] = {}
        for c in sorted(mine, key=lambda c: facts.version_tuple(c.installed_on)):
            if c.alpine_accepts and not c.loads and c.built_on not in first_break:
                first_break[c.built_on] = c.installed_on
        groups: list[tuple[str, str, str]] = []
        for b in sorted({c.built_on for c in mine}, key=facts.version_tuple):
            r = first_break.get(b, "")
            if groups and groups[-1][2] == r:
                groups[-1] = (groups[-1][0], b, r)
            else:
                groups.append((b, b, r))
        out.append(
            LibSummary(
                library=lib,
                eras=_eras(rows, lib),
                accepted=sum(c.alpine_accepts for c in mine),
                accepted_broken=sum(c.alpine_accepts and not c.loads for c in mine),
                accepted_broken_main=sum(c.alpine_accepts and bool(c.missing_main) for c in mine),
                breaks=tuple(g for g in groups if g[2]),
            )
        )
    return out
