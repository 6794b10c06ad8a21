"""What a wheel's ELF files need from the system, and the platform tags that say so honestly.

A tag is a promise about where a wheel loads. ``musllinux_1_1`` promises every musl from 1.1.0; jiter
0.19.0 carries it and calls ``getrandom``, which musl exports only from 1.1.20. An ``alpine_3_16`` tag is
accepted on every later Alpine release, and 3.17 has no ``libssl.so.1.1``. Neither fact is in the tag, both
are in the ELF files: the libc names they import (checked against the musl-abi symbol lists) and the
sonames they need but do not bundle (checked against the shared Alpine soname table). This module turns
those into floors (the oldest musl and Alpine release that load the wheel), the newest release where its
system sonames still exist, and a verdict on the tags the wheel carries.

The ELF files are read by ``elfscan`` (the reader of the native check): one reader, one answer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Optional

from alpinetags_alpine import facts  # interim: the Alpine rows move to the plugin next

from .elfscan import ScannedContainer, scan_wheel

_PLATFORM_RE = re.compile(r"(musllinux|alpine)_(\d+)_(\d+)_([a-z0-9_]+)\Z")
#: Packages named ``*-compat`` keep an old soname alive after the distribution moved on (Alpine 3.17-3.18's
#: ``openssl1.1-compat`` in community); a wheel that needs one only loads where someone installed it.
_COMPAT_SUFFIX = "-compat"


def system_sonames(container: ScannedContainer) -> tuple[str, ...]:
    """The sonames the wheel's ELF files need and do not bundle, sorted: the native check's answer
    (``native.system_sonames_needed``: libc's own names left out), without ``libpython``, which the
    interpreter that loads the module brings."""
    from .native import system_sonames_needed

    return tuple(n for n in system_sonames_needed(container.objects) if not n.startswith("libpython"))


def libc_names(container: ScannedContainer) -> dict[str, frozenset[str]]:
    """Per ELF member, the names it imports that no file of the wheel defines and some musl exports."""
    known = facts.known_libc_names()
    inside = container.exported()
    return {o.member: frozenset(o.symbols.required - inside) & known for o in container.objects}


# --------------------------------------------------------------------------------------------------
# the soname table


def table_releases(data_dir: str = facts.DATA_DIR) -> tuple[str, ...]:
    """The releases the soname table covers, oldest first (``facts``, the reader the native check's hints
    use too)."""
    return facts.soname_table_releases(data_dir)


@dataclass(frozen=True)
class SonameSpan:
    """Where one soname exists in the table (``*-compat`` packages not counted, but named)."""

    soname: str
    releases: tuple[str, ...]  # the releases that ship it, oldest first
    packages: tuple[str, ...]  # the packages that ship it, in any release
    compat: tuple[tuple[str, str], ...]  # (release, package) where only a *-compat package has it

    @property
    def known(self) -> bool:
        return bool(self.releases or self.compat)


def soname_span(soname: str, data_dir: str = facts.DATA_DIR) -> SonameSpan:
    """The releases of the table that ship ``soname`` by a regular package, and where only a ``*-compat``
    package does (a wheel needing it loads there only if someone installed that package)."""
    releases: list[str] = []
    packages: list[str] = []
    compat: list[tuple[str, str]] = []
    for row in facts.soname_providers(soname, data_dir):
        if row.package.endswith(_COMPAT_SUFFIX):
            compat.append((row.release, row.package))
        else:
            releases.append(row.release)
            packages.append(row.package)
    rel = sorted(set(releases), key=facts.version_tuple)
    compat = [c for c in compat if c[0] not in rel]
    return SonameSpan(soname, tuple(rel), tuple(dict.fromkeys(packages)), tuple(compat))


# --------------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class Overclaim:
    """A tag the wheel carries that admits a system the wheel cannot load on."""

    tag: str
    systems: str  # "musl 1.1.16 to 1.1.19", "Alpine 3.17 to 3.24"
    lacking: tuple[str, ...]  # the names or sonames they lack

    def __str__(self) -> str:
        return f"{self.tag} admits {self.systems}, which lack {', '.join(self.lacking)}"


@dataclass(frozen=True)
class WheelReport:
    """Everything ``alpinetags wheel show`` says about one wheel."""

    wheel: str
    arch: str  # the wheel-tag arch of its ELF files, "" if none (or "x86_64,aarch64" if mixed)
    elf_files: int
    carried: tuple[str, ...]  # the platform tags of its file name
    libc_names: int  # how many distinct libc names it needs
    musl_floor: Optional[str]  # oldest listed musl that resolves them all; None: none does
    musl_floor_is_oldest_list: bool  # the floor is the oldest list: older musl may load it too
    musl_floor_symbols: tuple[str, ...]  # what the release below the floor lacks
    #: (musl release, the names it lacks) for every symbol list that lacks some
    musl_missing: tuple[tuple[str, tuple[str, ...]], ...]
    honest_musllinux: Optional[str]  # musllinux_1_2_x86_64; None: no musllinux tag is honest
    system_sonames: tuple[str, ...]
    unknown_sonames: tuple[str, ...]  # not in the soname table: their Alpine releases are not known
    alpine_floor: Optional[str]  # "3.9"; None: no known release loads it
    alpine_floor_note: str  # why, and where the data stops
    alpine_last: Optional[str]  # newest release in the table where every known soname exists
    alpine_breaks_at: Optional[str]  # the release after it, None if they exist in the newest one
    compat: tuple[str, ...]  # "libssl.so.1.1: openssl1.1-compat in 3.17, 3.18"
    overclaims: tuple[Overclaim, ...]
    problems: tuple[str, ...]  # ELF members that could not be read
    abi_arch_note: str = ""
    spans: tuple[SonameSpan, ...] = field(default=(), repr=False)
    needed_libc: frozenset[str] = field(default=frozenset(), repr=False)  # the libc names it imports
    libc: str = "musl"  # what its ELF files are built for: "musl", "glibc" (floors do not apply), ""

    @property
    def honest_alpine(self) -> Optional[str]:
        if self.alpine_floor is None or not self.arch or "," in self.arch:
            return None
        return f"alpine_{self.alpine_floor.replace('.', '_')}_{self.arch}"

    def as_dict(self) -> dict[str, object]:
        return {
            "wheel": self.wheel,
            "arch": self.arch,
            "elf_files": self.elf_files,
            "carried": list(self.carried),
            "libc_names": self.libc_names,
            "musl_floor": self.musl_floor,
            "musl_floor_is_oldest_list": self.musl_floor_is_oldest_list,
            "musl_floor_symbols": list(self.musl_floor_symbols),
            "honest_musllinux": self.honest_musllinux,
            "system_sonames": list(self.system_sonames),
            "unknown_sonames": list(self.unknown_sonames),
            "alpine_floor": self.alpine_floor,
            "honest_alpine": self.honest_alpine,
            "alpine_floor_note": self.alpine_floor_note,
            "alpine_last": self.alpine_last,
            "alpine_breaks_at": self.alpine_breaks_at,
            "compat": list(self.compat),
            "overclaims": [
                {"tag": o.tag, "systems": o.systems, "lacking": list(o.lacking)} for o in self.overclaims
            ],
            "problems": list(self.problems),
            "note": self.abi_arch_note,
            "libc": self.libc,
        }


def _span_text(versions: Sequence[str]) -> str:
    return versions[0] if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"


def _carried_platforms(path: str) -> tuple[str, ...]:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        _, _, _, tags = parse_wheel_filename(os.path.basename(path))
    except InvalidWheelFilename:
        return ()
    return tuple(dict.fromkeys(t.platform for t in sorted(tags, key=str)))


def _honest_musllinux(ok: set[str], arch: str) -> Optional[str]:
    """The lowest ``musllinux_1_N`` all of whose accepted listed musl releases load the wheel."""
    versions = [facts.version_tuple(a.version) for a in facts.musl_abis()]
    for minor in sorted({v[1] for v in versions if v[0] == 1}):
        accepted = [a.version for a in facts.musl_abis() if facts.version_tuple(a.version)[:2] >= (1, minor)]
        if all(v in ok for v in accepted):
            return f"musllinux_1_{minor}_{arch or 'ARCH'}"
    return None


def _judge_tag(
    platform: str,
    missing_by: dict[str, tuple[str, ...]],
    spans: Sequence[SonameSpan],
) -> list[Overclaim]:
    """What the systems ``platform`` admits lack (only musllinux_* and alpine_* are judged)."""
    m = _PLATFORM_RE.match(platform)
    if not m:
        return []
    scheme, major, minor = m.group(1), int(m.group(2)), int(m.group(3))
    out: list[Overclaim] = []
    if scheme == "musllinux":
        bad = [
            a.version
            for a in facts.musl_abis()
            if facts.version_tuple(a.version)[:2] >= (major, minor) and a.version in missing_by
        ]
        if bad:
            lacking = sorted({n for v in bad for n in missing_by[v]})
            out.append(Overclaim(platform, f"musl {_span_text(bad)}", tuple(lacking)))
        return out
    admitted = [r for r in facts.alpine_releases() if facts.version_tuple(r.version)[:2] >= (major, minor)]
    bad_musl = [r for r in admitted if r.musl in missing_by]
    if bad_musl:
        lacking = sorted({n for r in bad_musl for n in missing_by[r.musl]})
        systems = f"Alpine {_span_text([r.version for r in bad_musl])} (musl {bad_musl[0].musl}...)"
        out.append(Overclaim(platform, systems, tuple(lacking)))
    table = table_releases()
    by_systems: dict[str, list[str]] = {}
    for span in spans:
        if not span.known:
            continue
        lacking_in = [
            r for r in table if facts.version_tuple(r)[:2] >= (major, minor) and r not in span.releases
        ]
        if lacking_in:
            by_systems.setdefault(f"Alpine {_span_text(lacking_in)}", []).append(span.soname)
    out.extend(Overclaim(platform, systems, tuple(names)) for systems, names in by_systems.items())
    return out


def _newest_release(spans: Sequence[SonameSpan], table: Sequence[str]) -> tuple[Optional[str], Optional[str]]:
    """The newest release where every known soname still exists (the end of the unbroken run that
    starts where each first appears), and the release after it; ``(None, None)`` without known sonames."""
    known = [s for s in spans if s.known]
    if not known or not table:
        return None, None
    last: Optional[str] = table[-1]
    for span in known:
        if not span.releases:
            return None, None  # only a *-compat package ever shipped it
        run_end = span.releases[0]
        for r in table[table.index(span.releases[0]) :]:
            if r not in span.releases:
                break
            run_end = r
        if last is None or facts.version_tuple(run_end) < facts.version_tuple(last):
            last = run_end
    breaks_at = table[table.index(last) + 1] if last is not None and last != table[-1] else None
    return last, breaks_at


def _alpine_floor(
    ok: Sequence[str], spans: Sequence[SonameSpan], table: Sequence[str]
) -> tuple[Optional[str], list[str]]:
    """The oldest Alpine release whose musl loads the wheel and that ships every known soname, and what
    limits that answer (where the symbol lists or the soname table stop)."""
    musl_release = next((r.version for r in facts.alpine_releases() if r.musl in ok), None)
    if musl_release is None:
        return None, []
    if any(s.known and not s.releases for s in spans):
        return None, ["a soname only a *-compat package ever shipped"]
    floor, why = musl_release, "musl"
    for span in spans:
        if span.releases and facts.version_tuple(span.releases[0]) > facts.version_tuple(floor):
            floor, why = span.releases[0], span.soname
    notes = []
    if why == "musl" and ok[0] == facts.musl_abis()[0].version:
        notes.append(
            f"musl {ok[0]} (Alpine {floor}) is the oldest symbol list: older releases may load it too"
        )
    elif why != "musl" and table and floor == table[0]:
        notes.append(f"{why}: the soname table starts at {floor}: older releases may ship it too")
    return floor, notes


def _glibc_report(container: ScannedContainer, arch: str) -> WheelReport:
    """A wheel built for glibc: its system sonames, and no musl or Alpine floor (they would be false)."""
    return WheelReport(
        wheel=container.name,
        arch=arch,
        elf_files=len(container.objects),
        carried=_carried_platforms(container.path),
        libc_names=0,
        musl_floor=None,
        musl_floor_is_oldest_list=False,
        musl_floor_symbols=(),
        musl_missing=(),
        honest_musllinux=None,
        system_sonames=system_sonames(container),
        unknown_sonames=(),
        alpine_floor=None,
        alpine_floor_note="glibc (libc.so.6 or a glibc loader): the musl and Alpine floors do not apply",
        alpine_last=None,
        alpine_breaks_at=None,
        compat=(),
        overclaims=(),
        problems=container.problems,
        libc="glibc",
    )


def report(container: ScannedContainer) -> WheelReport:
    """The floors, the honest tags and the verdict for one scanned wheel."""
    from .native import object_libc

    arches = sorted({o.symbols.arch for o in container.objects if o.symbols.arch})
    arch = ",".join(arches)
    if any(object_libc(o.symbols, "") == "glibc" for o in container.objects):
        return _glibc_report(container, arch)
    per_object = libc_names(container)
    needed = frozenset().union(*per_object.values()) if per_object else frozenset()
    abis = facts.musl_abis()
    ok: list[str] = []
    missing_by: dict[str, tuple[str, ...]] = {}
    for abi in abis:
        missing = abi.missing(needed)
        if missing:
            missing_by[abi.version] = tuple(sorted(missing))
        else:
            ok.append(abi.version)
    floor = ok[0] if ok else None
    below = [v for v in missing_by if floor and facts.version_tuple(v) < facts.version_tuple(floor)]
    floor_symbols = missing_by[below[-1]] if below else ()

    sonames = system_sonames(container)
    spans = tuple(soname_span(s) for s in sonames)
    unknown = tuple(s.soname for s in spans if not s.known)
    table = table_releases()

    alpine_floor, notes = _alpine_floor(ok, spans, table)
    if unknown:
        notes.append(f"not in the soname table: {', '.join(unknown)} (their releases are not checked)")

    last, breaks_at = _newest_release(spans, table)
    compat = tuple(
        f"{s.soname}: {', '.join(sorted({p for _, p in s.compat}))} in {', '.join(r for r, _ in s.compat)}"
        for s in spans
        if s.compat
    )

    carried = _carried_platforms(container.path)
    overclaims: list[Overclaim] = []
    for platform in carried:
        overclaims.extend(_judge_tag(platform, missing_by, spans))
    abi_note = ""
    if arches and arches != ["x86_64"]:
        abi_note = "the musl symbol lists are x86_64's; other arches export the same names, give or take"
    return WheelReport(
        wheel=container.name,
        arch=arch,
        elf_files=len(container.objects),
        carried=carried,
        libc_names=len(needed),
        musl_floor=floor,
        musl_floor_is_oldest_list=floor == abis[0].version,
        musl_floor_symbols=floor_symbols,
        musl_missing=tuple(missing_by.items()),
        honest_musllinux=_honest_musllinux(set(ok), arch if len(arches) == 1 else "") if ok else None,
        system_sonames=sonames,
        unknown_sonames=unknown,
        alpine_floor=alpine_floor,
        alpine_floor_note="; ".join(notes),
        alpine_last=last,
        alpine_breaks_at=breaks_at,
        compat=compat,
        overclaims=tuple(overclaims),
        problems=container.problems,
        abi_arch_note=abi_note,
        spans=spans,
        needed_libc=needed,
    )


def show(path: str) -> WheelReport:
    """``report`` of the wheel at ``path`` (``WheelError`` if it is not a readable wheel: its name, zip
    directory and ``*.dist-info/WHEEL`` are checked before any ELF file is read)."""
    from .wheelfile import read_wheel

    read_wheel(path)
    return report(scan_wheel(path))


def releases_lacking(sonames: Iterable[str], release: str) -> tuple[str, ...]:
    """The sonames the table knows that ``release`` (``"3.17"``) does not ship (compat packages do not
    count). Unknown sonames, and releases the table does not cover, give nothing."""
    if release not in table_releases():
        return ()
    out = []
    for s in sonames:
        span = soname_span(s)
        if span.known and release not in span.releases:
            out.append(s)
    return tuple(out)
