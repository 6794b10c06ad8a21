"""The system a wheel is judged for by ``wheel tag`` and ``wheel variant``: a build root read (``--root``)
or a release stated (``--system ID:X.Y``, or a plugin's spelling such as ``--alpine 3.19``), and why a
wheel may not carry that system's tag (the build root's own check, and every plugin's verdict).

Shared by the two commands, so neither imports the other.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from alpinetags.cli.common import opt

if TYPE_CHECKING:
    from alpinetags._wheel.wheelinfo import WheelReport
    from alpinetags.model import Platform

_RELEASE_RE = re.compile(r"\d{1,3}\.\d{1,3}\Z")
_SYSTEM_RE = re.compile(r"([a-z0-9][a-z0-9._-]{0,63}):(.*)\Z")


OPTION_NAME_RE = re.compile(r"--([a-z][a-z0-9-]{0,63})\Z")


def add_wheel_arguments(
    p: argparse.ArgumentParser, *, root_help: str, system_help: str, out_help: str
) -> None:
    """The arguments ``wheel tag`` and ``wheel variant`` share: the wheels, the build system (``--root`` or
    ``--system``, one of them; on a parser that takes a plugin's ``--ID X.Y``, that spelling joins the
    same group), ``-w`` and ``--json``."""
    p.add_argument("wheels", nargs="+", metavar="WHEEL")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--root", metavar="DIR", default=argparse.SUPPRESS, help=root_help)
    which.add_argument("--system", metavar="ID:X.Y", help=system_help)
    if hasattr(p, "stated_group"):  # wheel's parser class: --ID X.Y spells --system ID:X.Y
        p.stated_group = which
    p.add_argument("-w", "--wheel-dir", metavar="DIR", help=out_help)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")


def stated_systems(registry: Any) -> list[str]:
    """The distro ids the plugins let a user state by name (hook ``alpinetags_stated_systems``: the Alpine
    plugin's ``alpine``), each answer checked: a faulty plugin only loses its spelling."""
    if not hasattr(registry.manager.hook, "alpinetags_stated_systems"):
        return []
    found = registry.call_all(
        "alpinetags_stated_systems",
        lambda r: (
            isinstance(r, list) and all(isinstance(x, str) and OPTION_NAME_RE.match(f"--{x}") for x in r)
        ),
    )
    return [i for i in dict.fromkeys(i for _n, ids in found for i in ids) if i not in ("root", "system")]


def stated_aliases(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The ``--ID X.Y`` options given, as (ID, value)."""
    return [
        (k[len("system_alias_") :], v)
        for k, v in vars(args).items()
        if k.startswith("system_alias_") and v is not None
    ]


def system_options(ids: list[str]) -> str:
    """``--root DIR or --alpine X.Y`` (each stated-system spelling), for messages."""
    return " or ".join(["--root DIR", *([f"--{i} X.Y" for i in ids] or ["--system ID:X.Y"])])


def _release_matches(platform: Platform, tag: str, prefix: str, suffix: str) -> bool:
    """Whether ``tag`` (``alpine_3_20_x86_64``) names the release ``platform`` is (``3.20``, ``3.20.1``),
    not merely one it accepts: a build on a pre-release (edge: 3.21_alpha2024...) is not a build on the
    release its first tag names (3.20, which edge accepts): the wheel may use what only the pre-release
    has."""
    release = tag[len(prefix) : -len(suffix)].replace("_", ".")
    return re.fullmatch(re.escape(release) + r"(\.\d+)?", platform.distro_version) is not None


def _stated_flag(distro_id: str, args: argparse.Namespace) -> str:
    ids = opt(args, "stated_ids") or []
    return f"--{distro_id}" if distro_id in ids else f"--system {distro_id}:X.Y"


def distro_tag(platform: Platform, registry: Any, target: Any, what: str, args: argparse.Namespace) -> str:
    """The platform's own distro tag without its arch (``alpine_3_16``), as the plugins give it
    (``alpinetags_platform_tags``: the first tag of its distro and arch)."""
    from alpinetags.errors import ConfigError
    from alpinetags.tags import plugin_platforms

    prefix = f"{platform.distro_id}_" if platform.distro_id else ""
    suffix = f"_{platform.arch}"
    for tag in plugin_platforms(platform, registry, target):
        if prefix and tag.startswith(prefix) and tag.endswith(suffix):
            if not _release_matches(platform, tag, prefix, suffix):
                raise ConfigError(
                    f"{what} is {platform.distro_id} {platform.distro_version}, whose own tag is "
                    f"{tag}: a pre-release is not that release; state the release with "
                    f"{_stated_flag(platform.distro_id, args)}"
                )
            return tag[: -len(suffix)]
    found = f"{platform.distro_id} {platform.distro_version}".strip() or "no distro found"
    raise ConfigError(f"{what}: no plugin gives a distro tag for it ({found}, {platform.arch})")


def root_platform(root: str, registry: Any, target: Any) -> Platform:
    """The root's platform as the plugins read it from its files (os-release, the ELF header of its shell
    or interpreter)."""
    from alpinetags._engine.detect import detect
    from alpinetags.errors import ConfigError

    if not os.path.isdir(root):
        raise ConfigError(f"--root {root!r} is not a directory")
    return detect(target, registry)


def stated_platform(args: argparse.Namespace) -> Optional[tuple[Platform, str]]:
    """The release stated by ``--system ID:X.Y`` or its ``--ID X.Y`` spelling, and the option as given
    (for messages); ``None`` if none is."""
    from alpinetags.errors import ConfigError
    from alpinetags.model import Platform

    given: list[tuple[str, str, str]] = []
    system: Optional[str] = opt(args, "system")
    if system is not None:
        m = _SYSTEM_RE.match(system.strip().lower())
        if not m:
            raise ConfigError(f"--system {system!r} is not ID:X.Y (e.g. alpine:3.19)")
        given.append((m.group(1), m.group(2).strip(), f"--system {system!r}"))
    ids = opt(args, "stated_ids") or []
    for i, value in stated_aliases(args):
        if i not in ids:
            raise ConfigError(
                f"--{i}: no option, and no plugin spells a stated release so "
                f"({', '.join(f'--{x}' for x in ids) or 'none does'}); or use --system ID:X.Y"
            )
        given.append((i, value.strip(), f"--{i} {value!r}"))
    if not given:
        return None
    distro_id, version, flag = given[0]
    if not _RELEASE_RE.match(version):
        raise ConfigError(f"{flag} is not a release like 3.19")
    platform = Platform(
        arch="",
        distro_id=distro_id,
        distro_version=version,
        detected_by="--target",
        sources=(("distro", flag.split(" ")[0]),),
    )
    return platform, flag


def _root_check(root: str, arch: str, path: str, r: WheelReport) -> tuple[list[str], bool]:
    """Whether the wheel loads on its build root, by the native check (the loader simulated from the
    root's files, nothing run): what the root lacks, as refusals, and whether its musl has every libc name
    the wheel imports."""
    from alpinetags._load.native import check_wheel, read_system

    system = read_system(root, arch=arch)
    check = check_wheel(path, root, system=system)
    sonames = sorted({s for v in check.failures for s in v.missing_sonames})
    # The check names each missing symbol with who needs it ("wheel!member: name"): the name is what counts.
    symbols = sorted({s.rsplit(": ", 1)[-1] for v in check.failures for s in v.missing_symbols})
    libc = [s for s in symbols if s in r.needed_libc]
    other = [s for s in symbols if s not in r.needed_libc]
    out = []
    if sonames:
        out.append(f"{root} lacks {', '.join(sonames)}, which it needs")
    if libc:
        out.append(f"the musl of {root} ({system.musl_version or 'version unknown'}) lacks {', '.join(libc)}")
    if other:
        more = f" and {len(other) - 8} more" if len(other) > 8 else ""
        out.append(f"the libraries of {root} lack {', '.join(other[:8])}{more}")
    if not check.ok and not out:
        out.extend(dict.fromkeys(reason for v in check.failures for reason in v.reasons))
    return out, not libc


def plugin_verdict(
    registry: Any, platform: Platform, r: WheelReport, root_musl_ok: Optional[bool]
) -> tuple[list[str], list[str]]:
    """The plugins' refusals and warnings (hook ``alpinetags_wheel_tag_check``), each answer checked."""
    from alpinetags.wheelneeds import valid_verdict

    if r.needs is None or not hasattr(registry.manager.hook, "alpinetags_wheel_tag_check"):
        return [], []
    found = registry.call_all(
        "alpinetags_wheel_tag_check",
        lambda v: v is None or valid_verdict(v),
        platform=platform,
        needs=r.needs,
        root_musl_ok=root_musl_ok,
    )
    verdicts = [v for _name, v in found if v is not None]
    return [x for v in verdicts for x in v.refusals], [x for v in verdicts for x in v.warnings]


def tag_refusals(
    r: WheelReport, platform: Platform, arch: str, root: Optional[str], path: str, registry: Any
) -> tuple[list[str], list[str]]:
    """Why the wheel cannot be tagged for ``platform`` (refusals), and what to warn about."""
    if r.problems:
        return [f"an ELF file of it cannot be read, so what it needs is unknown: {r.problems[0]}"], []
    if not r.elf_files:
        return ["it has no ELF file: a pure-Python wheel needs no platform tag"], []
    if r.libc != "musl":
        # The build-root check simulates musl's loader: for another libc only the plugin can judge.
        out, warnings = plugin_verdict(registry, platform, r, None)
        if not out:
            out = [f"its ELF files are built for {r.libc}: no plugin vouches for a {platform.distro_id} tag"]
        return out, warnings
    if "," in r.arch or not r.arch:
        return [f"its ELF files are not of one wheel arch ({r.arch or 'none'})"], []
    if arch != r.arch:
        return [f"its ELF files are {r.arch}, the build system is {arch}"], []
    out = []
    root_musl_ok: Optional[bool] = None
    if root is not None:
        found, root_musl_ok = _root_check(root, arch, path, r)
        out.extend(found)
    said, warnings = plugin_verdict(registry, platform, r, root_musl_ok)
    out.extend(said)
    return out, warnings


def print_written(results: list[dict[str, Any]], written: Callable[[dict[str, Any]], str]) -> None:
    """The text report of ``wheel tag`` and ``wheel variant``, one wheel after the other: a refusal on
    stderr; or a warning for each member the new RECORD invalidates, then ``written(result)`` (the path
    written and what the command says of it)."""
    for res in results:
        if "refused" in res:
            print(f"alpinetags: refused {res['wheel']}: {'; '.join(res['refused'])}", file=sys.stderr)
            continue
        for member in res["dropped"]:
            print(f"alpinetags: warning: left out {member}: the new RECORD invalidates it", file=sys.stderr)
        print(written(res))
