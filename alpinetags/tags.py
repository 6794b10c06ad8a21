"""The full, ordered list of wheel tags, built with packaging's public API.

Plugin platforms (``alpine_3_19_x86_64`` ...) come first, then packaging's own platform tags
(``musllinux_1_2_x86_64`` ... ``linux_x86_64``), duplicates dropped, so a system no plugin knows gets
exactly ``packaging.tags.sys_tags()``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

from .detect import probe
from .model import Platform, Target
from .musl import musllinux_platforms
from .plugins import Registry, disabled_from_env, load_plugins

if TYPE_CHECKING:
    from packaging.tags import Tag

# packaging.tags is imported where tags are built, not here: the pip hook needs only plugin_platforms
# and expand_platforms, and pip has its own vendored copy of packaging.

_PLATFORM_TAG_RE = re.compile(r"[a-z0-9_]+\Z")


def _is_tag_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) and _PLATFORM_TAG_RE.match(t) for t in value)


def dedupe(items: Sequence[str]) -> list[str]:
    """``items`` in order, each once."""
    return list(dict.fromkeys(items))


def plugin_platforms(
    platform: Platform, registry: Optional[Registry] = None, target: Optional[Target] = None
) -> list[str]:
    """Platform tags the plugins contribute for ``platform``, in hook order, without duplicates.

    ``target`` carries the environment the plugins read their switches from (default: this process's).
    """
    if target is None:
        target = Target(environ=dict(os.environ))
    if registry is None:
        registry = load_plugins(disabled_from_env(target.environ))
    out: list[str] = []
    hook = "alpinetags_platform_tags"
    for _name, tags in registry.call_all(hook, _is_tag_list, platform=platform, target=target):
        out.extend(tags)
    return dedupe(out)


def expand_platforms(platform_tags: list[str], registry: Optional[Registry] = None) -> list[str]:
    """Each explicit platform tag followed by the older ones its system accepts, as the owning plugin says.

    ``["alpine_3_2_x86_64", "linux_x86_64"]`` -> ``["alpine_3_2_x86_64", "alpine_3_1_x86_64",
    "alpine_3_0_x86_64", "linux_x86_64"]``; a tag no plugin owns stands for itself.
    """
    if registry is None:
        registry = load_plugins(disabled_from_env(os.environ))
    out: list[str] = []
    for tag in platform_tags:
        found, _name = registry.call_first("alpinetags_expand_platform", _is_tag_list, platform_tag=tag)
        out.extend(found or [tag])
    return dedupe(out)


def standard_platforms(platform: Platform, target: Target) -> list[str]:
    """The platform tags packaging would give the target.

    For the running interpreter on glibc (or anything but musl) that is ``packaging.tags.platform_tags()``
    itself. On musl packaging would run the loader to learn the version the musl plugin already read
    from the file, so the same list (``musllinux_<major>_<minor>_<arch>`` down to 0 and ``linux_<arch>``,
    in the order of the installed packaging) is built from the platform instead: no process is started.
    For another root, executable or a stated target packaging cannot look at all (it reads
    ``sys.executable``), so only ``linux_<arch>`` is added; a musl target's musllinux tags come from
    the musl plugin.
    """
    if target.is_running_system and not (platform.libc == "musl" and platform.libc_version):
        from packaging.tags import platform_tags

        return list(platform_tags())
    linux = [f"linux_{platform.arch}"]
    if target.is_running_system:
        musl = musllinux_platforms(platform.libc_version, platform.arch)
        return linux + musl if _packaging_puts_linux_first() else musl + linux
    return linux


def _packaging_puts_linux_first() -> bool:
    """packaging 26.3 moved ``linux_<arch>`` before ``manylinux``/``musllinux`` (its issue 160)."""
    from packaging import __version__ as packaging_version
    from packaging.version import InvalidVersion, Version

    try:
        return Version(packaging_version) >= Version("26.3.dev0")
    except InvalidVersion:
        return False


def tags_for_platforms(platforms: list[str]) -> list[Tag]:
    """The tags this interpreter accepts on the given platforms, ordered as ``sys_tags`` orders them."""
    from packaging.tags import (
        compatible_tags,
        cpython_tags,
        generic_tags,
        interpreter_name,
        interpreter_version,
    )

    name = interpreter_name()
    tags: list[Tag] = []
    if name == "cp":
        tags.extend(cpython_tags(platforms=platforms))
    else:
        tags.extend(generic_tags(platforms=platforms))
    if name == "pp":
        interp: Optional[str] = "pp3"
    elif name == "cp":
        interp = "cp" + interpreter_version()
    else:
        interp = None
    tags.extend(compatible_tags(interpreter=interp, platforms=platforms))
    return tags


def all_platforms(
    target: Optional[Target] = None,
    registry: Optional[Registry] = None,
    platform: Optional[Platform] = None,
) -> list[str]:
    """Plugin platforms, then the standard ones, without duplicates."""
    target, registry, platform = probe(target, registry, platform)
    standard = standard_platforms(platform, target)
    # A plugin platform that packaging gives too (musllinux on the running system) keeps packaging's place.
    extra = [p for p in plugin_platforms(platform, registry, target) if p not in standard]
    return dedupe(extra + standard)


def sys_tags(target: Optional[Target] = None, registry: Optional[Registry] = None) -> list[Tag]:
    """Every tag the target accepts, best first: ``packaging.tags.sys_tags()`` plus plugin platforms."""
    return tags_for_platforms(all_platforms(target, registry))
