"""The Alpine rows of ``alpinetags wheel show`` and the Alpine judgement of ``alpinetags wheel tag``.

The core reads the wheel (``alpinetags.wheelneeds.WheelNeeds``: the musl releases that resolve its libc
names, the system sonames it needs); this module places that in Alpine's releases: the Alpine floor (the
oldest release whose musl loads it and that ships every soname it needs), the newest release where those
sonames still exist, the ``*-compat`` packages that keep an old soname alive, and which carried
``alpine_X_Y`` tags admit a release the wheel cannot load on. An ``alpine_3_16`` tag is accepted on every
later release, and 3.17 has no ``libssl.so.1.1``: the tag cannot say so, the soname table can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

from alpinetags._load import loaderfeatures
from alpinetags.model import Platform
from alpinetags.wheelneeds import DistroReport, Overclaim, TagVerdict, WheelNeeds

from . import facts

_TAG_RE = re.compile(r"alpine_(\d+)_(\d+)_([a-z0-9_]+)\Z")
#: Packages named ``*-compat`` keep an old soname alive after the distribution moved on (Alpine 3.17-3.18's
#: ``openssl1.1-compat`` in community); a wheel that needs one only loads where someone installed it.
_COMPAT_SUFFIX = "-compat"
GLIBC_NOTE = "glibc (libc.so.6 or a glibc loader): the musl and Alpine floors do not apply"


def table_releases(data_dir: str = facts.DATA_DIR) -> tuple[str, ...]:
    """The releases the soname table covers, oldest first (the reader the native check's hints use too)."""
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


def _span_text(versions: Sequence[str]) -> str:
    return versions[0] if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"


def judge_tag(
    platform: str, missing_by: dict[str, tuple[str, ...]], spans: Sequence[SonameSpan]
) -> list[Overclaim]:
    """What the Alpine releases an ``alpine_X_Y_<arch>`` tag admits lack: a musl without some libc name
    the wheel imports, or a soname it needs (other tags: nothing)."""
    m = _TAG_RE.match(platform)
    if not m:
        return []
    major, minor = int(m.group(1)), int(m.group(2))
    out: list[Overclaim] = []
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


def newest_release(spans: Sequence[SonameSpan], table: Sequence[str]) -> tuple[Optional[str], Optional[str]]:
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


def alpine_floor(
    ok: Sequence[str], spans: Sequence[SonameSpan], table: Sequence[str], oldest_musl_list: str
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
    if why == "musl" and ok[0] == oldest_musl_list:
        notes.append(
            f"musl {ok[0]} (Alpine {floor}) is the oldest symbol list: older releases may load it too"
        )
    elif why != "musl" and table and floor == table[0]:
        notes.append(f"{why}: the soname table starts at {floor}: older releases may ship it too")
    return floor, notes


def unknown_overclaims(carried: Sequence[str], unknown: Sequence[str]) -> list[Overclaim]:
    """A carried ``alpine_X_Y`` tag promises the release's packages: a soname no package of the table ships
    is a promise nothing backs (the table has its libraries, not all of Alpine: it says "not known")."""
    if not unknown:
        return []
    return [
        Overclaim(
            p,
            f"Alpine {m.group(1)}.{m.group(2)} and later (no package the soname table knows ships it)",
            tuple(unknown),
        )
        for p in carried
        if (m := _TAG_RE.match(p))
    ]


def backport_note(features: Sequence[str], arch: str, floor: Optional[str]) -> str:
    """Where a loader feature that sets the floor was measured to work before it (an Alpine musl build that
    carried it back), and why the floor stays: an ``alpine_X_Y`` tag speaks for every point release."""
    from .loaderbuilds import backports

    by_tag = {a.tag_arch: a.alpine_arch for a in facts.alpine_arches()}
    labels = {
        f: loaderfeatures.loader_features()[f].label
        for f in features
        if f in loaderfeatures.loader_features()
    }
    parts = []
    for feature in features:
        early = []
        for m in backports(feature):
            release = m.root.split()[0]
            if m.arch != by_tag.get(arch) or not re.match(r"\d+\.\d+", release):
                continue
            if floor is None or facts.version_tuple(release)[:2] < facts.version_tuple(floor)[:2]:
                early.append(f"{release} (musl {m.musl_package})")
        if early:
            parts.append(
                f"{labels.get(feature, feature)}: measured to load on {', '.join(early)}, builds that "
                "carried it back; earlier point releases of those branches were not measured"
            )
    return "; ".join(parts)


def _no_floor(needs: WheelNeeds) -> str:
    """The Alpine floor row when no release loads the wheel: "none" with the reason when a loader feature
    no musl does is why (a ceiling, not a floor), else "unknown"."""
    never = loaderfeatures.never_supported(needs.loader_features)
    if needs.musl_ok or not never:
        return "unknown"
    labels = ", ".join(loaderfeatures.loader_features()[f].label for f in never)
    return f"none: no Alpine release's musl loads it ({labels})"


def _honest_tag(floor: Optional[str], arch: str) -> Optional[str]:
    if floor is None or not arch or "," in arch:
        return None
    return f"alpine_{floor.replace('.', '_')}_{arch}"


def wheel_report(needs: WheelNeeds) -> DistroReport:
    """The Alpine part of ``wheel show`` (JSON keys ``unknown_sonames`` ... ``compat``, as before the
    move out of the core)."""
    if needs.libc == "glibc":
        fields: tuple[tuple[str, object], ...] = (
            ("unknown_sonames", []),
            ("alpine_floor", None),
            ("honest_alpine", None),
            ("alpine_floor_note", GLIBC_NOTE),
            ("alpine_last", None),
            ("alpine_breaks_at", None),
            ("compat", []),
        )
        return DistroReport(fields=fields, floor_rows=(("libc", GLIBC_NOTE),))
    spans = tuple(soname_span(s) for s in needs.system_sonames)
    unknown = tuple(s.soname for s in spans if not s.known)
    table = table_releases()
    floor, notes = alpine_floor(needs.musl_ok, spans, table, needs.oldest_musl_list)
    if unknown:
        notes.append(f"not in the soname table: {', '.join(unknown)} (their releases are not checked)")
    early = backport_note(needs.loader_features, needs.arch, floor)
    if early:
        notes.append(early)
    note = "; ".join(notes)
    last, breaks_at = newest_release(spans, table)
    compat = tuple(
        f"{s.soname}: {', '.join(sorted({p for _, p in s.compat}))} in {', '.join(r for r, _ in s.compat)}"
        for s in spans
        if s.compat
    )
    missing_by = dict(needs.musl_missing)
    overclaims = [o for platform in needs.carried for o in judge_tag(platform, missing_by, spans)]
    overclaims += unknown_overclaims(needs.carried, unknown)
    honest = None if unknown else _honest_tag(floor, needs.arch)
    if unknown and floor:
        # No release is known to ship these: a floor would be a "yes" nobody measured. What musl, the
        # loader features and the known sonames allow goes in the note.
        notes.append(f"musl, loader features and the known sonames allow {floor} and later")
        note = "; ".join(notes)
        floor = None
    shown = (
        f"{floor} ({honest})"
        if floor
        else f"unknown: {', '.join(unknown)} not known to ship in any release"
        if unknown
        else _no_floor(needs)
    )
    soname_rows: list[tuple[str, str]] = []
    if unknown:
        known = "no package of the soname table ships it in any Alpine release"
        soname_rows.append(
            ("not known", f"{', '.join(unknown)}: {known} (its 28 libraries are not all of Alpine)")
        )
    if needs.system_sonames:
        if last is None:
            soname_rows.append(("sonames exist until", "unknown (not in the soname table)"))
        elif breaks_at:
            soname_rows.append(("sonames exist until", f"{last}; they break at {breaks_at}"))
        else:
            soname_rows.append(("sonames exist until", f"{last} (the newest release in the table)"))
        soname_rows.extend(("compat", c) for c in compat)
    return DistroReport(
        fields=(
            ("unknown_sonames", list(unknown)),
            ("alpine_floor", floor),
            ("honest_alpine", honest),
            ("alpine_floor_note", note),
            ("alpine_last", last),
            ("alpine_breaks_at", breaks_at),
            ("compat", list(compat)),
        ),
        floor_rows=(("alpine floor", shown + (f"   [{note}]" if note else "")),),
        soname_rows=tuple(soname_rows),
        overclaims=tuple(overclaims),
    )


def tag_check(release: str, needs: WheelNeeds, root_musl_ok: Optional[bool]) -> TagVerdict:
    """Why a wheel cannot be tagged ``alpine_<release>`` (``"3.16"``), and what to warn about: a glibc
    wheel never; for a stated release, the sonames the table says it lacks and the libc names its musl
    lacks; for a build root (which the core checked itself), a warning where the root's musl has names
    its upstream release lacks (an Alpine backport: earlier point releases may not)."""
    if needs.libc == "glibc":
        return TagVerdict(refusals=("its ELF files are built for glibc: an Alpine tag would be false",))
    out: list[str] = []
    warnings: list[str] = []
    if root_musl_ok is None:
        lacking = releases_lacking(needs.system_sonames, release)
        if lacking:
            out.append(f"Alpine {release} does not ship {', '.join(lacking)} (the soname table says)")
    missing_by = dict(needs.musl_missing)
    features = loaderfeatures.labels(needs.loader_features)
    for rel in facts.alpine_releases():
        lacks = [n for n in missing_by.get(rel.musl, ()) if n not in features]
        gaps = [n for n in missing_by.get(rel.musl, ()) if n in features]
        if rel.version == release and gaps:
            said = f"Alpine {release}'s musl {rel.musl} does not support {', '.join(gaps)} upstream"
            if root_musl_ok is None:
                out.append(said)
            else:
                # the core found the root's own build to support it (a measured backport), or refused
                warnings.append(f"{said}; this root's build does (measured): earlier {release} point "
                                "releases may not")  # fmt: skip
        if rel.version == release and lacks:
            said = f"Alpine {release}'s musl {rel.musl} lacks {', '.join(lacks)}"
            if root_musl_ok:
                # The root's own musl package has them (an Alpine backport): it loads here, and the tag is
                # for the whole branch, whose earlier point releases may not have them.
                warnings.append(f"{said} upstream; this root's musl exports them (a backport?): "
                                f"earlier {release} point releases may not")  # fmt: skip
            elif root_musl_ok is None:
                out.append(said)
    return TagVerdict(refusals=tuple(out), warnings=tuple(warnings))


def stated_release(platform: Platform) -> Optional[str]:
    """``3.16`` for an Alpine platform (``3.16``, ``3.16.9``), ``None`` for another distribution."""
    from . import parse_alpine_version

    if platform.distro_id != "alpine" or not platform.distro_version:
        return None
    v = parse_alpine_version(platform.distro_version)
    return f"{v.major}.{v.minor}"
