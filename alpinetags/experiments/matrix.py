"""The build/install matrix: a wheel built on Alpine release B, installed on release R, for every pair of
releases in ``alpine-musl.tsv`` and every arch in ``alpine-arches.tsv``. This is the musl half; the
system libraries are in ``libmatrix.py``.

For each cell:

* **alpine scheme accepts**: R's ``alpine_platforms`` (the Alpine plugin's own policy) contains
  ``alpine_<B>_<arch>``. That is B <= R (and the time64 floor on 32-bit arches), by construction.
* **musllinux scheme accepts**: the wheel is labelled with B's musl minor (``musllinux_1_<minor>``, as
  auditwheel labels a build) and R's ``musllinux_platforms`` (the core's) contains that label.
* **safe by the musl rule**: B's musl <= R's musl. Alpine's musl never goes down, so for the alpine
  scheme this is an identity, not a finding (the report labels it so).
* **breakage class, from the symbol data**: what R's libc would lack of what B's libc offers, from the
  ``musl-abi`` lists (x86_64; musl's exported names are the same on every arch up to the time64 renames,
  so the lists stand for all arches): ``new-symbols`` (B's newer musl exports public names R's does not
  resolve, e.g. 1.2.5's ``preadv2`` on 1.2.3), ``hidden-internal`` (R's musl no longer exports internal
  names B's did: the ``__*`` names 1.1.21 hid, ``dummy_lock``), ``none``, or ``no-data`` (a release
  whose musl has no symbol list).
* **crosses time64**: the pair straddles Alpine 3.13 on a 32-bit arch. Measured on the real x86 roots
  (``experiments/time64.py``): code that talks only to musl keeps working (musl 1.2 keeps the 32-bit
  symbols), so this is no musl break; code that passes ``time_t`` to another system library breaks
  silently (same soname, 64-bit ``time_t``), which is why the Alpine plugin keeps its floor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Optional

from alpinetags_alpine import TIME64_ARCHES, TIME64_MINOR, alpine_platforms, parse_alpine_version
from alpinetags_alpine import facts as data

from alpinetags._system.musl import musllinux_platforms

SCHEMES = ("alpine", "musllinux")


@dataclass(frozen=True)
class Cell:
    arch: str
    built_on: str  # Alpine release B
    installed_on: str  # Alpine release R
    built_musl: str
    installed_musl: str
    alpine_accepts: bool
    musllinux_accepts: bool
    safe: bool  # by the musl rule: B's musl <= R's musl
    breakage: str  # none, new-symbols, hidden-internal, no-data
    lacking: tuple[str, ...]  # names B's musl exports that R's does not resolve (from the lists)
    time64: bool = False  # straddles 3.13 on a 32-bit arch (not a musl break: measured)

    def accepts(self, scheme: str) -> bool:
        return self.alpine_accepts if scheme == "alpine" else self.musllinux_accepts

    @property
    def breaks_by_symbols(self) -> bool:
        """New public names. ``hidden-internal`` is left out: those were musl's private names, which no
        public header makes a binary reference. time64 is left out: musl-only code survives it (measured)."""
        return self.breakage == "new-symbols"


def musllinux_label(musl: str, arch: str) -> str:
    v = data.version_tuple(musl)
    return f"musllinux_{v[0]}_{v[1]}_{arch}"


def crosses_time64(built_on: str, installed_on: str, arch: str) -> bool:
    if arch not in TIME64_ARCHES:
        return False
    b, r = data.version_tuple(built_on), data.version_tuple(installed_on)
    return (b[:2] >= (3, TIME64_MINOR)) != (r[:2] >= (3, TIME64_MINOR))


def lacking_names(built_musl: str, installed_musl: str) -> Optional[tuple[str, ...]]:
    """Names B's libc exports that R's does not resolve; ``None`` when either has no symbol list."""
    b, r = data.abi_for(built_musl), data.abi_for(installed_musl)
    if b is None or r is None:
        return None
    return tuple(sorted(r.missing(b.exports)))


def breakage_class(b_musl: str, r_musl: str) -> tuple[str, tuple[str, ...]]:
    lacking = lacking_names(b_musl, r_musl)
    if lacking is None:
        return ("none", ()) if b_musl == r_musl else ("no-data", ())
    if not lacking:
        return "none", ()
    newer = data.version_tuple(b_musl) > data.version_tuple(r_musl)
    if newer and any(not n.startswith("__") for n in lacking):
        return "new-symbols", lacking
    return "hidden-internal", lacking


def build_matrix(
    releases: Optional[Iterable[data.AlpineRelease]] = None, arches: Optional[Iterable[str]] = None
) -> list[Cell]:
    rels = list(releases if releases is not None else data.alpine_releases())
    arch_list = list(arches if arches is not None else (a.tag_arch for a in data.alpine_arches()))
    cells = []
    for arch in arch_list:
        for r in rels:
            alpine_ok = set(alpine_platforms(parse_alpine_version(r.version), arch))
            musl_ok = set(musllinux_platforms(r.musl, arch))
            for b in rels:
                v = parse_alpine_version(b.version)
                breakage, lacking = breakage_class(b.musl, r.musl)
                safe = data.version_tuple(b.musl) <= data.version_tuple(r.musl)
                cells.append(
                    Cell(
                        arch=arch,
                        built_on=b.version,
                        installed_on=r.version,
                        built_musl=b.musl,
                        installed_musl=r.musl,
                        alpine_accepts=f"alpine_{v.major}_{v.minor}_{arch}" in alpine_ok,
                        musllinux_accepts=musllinux_label(b.musl, arch) in musl_ok,
                        safe=safe,
                        breakage=breakage,
                        lacking=lacking,
                        time64=crosses_time64(b.version, r.version, arch),
                    )
                )
    return cells


@dataclass(frozen=True)
class SchemeCounts:
    scheme: str
    arch: str
    pairs: int
    accepts: int
    unsafe_accepts: int  # accepted, not safe by the musl rule
    symbol_break_accepts: int  # accepted, and the symbol data shows a break (new names, hidden, time64)
    needless_rejects: int  # rejected though safe
    builds_needed: Optional[int]  # fewest builds so every supported release installs a safe one
    builds: tuple[str, ...]
    #: One build on the newest target release, as publishers often do: releases that install it although it
    #: is unsafe or broken, and releases that get no wheel at all (and build from source).
    newest_only_broken: int = 0
    newest_only_no_wheel: int = 0


def _chosen(cells_for_r: list[Cell], builds: tuple[str, ...], scheme: str) -> Optional[Cell]:
    """The build R installs: of the accepted ones, the newest (both schemes rank newer tags first)."""
    accepted = [c for c in cells_for_r if c.built_on in builds and c.accepts(scheme)]
    if not accepted:
        return None
    return max(accepted, key=lambda c: data.version_tuple(c.built_on))


def fewest_builds(
    cells: list[Cell], scheme: str, supported: list[str], max_builds: int = 4
) -> tuple[Optional[int], tuple[str, ...]]:
    """The smallest set of build releases such that every supported release installs (picks the newest
    accepted) a build that is safe and breaks nothing by the symbol data. ``None`` if more than
    ``max_builds`` would be needed."""
    by_r: dict[str, list[Cell]] = {}
    for c in cells:
        if c.installed_on in supported:
            by_r.setdefault(c.installed_on, []).append(c)
    candidates = sorted(set(supported), key=data.version_tuple)  # a publisher builds on what it supports
    for n in range(1, max_builds + 1):
        for builds in combinations(candidates, n):
            good = True
            for r in supported:
                chosen = _chosen(by_r.get(r, []), builds, scheme)
                if chosen is None or not chosen.safe or chosen.breaks_by_symbols:
                    good = False
                    break
            if good:
                return n, builds
    return None, ()


def count(cells: list[Cell], scheme: str, arch: str, supported: list[str]) -> SchemeCounts:
    mine = [c for c in cells if c.arch == arch]
    n, builds = fewest_builds(mine, scheme, supported)
    newest = max(supported, key=data.version_tuple)
    from_newest = [c for c in mine if c.built_on == newest and c.installed_on in supported]
    return SchemeCounts(
        scheme=scheme,
        arch=arch,
        pairs=len(mine),
        accepts=sum(c.accepts(scheme) for c in mine),
        unsafe_accepts=sum(c.accepts(scheme) and not c.safe for c in mine),
        symbol_break_accepts=sum(c.accepts(scheme) and c.breaks_by_symbols for c in mine),
        needless_rejects=sum(not c.accepts(scheme) and c.safe and not c.breaks_by_symbols for c in mine),
        builds_needed=n,
        builds=builds,
        newest_only_broken=sum(
            c.accepts(scheme) and not (c.safe and not c.breaks_by_symbols) for c in from_newest
        ),
        newest_only_no_wheel=sum(not c.accepts(scheme) for c in from_newest),
    )
