"""What the core hands a distro plugin about a wheel, and what the plugin hands back.

``alpinetags wheel show`` and ``wheel tag`` read a wheel's ELF files in the core (the libc names they
import, judged against musl's own symbol lists, and the sonames they need but do not bundle). Which
release of a distribution ships those sonames, and which musl it ships, is the distribution's plugin's
knowledge (the core knows no distro by name): the plugin answers the hooks ``alpinetags_wheel_report``
and ``alpinetags_wheel_tag_check`` with the dataclasses here, and the core checks their shape, as it
does every plugin answer, before showing them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WheelNeeds:
    """One wheel as the core read it."""

    wheel: str  # its file name
    arch: str  # the wheel-tag arch of its ELF files ("" if none, "x86_64,aarch64" if mixed)
    libc: str  # what its ELF files are built for: "musl" or "glibc"
    elf_files: int
    carried: tuple[str, ...]  # the platform tags of its file name
    system_sonames: tuple[str, ...]  # needed, not bundled, libc's own and libpython left out
    #: The listed musl releases (``alpinetags._load.facts.musl_abis``) that resolve every libc name it
    #: imports, oldest first; and, for every list that lacks some, (release, the names it lacks).
    musl_ok: tuple[str, ...]
    musl_missing: tuple[tuple[str, tuple[str, ...]], ...]
    oldest_musl_list: str  # the oldest symbol list there is: a floor there may be lower in truth
    #: Loader features its ELF files need (``alpinetags._load.loaderfeatures``: ``relr``); the musl releases
    #: whose loader lacks one are in ``musl_missing`` with its label (``DT_RELR``) among the names.
    loader_features: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overclaim:
    """A tag the wheel carries that admits a system the wheel cannot load on."""

    tag: str
    systems: str  # "musl 1.1.16 to 1.1.19", "Alpine 3.17 to 3.24"
    lacking: tuple[str, ...]  # the names or sonames they lack

    def __str__(self) -> str:
        return f"{self.tag} admits {self.systems}, which lack {', '.join(self.lacking)}"


@dataclass(frozen=True)
class DistroReport:
    """A distro plugin's part of ``wheel show``.

    ``fields`` are JSON entries (shown after ``system_sonames``; values must survive ``json.dumps``);
    ``floor_rows`` are text rows shown after the musl rows (for a glibc wheel: after ``carries``);
    ``soname_rows`` are shown after the ``system sonames`` row when the wheel needs any; ``overclaims``
    judge the tags the wheel carries that belong to this plugin's scheme.
    """

    fields: tuple[tuple[str, object], ...] = ()
    floor_rows: tuple[tuple[str, str], ...] = ()
    soname_rows: tuple[tuple[str, str], ...] = ()
    overclaims: tuple[Overclaim, ...] = ()


@dataclass(frozen=True)
class TagVerdict:
    """A distro plugin's judgement of tagging a wheel for one of its releases: why not, and what to warn
    about (the tag is written when no plugin and no check of the core refuses)."""

    refusals: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


#: Field names the core's own ``wheel show`` JSON uses: a plugin may not replace them.
CORE_FIELDS = frozenset(
    {
        "wheel", "arch", "elf_files", "carried", "libc_names", "musl_floor", "musl_floor_is_oldest_list",
        "musl_floor_symbols", "honest_musllinux", "system_sonames", "overclaims", "problems", "note", "libc",
    }
)  # fmt: skip


def _strs(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(x, str) for x in value)


def _rows(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(r, tuple) and len(r) == 2 and isinstance(r[0], str) and isinstance(r[1], str)
        for r in value
    )


def _overclaim(o: Any) -> bool:
    return (
        isinstance(o, Overclaim)
        and isinstance(o.tag, str)
        and isinstance(o.systems, str)
        and _strs(o.lacking)
    )


def valid_report(value: Any) -> bool:
    """Whether a plugin's ``alpinetags_wheel_report`` answer is a well-formed ``DistroReport``."""
    if not isinstance(value, DistroReport):
        return False
    if not isinstance(value.fields, tuple) or not all(
        isinstance(f, tuple) and len(f) == 2 and isinstance(f[0], str) and f[0] not in CORE_FIELDS
        for f in value.fields
    ):
        return False
    json.dumps(dict(value.fields))  # raises (so: invalid) for what JSON cannot hold
    return (
        _rows(value.floor_rows)
        and _rows(value.soname_rows)
        and isinstance(value.overclaims, tuple)
        and all(_overclaim(o) for o in value.overclaims)
    )


def valid_verdict(value: Any) -> bool:
    """Whether a plugin's ``alpinetags_wheel_tag_check`` answer is a well-formed ``TagVerdict``."""
    return isinstance(value, TagVerdict) and _strs(value.refusals) and _strs(value.warnings)
