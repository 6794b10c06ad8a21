"""What a wheel's ELF files need from the system, and the platform tags that say so honestly.

A tag is a promise about where a wheel loads. ``musllinux_1_1`` promises every musl from 1.1.0; jiter
0.19.0 carries it and calls ``getrandom``, which musl exports only from 1.1.20. A distro tag such as
``alpine_3_16`` is accepted on every later release of its distribution, and a later one may lack a library
the wheel links. Neither fact is in the tag, both are in the ELF files: the libc names they import
(checked here against the musl-abi symbol lists) and the sonames they need but do not bundle. This module
turns the first into the musl floor and a verdict on carried ``musllinux`` tags; what a distribution's
releases ship is its plugin's knowledge (the core knows no distro by name), so the distro rows (its floor,
the newest release where the sonames still exist, its tags' verdict) come from the plugins through the
hook ``alpinetags_wheel_report``, each answer checked and a faulty plugin left out.

The ELF files are read by ``elfscan`` (the reader of the native check): one reader, one answer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from alpinetags._elf.elfscan import ScannedContainer, scan_wheel
from alpinetags._load import facts, loaderfeatures
from alpinetags.wheelneeds import DistroReport, Overclaim, WheelNeeds, valid_report

_MUSLLINUX_RE = re.compile(r"musllinux_(\d+)_(\d+)_([a-z0-9_]+)\Z")
#: What the musllinux policy (auditwheel's ``musllinux-policy.json``) lets a wheel take from the system
#: besides libc; every other library must be bundled.
MUSLLINUX_SYSTEM_SONAMES = frozenset({"libz.so.1"})


def system_sonames(container: ScannedContainer) -> tuple[str, ...]:
    """The sonames the wheel's ELF files need and do not bundle, sorted: the native check's answer
    (``loadpath.system_sonames_needed``: libc's own names left out), without ``libpython``, which the
    interpreter that loads the module brings."""
    from alpinetags._system.loadpath import system_sonames_needed

    return tuple(n for n in system_sonames_needed(container.objects) if not n.startswith("libpython"))


def libc_names(container: ScannedContainer, arch: str = "x86_64") -> dict[str, frozenset[str]]:
    """Per ELF member, the names it imports that no file of the wheel defines and some musl exports (on
    ``arch``: a 32-bit file's ``__*time64`` names are musl's too)."""
    known = facts.known_libc_names(arch=arch)
    inside = container.exported()
    return {o.member: frozenset(o.symbols.required - inside) & known for o in container.objects}


# --------------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class WheelReport:
    """Everything ``alpinetags wheel show`` says about one wheel: the core's rows, then the plugins'.

    A plugin's JSON fields are also attributes (``report.alpine_floor`` with the Alpine plugin loaded).
    """

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
    overclaims: tuple[Overclaim, ...]  # the core's (musllinux) and the plugins', in carried-tag order
    problems: tuple[str, ...]  # ELF members that could not be read
    abi_arch_note: str = ""
    needed_libc: frozenset[str] = field(default=frozenset(), repr=False)  # the libc names it imports
    libc: str = "musl"  # what its ELF files are built for: "musl", "glibc" (floors do not apply), ""
    #: (plugin name, its answer to ``alpinetags_wheel_report``), in hook order
    distro: tuple[tuple[str, DistroReport], ...] = ()
    needs: Optional[WheelNeeds] = field(default=None, repr=False)  # what the plugins were given

    def plugin_fields(self) -> dict[str, object]:
        """The plugins' JSON fields, the first plugin's answer winning a name two give."""
        out: dict[str, object] = {}
        for _name, part in self.distro:
            for key, value in part.fields:
                out.setdefault(key, value)
        return out

    def __getattr__(self, name: str) -> Any:
        # Only reached for a name that is not a field: a plugin's field, else the usual error.
        fields = self.__dict__.get("distro")
        if fields is not None:
            for _plugin, part in fields:
                for key, value in part.fields:
                    if key == name:
                        return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def rows(self, which: str) -> list[tuple[str, str]]:
        """The plugins' text rows of one place (``floor_rows`` or ``soname_rows``), in hook order."""
        return [row for _name, part in self.distro for row in getattr(part, which)]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
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
        }
        out.update(self.plugin_fields())
        out.update(
            {
                "overclaims": [
                    {"tag": o.tag, "systems": o.systems, "lacking": list(o.lacking)} for o in self.overclaims
                ],
                "problems": list(self.problems),
                "note": self.abi_arch_note,
                "libc": self.libc,
            }
        )
        return out


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


def _judge_musllinux(
    platform: str, missing_by: dict[str, tuple[str, ...]], sonames: Sequence[str] = ()
) -> list[Overclaim]:
    """What the musl releases a ``musllinux_X_Y`` tag admits lack (other tags are the plugins'), and the
    system sonames the musllinux policy does not allow (a musl system need not have them at all)."""
    m = _MUSLLINUX_RE.match(platform)
    if not m:
        return []
    out = []
    external = tuple(s for s in sonames if s not in MUSLLINUX_SYSTEM_SONAMES)
    if external:
        allowed = ", ".join(["libc", *sorted(MUSLLINUX_SYSTEM_SONAMES)])
        out.append(
            Overclaim(platform, f"any musl system (the policy allows only {allowed} from it)", external)
        )
    major, minor = int(m.group(1)), int(m.group(2))
    bad = [
        a.version
        for a in facts.musl_abis()
        if facts.version_tuple(a.version)[:2] >= (major, minor) and a.version in missing_by
    ]
    if bad:
        lacking = sorted({n for v in bad for n in missing_by[v]})
        out.append(Overclaim(platform, f"musl {_span_text(bad)}", tuple(lacking)))
    return out


def _plugin_reports(needs: WheelNeeds, registry: Any) -> tuple[tuple[str, DistroReport], ...]:
    """Every plugin's answer to ``alpinetags_wheel_report`` (checked; ``None`` means nothing to say)."""
    if registry is None:
        from alpinetags._engine.plugins import disabled_from_env, load_plugins

        registry = load_plugins(disabled_from_env(os.environ))
    if not hasattr(registry.manager.hook, "alpinetags_wheel_report"):
        return ()
    found = registry.call_all("alpinetags_wheel_report", lambda r: r is None or valid_report(r), needs=needs)
    return tuple((name, part) for name, part in found if part is not None)


def _in_carried_order(overclaims: Sequence[Overclaim], carried: Sequence[str]) -> tuple[Overclaim, ...]:
    """The overclaims ordered by the carried tag they judge (stable: each judge's own order kept)."""
    order = {tag: i for i, tag in enumerate(carried)}
    return tuple(sorted(overclaims, key=lambda o: order.get(o.tag, len(order))))


def report(container: ScannedContainer, registry: Any = None) -> WheelReport:
    """The musl floor, the honest musllinux tag, the plugins' distro rows and the verdict for one scanned
    wheel. ``registry``: the loaded plugins (default: loaded here, as ``ALPINETAGS_DISABLE_PLUGINS`` says)."""
    from alpinetags._system.loadpath import object_libc

    arches = sorted({o.symbols.arch for o in container.objects if o.symbols.arch})
    arch = ",".join(arches)
    carried = _carried_platforms(container.path)
    sonames = system_sonames(container)
    abis = facts.musl_abis()
    if any(object_libc(o.symbols, "") == "glibc" for o in container.objects):
        # A wheel built for glibc: its system sonames, and no musl floor (it would be false).
        needs = WheelNeeds(container.name, arch, "glibc", len(container.objects), carried, sonames, (), (),
                           abis[0].version)  # fmt: skip
        distro = _plugin_reports(needs, registry)
        return WheelReport(
            wheel=container.name,
            arch=arch,
            elf_files=len(container.objects),
            carried=carried,
            libc_names=0,
            musl_floor=None,
            musl_floor_is_oldest_list=False,
            musl_floor_symbols=(),
            musl_missing=(),
            honest_musllinux=None,
            system_sonames=sonames,
            overclaims=_in_carried_order([o for _, p in distro for o in p.overclaims], carried),
            problems=container.problems,
            libc="glibc",
            distro=distro,
            needs=needs,
        )
    abi_arch = arches[0] if len(arches) == 1 else "x86_64"
    abis = facts.musl_abis(arch=abi_arch)
    per_object = libc_names(container, abi_arch)
    needed = frozenset().union(*per_object.values()) if per_object else frozenset()
    features = loaderfeatures.wheel_features(o.symbols for o in container.objects)
    ok: list[str] = []
    missing_by: dict[str, tuple[str, ...]] = {}
    for abi in abis:
        # a loader feature is a floor like a name: the releases whose loader lacks it cannot load the wheel
        missing = abi.missing(needed) | loaderfeatures.labels(
            loaderfeatures.missing_upstream(features, abi.version)
        )
        if missing:
            missing_by[abi.version] = tuple(sorted(missing))
        else:
            ok.append(abi.version)
    floor = ok[0] if ok else None
    below = [v for v in missing_by if floor and facts.version_tuple(v) < facts.version_tuple(floor)]
    floor_symbols = missing_by[below[-1]] if below else ()

    needs = WheelNeeds(
        wheel=container.name,
        arch=arch,
        libc="musl",
        elf_files=len(container.objects),
        carried=carried,
        system_sonames=sonames,
        musl_ok=tuple(ok),
        musl_missing=tuple(missing_by.items()),
        oldest_musl_list=abis[0].version,
        loader_features=features,
    )
    distro = _plugin_reports(needs, registry)
    overclaims = [o for platform in carried for o in _judge_musllinux(platform, missing_by, sonames)]
    overclaims.extend(o for _, p in distro for o in p.overclaims)
    abi_note = ""
    if arches and arches != ["x86_64"]:
        abi_note = (
            "the musl symbol lists are x86_64's, with what real loaders of other arches export besides "
            "(musl-abi/arch-changes.tsv: the 32-bit arches' __*time64 names)"
        )
    return WheelReport(
        wheel=container.name,
        arch=arch,
        elf_files=len(container.objects),
        carried=carried,
        libc_names=len(needed),
        musl_floor=floor,
        musl_floor_is_oldest_list=floor == abis[0].version,
        musl_floor_symbols=floor_symbols,
        musl_missing=needs.musl_missing,
        honest_musllinux=_honest_musllinux(set(ok), arch if len(arches) == 1 else "") if ok else None,
        system_sonames=sonames,
        overclaims=_in_carried_order(overclaims, carried),
        problems=container.problems,
        abi_arch_note=abi_note,
        needed_libc=needed,
        distro=distro,
        needs=needs,
    )


def overclaims_for(r: WheelReport, platform_tag: str, registry: Any = None) -> tuple[Overclaim, ...]:
    """What ``report`` would call overclaims if the wheel carried ``platform_tag`` instead of its own tags:
    the same judges (the core's for ``musllinux``, the plugins' ``alpinetags_wheel_report`` for theirs),
    so ``wheel tag`` refuses exactly what ``wheel show`` would report."""
    import dataclasses

    if r.needs is None:
        return ()
    needs = dataclasses.replace(r.needs, carried=(platform_tag,))
    found = list(_judge_musllinux(platform_tag, dict(needs.musl_missing))) if needs.libc == "musl" else []
    found.extend(o for _, part in _plugin_reports(needs, registry) for o in part.overclaims)
    return tuple(found)


def show(path: str, registry: Any = None) -> WheelReport:
    """``report`` of the wheel at ``path`` (``WheelError`` if it is not a readable wheel: its name, zip
    directory and ``*.dist-info/WHEEL`` are checked before any ELF file is read)."""
    from alpinetags._limits import per_check
    from alpinetags._wheel.wheelfile import read_wheel

    with per_check():  # one budget for the wheel's objects (limits); past a cap: InputRefused
        read_wheel(path)
        return report(scan_wheel(path), registry)
