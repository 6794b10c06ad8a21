"""Alpine as a wheel-variant provider (namespace ``alpine``), for variantlib 0.2.2's plugin API.

A variant wheel keeps its ordinary tag (``musllinux_1_2_x86_64``, which any index accepts) and adds
properties that this provider, run on the installing machine, says it supports. It answers from what the
tags and the native check read, nothing else:

* ``alpine :: release :: 3.16``: built on Alpine 3.16. A system supports the releases whose builds its
  tags accept (``accepted_minors``: 3.20 supports 3.20 down to 3.0, edge the releases before it, the
  32-bit arches nothing older than 3.13 from 3.13 on), newest first, so a newer build ranks first.
* one feature per system library, its value the soname's version: ``libssl.so.1.1`` is
  ``alpine :: libssl :: 1.1``. A system supports the sonames its musl loader would find: the files named
  like a soname in the directories of ``/etc/ld-musl-<arch>.path`` (or musl's built-in path), which is how
  the native check looks them up.

Why these shapes, in variantlib's terms (docs/variants.md has the whole reasoning): a variant is accepted
when, for each of its features, one of its values is supported (values of one feature are alternatives;
features must all hold). A wheel needs all its sonames at once, so each library is its own feature; one
feature ``soname`` with several values would accept a wheel when any one of them exists. Every feature is
single-valued (a build links one major of a library, and was built on one release). The provider is an
install-time one (``requires``): what a system supports differs from system to system, so it cannot be
recorded at build time (``all_properties_compatible`` stays False).

variantlib calls ``get_supported_configs()`` in a subprocess, with the interpreter that will install: the
detection is ``alpinetags.detect()`` with ``ALPINETAGS_ROOT`` as for the tags, so the interpreter decides
the libc. It fails safe: not Alpine, not a musl interpreter, or any error (logged): nothing supported, so
no Alpine variant is chosen. The answers are plain frozen dataclasses with the protocol's attributes
(``name``, ``values``, ``multi_value``); variantlib is never imported.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from alpinetags.model import Platform, Target

if TYPE_CHECKING:
    from alpinetags.wheelneeds import WheelNeeds
    from alpinetags.wheelvariant import VariantSpec

log = logging.getLogger("alpinetags")

NAMESPACE = "alpine"
RELEASE = "release"
#: What an installer installs to run this provider, and the object it imports (this module).
REQUIRES = ("alpinetags",)
PLUGIN_API = "alpinetags_alpine.variants"
#: The value of a soname without a version (``libfoo.so``): one no escaped version can be.
UNVERSIONED = "_"
#: No library directory is listed past this many entries (a hostile root could hold millions).
MAX_DIR_ENTRIES = 50_000

#: variantlib's install-time default: what a system supports is read on that system.
all_properties_compatible = False

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_SO_RE = re.compile(r"\.so(?:\.|\Z)")


@dataclass(frozen=True)
class FeatureConfig:
    """One feature with its values, most preferred first (variantlib's ``VariantFeatureConfigType``)."""

    name: str
    values: list[str] = field(default_factory=list)
    multi_value: bool = False


# --------------------------------------------------------------------------------------------------
# sonames as features


def _escape(text: str, keep: frozenset[str]) -> str:
    """``text`` in variantlib's alphabet, one-to-one: characters outside ``keep`` (and ``_`` itself)
    become ``_`` and two hex digits per UTF-8 byte, so two sonames never share a spelling."""
    return "".join(c if c in keep else "".join(f"_{b:02x}" for b in c.encode()) for c in text)


def soname_feature(soname: str) -> Optional[tuple[str, str]]:
    """``libssl.so.1.1`` -> (``libssl``, ``1.1``); ``None`` for a name with no ``.so`` part.

    The library name is the part before ``.so`` (escaped: ``libstdc++`` is ``libstdc_2b_2b``); a name not
    starting with ``lib`` gets ``so_`` before it, so no library can be spelled ``release``.
    """
    m = _SO_RE.search(soname)
    if m is None or m.start() == 0:
        return None
    stem, version = soname[: m.start()], soname[m.end() :]
    name = _escape(stem, _PLAIN)
    if not stem.startswith("lib"):
        name = "so_" + name
    return name, _escape(version, _PLAIN | {"."}) if version else UNVERSIONED


def newest_first(values: Iterable[str]) -> list[str]:
    """Versions newest first (``1.3.1`` before ``1``); ones that are not all digits after them, sorted."""
    values = set(values)
    numeric = [v for v in values if all(p.isdigit() for p in v.split("."))]
    others = sorted(values - set(numeric))
    return sorted(numeric, key=lambda v: tuple(int(p) for p in v.split(".")), reverse=True) + others


def soname_configs(sonames: Iterable[str]) -> list[FeatureConfig]:
    """The soname features of a system that has ``sonames``, by library name; the newest version first."""
    from alpinetags._system.loadpath import is_libc_soname

    found: dict[str, set[str]] = {}
    for soname in sonames:
        pair = None if is_libc_soname(soname) else soname_feature(soname)
        if pair is not None:
            found.setdefault(pair[0], set()).add(pair[1])
    return [FeatureConfig(name, newest_first(values)) for name, values in sorted(found.items())]


# --------------------------------------------------------------------------------------------------
# the installing system


def release_values(platform: Platform) -> list[str]:
    """The releases whose builds ``platform`` accepts, newest first; ``[]`` off Alpine or for an
    interpreter that is not musl's (it could not load them: the tags' rule)."""
    from . import accepted_minors, parse_alpine_version

    if platform.distro_id != "alpine" or platform.libc != "musl" or not platform.distro_version:
        return []
    version = parse_alpine_version(platform.distro_version)
    return [f"{version.major}.{n}" for n in accepted_minors(version, platform.arch)]


def library_sonames(target: Target, arch: str) -> list[str]:
    """The file names in the directories musl's loader searches on ``target`` (``/etc/ld-musl-<arch>.path``
    or its built-in path) that name a soname and lead to a file inside the root. Only listed, never read."""
    from alpinetags._system.loadpath import _musl_path_file, safe_resolve
    from alpinetags._system.musl import LOADER_ARCH

    out: list[str] = []
    for inside in dict.fromkeys(_musl_path_file(target, LOADER_ARCH.get(arch, arch))):
        if not inside.startswith("/"):
            continue
        host = safe_resolve(target, inside)
        try:
            with os.scandir(host or "\0") as entries:
                for n, entry in enumerate(entries):
                    if n >= MAX_DIR_ENTRIES:
                        log.warning("alpine variants: %s has more than %d entries; the rest not listed",
                                    inside, MAX_DIR_ENTRIES)  # fmt: skip
                        break
                    if _SO_RE.search(entry.name) is None:
                        continue
                    if entry.is_symlink():
                        ok = os.path.isfile(safe_resolve(target, posixpath.join(inside, entry.name)) or "\0")
                    else:
                        ok = entry.is_file()
                    if ok:
                        out.append(entry.name)
        except OSError as exc:
            log.info("alpine variants: %s not listed: %s", inside, exc)
    return out


def supported_configs(platform: Platform, sonames: Sequence[str]) -> list[FeatureConfig]:
    """What a system with ``platform`` and ``sonames`` supports: the release feature first (it ranks
    first), then one feature per library; nothing at all off Alpine or for a non-musl interpreter."""
    releases = release_values(platform)
    if not releases:
        return []
    return [FeatureConfig(RELEASE, releases), *soname_configs(sonames)]


def get_supported_configs() -> list[FeatureConfig]:
    """variantlib's hook: this system's properties (``ALPINETAGS_ROOT`` names another root). Any fault
    answers nothing supported, logged: a wrong "supported" would install a wheel that cannot load."""
    from alpinetags._engine.detect import default_target, detect

    try:
        target = default_target()
        platform = detect(target)
        if not release_values(platform):
            log.info("alpine variants: not a musl interpreter on Alpine (%s %s, libc %r): nothing supported",
                     platform.distro_id or "no distro", platform.distro_version, platform.libc)  # fmt: skip
            return []
        return supported_configs(platform, library_sonames(target, platform.arch))
    except Exception as exc:  # fail safe: the provider runs inside an installer
        log.warning("alpine variants: nothing supported: %s: %s", type(exc).__name__, exc)
        return []


def get_all_configs() -> list[FeatureConfig]:
    """variantlib's hook: every property a variant may carry, as far as the plugin's tables know (the
    releases of its musl table, newest first; the libraries of its soname table). Used to validate a
    variant (``variantlib make-variant``), never to select one."""
    from . import facts

    releases = [r.version for r in reversed(facts.alpine_releases())]
    sonames = [s for row in facts.alpine_sonames() for s in row.sonames]
    return [FeatureConfig(RELEASE, releases), *soname_configs(sonames)]


# --------------------------------------------------------------------------------------------------
# the publisher's side


def variant_spec(release: str, needs: WheelNeeds) -> VariantSpec:
    """The properties of a wheel built on Alpine ``release`` (``3.16``) with ``needs``: the release, and
    each system soname it needs; refusals for a soname that cannot be spelled or two majors of one
    library (a feature holds one value)."""
    from alpinetags.wheelvariant import VariantSpec

    props: dict[str, str] = {RELEASE: release}
    refusals: list[str] = []
    by_feature: dict[str, str] = {}
    for soname in needs.system_sonames:
        pair = soname_feature(soname)
        if pair is None:
            refusals.append(f"{soname} is not named like a soname (lib<name>.so[.<version>])")
            continue
        if pair[0] in by_feature:
            refusals.append(f"it needs both {by_feature[pair[0]]} and {soname}: one library, two versions")
            continue
        by_feature[pair[0]] = soname
        props[pair[0]] = pair[1]
    return VariantSpec(
        namespace=NAMESPACE,
        properties=tuple(props.items()),
        requires=REQUIRES,
        plugin_api=PLUGIN_API,
        refusals=tuple(refusals),
    )
