"""alpinetags plugin: Alpine Linux and its derivatives, with ``alpine_3_<minor>_<arch>`` tags.

Alpine X.Y accepts ``alpine_X_Y_<arch>`` down to ``alpine_X_0_<arch>``: musl never goes down between
releases, so an older build's musl needs are met. Its other libraries may be gone (OpenSSL 1.1 at 3.17,
libffi at 3.12 and 3.15, ICU almost every release: docs/spec.md); the native check, not the tag, catches
those. Two exceptions:

* edge (``VERSION_ID=3.21_alpha20240606`` or ``3.21.0_alpha...``) is a pre-release of 3.21. Wheels tagged
  3.21 are built on the final 3.21, which edge may not yet match, so edge accepts 3.20 and older.
* On the 32-bit arches (x86, armhf, armv7) Alpine 3.13 moved to musl 1.2 and a 64-bit ``time_t``. musl
  keeps the 32-bit symbols (3.12's busybox runs right on 3.13), but the other libraries were rebuilt with
  64-bit ``time_t`` under the same sonames, so a 3.12 wheel passing a ``time_t`` to one breaks silently
  (measured with libcrypto.so.1.1: experiments/time64.py). So on 3.13 and later those arches accept
  nothing older than ``alpine_3_13``. ``armv8l`` (a 32-bit ARM
  userland on an ARMv8 CPU) is that same 32-bit userland: the same floor, and, as packaging does,
  its own tags first and then armv7l's.

Alpine is a musl distribution, but the interpreter decides the libc: a glibc-linked or static Python
on an Alpine root (or on any system with ``ALPINETAGS_ALPINE_VERSION`` set) cannot load Alpine's
wheels, so it gets no alpine tags and keeps what packaging gives. Only when there is no interpreter
to read (a bare root) is musl assumed, and ``sources`` says so.

What the plugin knows about Alpine's releases (which musl each ships, its arch names, which package ships
which soname) is its own package data, read by ``facts``; ``wheel`` places a wheel's needs in those
releases for ``alpinetags wheel show`` and ``wheel tag`` (hooks ``alpinetags_wheel_report``,
``alpinetags_wheel_tag_check``, ``alpinetags_stated_systems``). The core asks; it names no distro.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from alpinetags import Platform, Target, hookimpl
from alpinetags._elf.arch import compatible_arches
from alpinetags._system.musl import LOADER_ARCH, musl_release
from alpinetags._system.os_release import read_first_line
from alpinetags.errors import AlpinetagsError, ConfigError, LoaderError

from . import facts, loaderbuilds

if TYPE_CHECKING:  # hook types: not loaded at import (the pip hook and wheel show need none of them)
    from alpinetags._system.interpreter import Interpreter, InterpreterFile
    from alpinetags.wheelneeds import DistroReport, TagVerdict, WheelNeeds
    from alpinetags.wheelvariant import VariantSpec

log = logging.getLogger("alpinetags")

__version__ = "0.1.0"

ALPINE_VERSION_ENV = "ALPINETAGS_ALPINE_VERSION"

#: ``apk --print-arch`` -> wheel-tag arch (``shared/data/alpine-arches.tsv``).
APK_ARCH_TO_TAG = {
    "x86_64": "x86_64",
    "x86": "i686",
    "aarch64": "aarch64",
    "armv7": "armv7l",
    "armhf": "armv6l",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}
#: Arches where Alpine 3.13 switched to 64-bit time_t.
TIME64_ARCHES = frozenset({"i686", "armv8l", "armv7l", "armv6l"})
TIME64_MINOR = 13

# At most three digits a part: a hostile VERSION_ID=3.99999999 would otherwise ask for a hundred million tags.
_VERSION_RE = re.compile(r"v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(?:_([a-z]+)\d*)?\Z")


@dataclass(frozen=True)
class AlpineVersion:
    """An Alpine release as tags see it: major, minor, and whether it is a pre-release (edge)."""

    major: int
    minor: int
    prerelease: bool


def parse_alpine_version(text: str) -> AlpineVersion:
    """Parse ``3.19``, ``3.19.1``, ``3.21_alpha20240606`` or ``3.21.0_alpha20240606``."""
    m = _VERSION_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an Alpine version: {text!r}")
    suffix = m.group(4) or ""
    prerelease = suffix in ("alpha", "beta", "rc", "pre")
    return AlpineVersion(int(m.group(1)), int(m.group(2)), prerelease)


def accepted_minors(version: AlpineVersion, arch: str) -> range:
    """The minors of ``version.major`` whose builds this release accepts on ``arch``, newest first: the
    tags' rule, which the wheel-variant provider (``variants``) answers with too."""
    newest = version.minor - 1 if version.prerelease else version.minor
    oldest = 0
    if arch in TIME64_ARCHES and version.major == 3 and newest >= TIME64_MINOR:
        oldest = TIME64_MINOR
    return range(newest, oldest - 1, -1)


def alpine_platforms(version: AlpineVersion, arch: str) -> list[str]:
    """``alpine_<major>_<minor>_<arch>`` tags this release accepts, newest first (see module doc)."""
    return [
        f"alpine_{version.major}_{n}_{a}"
        for a in compatible_arches(arch)
        for n in accepted_minors(version, arch)
    ]


def _override(target: Target) -> Optional[str]:
    if ALPINE_VERSION_ENV not in target.environ:
        return None
    value = target.environ[ALPINE_VERSION_ENV].strip()
    if value:
        try:
            parse_alpine_version(value)
        except ValueError:
            raise ConfigError(
                f"{ALPINE_VERSION_ENV}={value!r} is not an Alpine version like 3.19 (or empty)"
            ) from None
    return value


@hookimpl(tryfirst=True)
def alpinetags_detect(target: Target, base: Platform, interpreter: InterpreterFile) -> Optional[Platform]:
    """Alpine by ``ID=alpine``, a derivative by ``ID_LIKE`` plus ``/etc/alpine-release``; the libc from
    ``interpreter``, which the core read once for everyone."""
    override = _override(target)
    if override == "":
        return None  # Alpine tags switched off
    sources = dict(base.sources)
    if override:
        version, sources["distro"] = override, ALPINE_VERSION_ENV
    elif base.distro_id == "alpine":
        version = base.distro_version
    elif "alpine" in base.distro_like:
        release_file = target.resolve("/etc/alpine-release")
        version = read_first_line(release_file)
        if not version:
            return None
        sources["distro"] = release_file
    else:
        return None
    parse_alpine_version(version)  # raise now: a garbled version is reported, the fallback runs
    log.info("Alpine %s (%s)", version, sources.get("distro", ""))
    arch = base.arch
    if not target.arch and not target.executable and not target.is_running_system:
        arch_file = target.resolve("/etc/apk/arch")
        apk_arch = read_first_line(arch_file)
        log.info("read %s: %r", arch_file, apk_arch)
        if apk_arch in APK_ARCH_TO_TAG:
            arch = APK_ARCH_TO_TAG[apk_arch]
            sources["arch"] = arch_file
    try:
        interp = interpreter.linked()
    except AlpinetagsError as exc:
        log.info("interpreter unreadable, musl assumed: %s", exc)
        interp = None
    libc, libc_version = base.libc, base.libc_version
    if interp is not None and interp.libc != "musl":
        # A glibc or static interpreter: Alpine's musl is not what it runs on; packaging's tags stand.
        sources["libc"] = sources.get("libc") or interp.describe()
        if not libc:
            libc = interp.libc
        log.info("not a musl interpreter: %s", interp.describe())
    else:
        libc = "musl"
        libc_version = _loader_version(target, arch, interp, sources)
    return dataclasses.replace(
        base,
        arch=arch,
        distro_id="alpine",
        distro_version=version,
        distro_like=base.distro_like if base.distro_id == "alpine" else (base.distro_id, "alpine"),
        libc=libc,
        libc_version=libc_version,
        sources=tuple(sources.items()),
    )


def _loader_version(target: Target, arch: str, interp: Optional[Interpreter], sources: dict[str, str]) -> str:
    """The musl version of the interpreter's loader (or, with no interpreter, of Alpine's loader for
    ``arch``); ``""`` when it cannot be had: the release still stands, musllinux tags are left out."""
    if interp is None:
        inside = f"/lib/ld-musl-{LOADER_ARCH.get(arch, arch)}.so.1"
        sources["libc"] = "assumed: Alpine is a musl distribution (no interpreter found to read)"
    else:
        inside = interp.loader or ""
        sources["libc"] = interp.describe()
    from alpinetags._engine.detect import musl_loader_version  # here: detection alone needs it

    try:
        # an assumed loader path is only read: running is for a loader the interpreter names
        version, how = musl_loader_version(target, inside, may_run=interp is not None)
    except LoaderError as exc:
        log.info("musl version not found: %s", exc)
        return ""
    release, raw = musl_release(version)
    sources["libc_version"] = how + raw
    log.info("musl %s (%s)", release, sources["libc_version"])
    return release


@hookimpl(tryfirst=True)
def alpinetags_platform_tags(platform: Platform, target: Target) -> list[str]:
    """Alpine's tags for a musl interpreter on Alpine; for ``--target``, a libc left unsaid is musl."""
    if platform.distro_id != "alpine" or not platform.distro_version or _override(target) == "":
        return []
    stated = platform.detected_by == "--target"
    if platform.libc != "musl" and not (stated and not platform.libc):
        return []
    try:
        version = parse_alpine_version(platform.distro_version)
    except ValueError:
        if stated:
            raise ConfigError(
                f"--target: {platform.distro_version!r} is not an Alpine version like 3.19"
            ) from None
        raise
    return alpine_platforms(version, platform.arch)


_TAG_RE = re.compile(r"alpine_(\d{1,3})_(\d{1,3})_([a-z0-9_]+)\Z")


@hookimpl
def alpinetags_expand_platform(platform_tag: str) -> Optional[list[str]]:
    """``alpine_3_18_x86_64`` -> what Alpine 3.18 accepts (with the time64 floor on 32-bit arches)."""
    m = _TAG_RE.match(platform_tag)
    if not m:
        return None
    return alpine_platforms(AlpineVersion(int(m.group(1)), int(m.group(2)), False), m.group(3))


@hookimpl
def alpinetags_marker_variables(platform: Platform) -> dict[str, str]:
    """``alpine_version``: the release as ``major.minor`` (``3.19``), ``""`` off Alpine."""
    if platform.distro_id != "alpine" or not platform.distro_version:
        return {"alpine_version": ""}
    v = parse_alpine_version(platform.distro_version)
    return {"alpine_version": f"{v.major}.{v.minor}"}


@hookimpl
def alpinetags_native_hints(distro_id: str, distro_version: str, arch: str, soname: str) -> list[str]:
    """Which Alpine package ships a missing soname in this release, or which releases had it."""
    if distro_id != "alpine":
        return []
    return facts.alpine_soname_hints(distro_version, soname)


@hookimpl
def alpinetags_libc_features(root: str, distro_id: str, distro_version: str, arch: str) -> list[str]:
    """Loader features the root's own musl build was measured to do (``loaderbuilds``): only for a root
    whose apk database names the musl package its loader comes from; a stated release gives nothing (an
    early point release may lack what a later revision carried back)."""
    if distro_id != "alpine" or not root:
        return []
    # imported with the plugin: pip blocks imports while it installs, when the native check asks this
    return loaderbuilds.root_features(root, arch)


@hookimpl(tryfirst=True)
def alpinetags_wheel_report(needs: WheelNeeds) -> Optional[DistroReport]:
    """``wheel show``: the Alpine floor, the newest release with the sonames, compat packages, and which
    carried ``alpine_*`` tags overclaim (``wheel.wheel_report``)."""
    from .wheel import wheel_report

    return wheel_report(needs)


@hookimpl(tryfirst=True)
def alpinetags_wheel_tag_check(
    platform: Platform, needs: WheelNeeds, root_musl_ok: Optional[bool]
) -> Optional[TagVerdict]:
    """``wheel tag`` for an Alpine release: what it lacks (``wheel.tag_check``); nothing for others."""
    from alpinetags.wheelneeds import TagVerdict

    from .wheel import stated_release, tag_check

    release = stated_release(platform)
    if release is None:
        return None
    unknown = _unknown_release(release)
    if unknown:
        return TagVerdict(refusals=(unknown,))
    return tag_check(release, needs, root_musl_ok)


def _unknown_release(release: str) -> str:
    """Why a release cannot be judged (``""`` when it can): the tables must know which musl it ships and
    have that musl's symbol list; an unknown release (``4.0``, ``3.91``, ``2.7``) or one older than the
    lists (``3.5``: musl 1.1.15) would be tagged on no evidence."""
    from alpinetags._load.facts import abi_for

    releases = facts.alpine_releases()
    judged = [r.version for r in releases if abi_for(r.musl) is not None]
    row = next((r for r in releases if r.version == release), None)
    if row is not None and abi_for(row.musl) is not None:
        return ""
    span = f"{judged[0]} to {judged[-1]}" if judged else "none"
    if row is None:
        return f"Alpine {release} is not a release the tables know (they judge Alpine {span})"
    return (
        f"Alpine {release} ships musl {row.musl}, older than every musl symbol list "
        f"(the tables judge Alpine {span})"
    )


@hookimpl(tryfirst=True)
def alpinetags_wheel_variant(platform: Platform, needs: WheelNeeds) -> Optional[VariantSpec]:
    """``wheel variant``: ``alpine :: release`` and one ``alpine :: <library>`` per system soname
    (``variants.variant_spec``); nothing for another distribution."""
    from .variants import variant_spec
    from .wheel import stated_release

    release = stated_release(platform)
    return None if release is None else variant_spec(release, needs)


@hookimpl
def alpinetags_stated_systems() -> list[str]:
    """``wheel tag --alpine 3.19``: Alpine releases may be stated by name."""
    return ["alpine"]
