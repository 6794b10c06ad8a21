"""What a wheel needs from musl, and which musl releases provide it.

A name an object in a wheel leaves undefined is satisfied by another object in the same wheel (bundled
libraries in ``*.libs/``), by the interpreter (``Py*``), or by libc. Only names some musl release ever
exported (``data.known_libc_names``) or the libc under test exports are counted as libc's business;
the rest are reported as found elsewhere. Weak references are left out: musl binds a missing weak name
to 0 instead of failing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from alpinetags_alpine import facts as data
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from alpinetags._elf.elfdynamic import read_dynamic_symbols
from alpinetags._elf.elfscan import ScannedContainer
from alpinetags._system.musl import read_musl_version
from alpinetags.errors import LoaderError
from alpinetags.experiments.loader import LoaderVerdict

#: The loader of this machine (Debian's musl 1.2.3 in the project's reference setup).
DEFAULT_LIBC = "/lib/ld-musl-x86_64.so.1"
_PYTHON_PREFIXES = ("Py", "_Py", "PY")


@dataclass(frozen=True)
class Libc:
    """A musl to check against: its version and the names it resolves."""

    path: str
    version: str
    abi: data.MuslAbi
    arch: str = ""  # wheel-tag arch of the libc's ELF: the only objects its loader can judge


def read_libc(path: str = DEFAULT_LIBC) -> Libc:
    """The musl at ``path`` (a loader or ``libc.so``): exported names from its ``.dynsym``, version from
    its bytes, and, from 1.2.4 on, the LFS64 names its loader resolves for old binaries."""
    real = os.path.realpath(path)
    version = read_musl_version(real)
    own = read_dynamic_symbols(real)
    exports = own.exported
    if not exports:
        raise LoaderError(f"{path}: exports no dynamic symbols; not a shared musl libc")
    aliases: frozenset[str] = frozenset()
    if data.version_tuple(version)[:3] >= data.LFS64_DROPPED:
        for abi in data.musl_abis():
            aliases |= abi.aliases
        aliases = frozenset(n for n in aliases if data.lfs64_base(n) in exports)
    return Libc(path, version, data.MuslAbi(version, own.arch, exports, aliases), own.arch)


def carried_musllinux(container: ScannedContainer) -> Optional[tuple[int, int]]:
    """The newest ``musllinux_X_Y`` a wheel's file name claims, as ``(X, Y)``; ``None`` if none."""
    if not container.is_wheel:
        return None
    try:
        _, _, _, tags = parse_wheel_filename(container.name)
    except InvalidWheelFilename:
        return None
    found = []
    for tag in tags:
        parts = tag.platform.split("_")
        if parts[0] == "musllinux" and len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
            found.append((int(parts[1]), int(parts[2])))
    return max(found) if found else None


@dataclass(frozen=True)
class WheelNeeds:
    """The libc names a container's objects need, per object and in all."""

    container: ScannedContainer
    per_object: tuple[tuple[str, frozenset[str]], ...]  # (member, libc names it needs)
    libc_names: frozenset[str]
    elsewhere: frozenset[str]  # needed, not a libc name, not in the container: Py*, other libraries
    system_libraries: frozenset[str] = frozenset()  # DT_NEEDED the wheel does not bundle, besides libc


def wheel_needs(container: ScannedContainer, extra_libc_names: frozenset[str] = frozenset()) -> WheelNeeds:
    known = data.known_libc_names() | extra_libc_names
    inside = container.exported()
    per_object = []
    elsewhere: set[str] = set()
    total: set[str] = set()
    for obj in container.objects:
        outside = obj.symbols.required - inside
        libc_names = frozenset(n for n in outside if n in known)
        elsewhere |= outside - libc_names
        total |= libc_names
        per_object.append((obj.member, libc_names))
    bundled = {o.member.rsplit("/", 1)[-1] for o in container.objects}
    bundled |= {o.symbols.soname for o in container.objects if o.symbols.soname}
    system = {
        lib
        for o in container.objects
        for lib in o.symbols.needed
        if lib not in bundled and not lib.startswith(("libc.", "ld-musl-", "libpython"))
    }
    return WheelNeeds(container, tuple(per_object), frozenset(total), frozenset(elsewhere), frozenset(system))


def is_python_name(name: str) -> bool:
    return name.startswith(_PYTHON_PREFIXES)


@dataclass(frozen=True)
class ObjectFinding:
    """Names an object needs that the libc does not resolve: the prediction that loading fails."""

    member: str
    missing: tuple[str, ...]


def findings_against(needs: WheelNeeds, libc: Libc) -> tuple[ObjectFinding, ...]:
    out = []
    for member, names in needs.per_object:
        missing = libc.abi.missing(names)
        if missing:
            out.append(ObjectFinding(member, tuple(sorted(missing))))
    return tuple(out)


@dataclass(frozen=True)
class AbiSweep:
    """A wheel against every musl symbol list: where it loads, and the tightest honest tag."""

    name: str
    carried: Optional[tuple[int, int]]  # newest musllinux the wheel claims
    needs_count: int
    ok_versions: tuple[str, ...]  # musl releases (of the lists) that resolve everything it needs
    missing_by_version: tuple[tuple[str, tuple[str, ...]], ...]  # the others, with what they lack
    oldest_ok: Optional[str]
    oldest_alpine: Optional[str]  # oldest Alpine release whose musl resolves everything
    gaps: tuple[str, ...]  # releases newer than oldest_ok that do not (1.1.21's hidden names)
    #: Libraries it loads that it does not bundle (besides libc): the release must provide these too.
    system_libraries: tuple[str, ...] = ()

    @property
    def floor_names(self) -> tuple[str, ...]:
        """The names that set the floor: what the newest release below ``oldest_ok`` lacks."""
        if self.oldest_ok is None:
            return ()
        below = [
            m
            for v, m in self.missing_by_version
            if data.version_tuple(v) < data.version_tuple(self.oldest_ok)
        ]
        return below[-1] if below else ()

    @property
    def honest_musllinux(self) -> Optional[str]:
        """The lowest ``musllinux_1_N`` every listed musl it accepts can load, ``None`` if none is.

        A musllinux tag speaks in minors, so a wheel needing 1.2.3 has no honest musllinux tag: 1.2.0 to 1.2.2
        accept ``musllinux_1_2`` too. (The lists start at 1.1.16; older musl is not judged.)
        """
        versions = [data.version_tuple(a.version) for a in data.musl_abis()]
        for minor in sorted({v[1] for v in versions if v[0] == 1}):
            accepted = [".".join(map(str, v)) for v in versions if v[:2] >= (1, minor)]
            if all(v in self.ok_versions for v in accepted):
                return f"musllinux_1_{minor}"
        return None

    @property
    def honest_alpine(self) -> Optional[str]:
        """The distro tag for the same floor: ``alpine_3_<oldest release whose musl loads it>``."""
        if self.oldest_alpine is None:
            return None
        return "alpine_" + self.oldest_alpine.replace(".", "_")

    @property
    def verdict(self) -> str:
        """Whether the tag the wheel carries promises more than the symbol lists allow."""
        if self.carried is None:
            return "no musllinux tag"
        if self.oldest_ok is None:
            return "loads on no listed musl"
        lists = [data.version_tuple(a.version) for a in data.musl_abis()]
        claimed = [v for v in lists if v[:2] >= self.carried]  # releases the carried tag accepts on
        bad = [".".join(map(str, v)) for v in claimed if ".".join(map(str, v)) not in self.ok_versions]
        if bad:
            span = bad[0] if len(bad) == 1 else f"{bad[0]} to {bad[-1]}"
            return f"overclaims: musl {span} accept the tag but lack names it needs"
        return "consistent"


def sweep(needs: WheelNeeds) -> AbiSweep:
    ok: list[str] = []
    missing_by: list[tuple[str, tuple[str, ...]]] = []
    for abi in data.musl_abis():
        missing = abi.missing(needs.libc_names)
        if missing:
            missing_by.append((abi.version, tuple(sorted(missing))))
        else:
            ok.append(abi.version)
    oldest_ok = ok[0] if ok else None
    gaps: tuple[str, ...] = ()
    if oldest_ok is not None:
        gaps = tuple(v for v, _ in missing_by if data.version_tuple(v) > data.version_tuple(oldest_ok))
    oldest_alpine = None
    for release in data.alpine_releases():
        if release.musl in ok:
            oldest_alpine = release.version
            break
    return AbiSweep(
        name=needs.container.name,
        carried=carried_musllinux(needs.container),
        needs_count=len(needs.libc_names),
        ok_versions=tuple(ok),
        missing_by_version=tuple(missing_by),
        oldest_ok=oldest_ok,
        oldest_alpine=oldest_alpine,
        gaps=gaps,
        system_libraries=tuple(sorted(needs.system_libraries)),
    )


@dataclass(frozen=True)
class CrossCheck:
    """The scan's prediction against the loader's verdicts, for one container."""

    name: str
    objects_run: int
    predicted: int  # objects the scan said would fail
    confirmed: int  # ... and the loader reported every predicted name missing
    missed: tuple[
        str, ...
    ]  # "member: name" the loader reported missing, a libc name the scan did not predict


def cross_check(
    needs: WheelNeeds, findings: tuple[ObjectFinding, ...], verdicts: dict[str, LoaderVerdict], the_libc: Libc
) -> CrossCheck:
    known = data.known_libc_names() | the_libc.abi.exports
    predicted = {f.member: set(f.missing) for f in findings}
    confirmed = sum(1 for m, names in predicted.items() if m in verdicts and names <= verdicts[m].missing)
    missed = []
    for member, verdict in verdicts.items():
        for name in sorted(verdict.missing - predicted.get(member, set())):
            if name in known:
                missed.append(f"{member}: {name}")
    return CrossCheck(needs.container.name, len(verdicts), len(predicted), confirmed, tuple(missed))
