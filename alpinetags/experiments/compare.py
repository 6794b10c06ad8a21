"""The two schemes side by side for one system: the tags each accepts, and which wheel each would install.

The *alpine* scheme is the Alpine plugin's ``alpine_3_x`` platforms; the *musllinux* scheme is the core's
``musllinux_1_x`` platforms for the system's musl. Each is turned into full tags with the core's
``tags_for_platforms`` (so ``py3-none-any`` and friends count in both), and a wheel is picked the way pip
picks: the newest version with an accepted tag, then the best-ranked tag.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from alpinetags_alpine import alpine_platforms, parse_alpine_version
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, NormalizedName, parse_wheel_filename
from packaging.version import Version

from alpinetags._system.musl import musllinux_platforms
from alpinetags.errors import ConfigError
from alpinetags.model import Platform
from alpinetags.tags import tags_for_platforms

SCHEMES = ("alpine", "musllinux")


def scheme_platforms(platform: Platform) -> dict[str, list[str]]:
    """Platform tags each scheme gives ``platform``; empty where the system has no such fact."""
    alpine: list[str] = []
    if platform.distro_id == "alpine" and platform.distro_version:
        alpine = alpine_platforms(parse_alpine_version(platform.distro_version), platform.arch)
    musl: list[str] = []
    if platform.libc == "musl" and platform.libc_version:
        musl = musllinux_platforms(platform.libc_version, platform.arch)
    return {"alpine": alpine, "musllinux": musl}


def scheme_tags(platform: Platform) -> dict[str, list[Tag]]:
    """Full tags per scheme. A scheme with no platform accepts pure wheels only: packaging reads an
    empty ``platforms=`` as "this machine's", so it is asked for ``any`` instead."""
    out = {}
    for name, plats in scheme_platforms(platform).items():
        tags = tags_for_platforms(plats or ["any"])
        out[name] = tags if plats else [t for t in tags if t.platform == "any"]
    return out


@dataclass(frozen=True)
class Wheel:
    filename: str
    path: str
    project: NormalizedName
    version: Version
    tags: frozenset[Tag]


def read_wheel_names(paths: Iterable[str]) -> list[Wheel]:
    """Wheels from file names and directories (their ``*.whl``); only the names are read."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".whl"))
        elif path.endswith(".whl"):
            files.append(path)
        else:
            raise ConfigError(f"{path}: neither a .whl file nor a directory")
    out = []
    for f in files:
        name = os.path.basename(f)
        try:
            project, version, _build, tags = parse_wheel_filename(name)
        except InvalidWheelFilename as exc:
            raise ConfigError(f"{name}: {exc}") from None
        out.append(Wheel(name, f, project, version, tags))
    return out


@dataclass(frozen=True)
class Choice:
    """What one scheme installs of one project, and why."""

    scheme: str
    project: str
    wheel: Optional[str]
    tag: Optional[str]  # the wheel's best tag in the scheme's list
    rank: Optional[int]  # its position in that list (0 = most preferred)
    of: int  # length of the list
    reason: str


def choose(wheels: list[Wheel], scheme: str, tags: list[Tag]) -> list[Choice]:
    """Per project: the wheel the scheme installs (newest version, then best tag), or why none."""
    rank = {t: i for i, t in enumerate(tags)}
    by_project: dict[str, list[Wheel]] = {}
    for w in wheels:
        by_project.setdefault(w.project, []).append(w)
    out = []
    for project, group in sorted(by_project.items()):
        best: Optional[tuple[Version, int, Wheel, Tag]] = None
        for w in group:
            matched = [(rank[t], t) for t in w.tags if t in rank]
            if not matched:
                continue
            r, t = min(matched)
            if best is None or (w.version, -r) > (best[0], -best[1]):
                best = (w.version, r, w, t)
        if best is None:
            platforms = sorted({t.platform for w in group for t in w.tags})
            out.append(
                Choice(
                    scheme, project, None, None, None, len(tags), f"no accepted tag; wheels are {platforms}"
                )
            )
        else:
            version, r, w, t = best
            why = f"{version}, tag {t} is #{r + 1} of {len(tags)}"
            out.append(Choice(scheme, project, w.filename, str(t), r, len(tags), why))
    return out


def symbol_verdicts(wheels: list[Wheel], picked: set[str], musl_version: str) -> dict[str, str]:
    """For each picked wheel file: whether the target's musl (its ``musl-abi`` list) resolves every libc
    name the wheel's objects need: ``"loads"``, ``"fails: name, ..."``, or why it cannot be said."""
    from alpinetags_alpine import facts as data

    from alpinetags._elf.elfscan import scan_wheel
    from alpinetags.experiments.libc import wheel_needs

    abi = data.abi_for(musl_version) if musl_version else None
    out = {}
    for w in wheels:
        if w.filename not in picked:
            continue
        if abi is None:
            out[w.filename] = f"no symbol list for musl {musl_version or '(unknown)'}"
            continue
        missing = abi.missing(wheel_needs(scan_wheel(w.path)).libc_names)
        out[w.filename] = f"fails on musl {abi.version}: {', '.join(sorted(missing))}" if missing else "loads"
    return out
