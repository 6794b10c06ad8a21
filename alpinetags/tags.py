"""The full, ordered list of wheel tags, built with packaging's public API.

One order, whichever packaging or pip is installed (``order_platforms``): distro platforms from the
plugins (``alpine_3_19_x86_64`` ...) first, then ``linux_<arch>``, then the standard ``musllinux``/
``manylinux`` tags. ``linux_<arch>`` before the standard tags is packaging's order since 26.3 (its issue
160): a ``linux_<arch>`` wheel that pip can see was built on this very machine, so it is the most
specific wheel there is, and it lets a user replace one broken manylinux/musllinux wheel with one built
locally, without ``--no-binary``. pip up to 24.x vendors an older packaging that puts it last; the pip
hook (``pip_hook.platforms_for_pip``) orders pip's list the same way, so ``alpinetags tags`` and
``pip debug --verbose`` agree. A system no plugin knows gets ``packaging.tags.sys_tags()`` of
packaging >= 26.3.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from packaging.tags import Tag

    from alpinetags._engine.plugins import Registry
    from alpinetags._system.interpreter import PythonBuild
    from alpinetags.model import Platform, Target

# Everything is imported where it is used, not here: a call answered by the detection cache
# (``default_platforms``) needs none of detect, plugins, pluggy or distro (issue 21: their imports cost
# as much as packaging's whole ``sys_tags()``), and the pip hook needs only plugin_platforms and
# expand_platforms (pip has its own vendored copy of packaging).

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
    from alpinetags._engine.plugins import disabled_from_env, load_plugins

    if target is None:
        from alpinetags.model import Target

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
        from alpinetags._engine.plugins import disabled_from_env, load_plugins

        registry = load_plugins(disabled_from_env(os.environ))
    out: list[str] = []
    for tag in platform_tags:
        found, _name = registry.call_first("alpinetags_expand_platform", _is_tag_list, platform_tag=tag)
        out.extend(found or [tag])
    return dedupe(out)


_STANDARD_RE = re.compile(r"(linux|manylinux|musllinux)_")


def linux_first(platforms: Sequence[str]) -> list[str]:
    """``linux_<arch>`` tags first (in their order), then the others (in theirs); see the module doc."""
    linux = [p for p in platforms if p.startswith("linux_")]
    return linux + [p for p in platforms if not p.startswith("linux_")]


def order_platforms(plugin: Sequence[str], standard: Sequence[str]) -> list[str]:
    """The one platform order: distro platforms of the plugins, then ``linux_first`` of the standard ones
    (what packaging or pip gives, plus the standard tags a plugin adds, such as a root's musllinux)."""
    distro = [p for p in plugin if not _STANDARD_RE.match(p)]
    extra = [p for p in plugin if _STANDARD_RE.match(p) and p not in standard]
    return dedupe(distro + linux_first([*standard, *extra]))


def standard_platforms(platform: Platform, target: Target) -> list[str]:
    """The platform tags packaging would give the target.

    For the running interpreter on glibc (or anything but musl) that is ``packaging.tags.platform_tags()``
    itself. On musl packaging would run the loader to learn the version the musl plugin already read
    from the file, so the same list (``linux_<arch>``, then ``musllinux_<major>_<minor>_<arch>`` down to
    0; for armv8l both for armv8l, then for armv7l) is built from the platform instead: no process is
    started. For another root, executable or a stated target packaging cannot look at all (it reads
    ``sys.executable``), so only ``linux_<arch>`` is added; a musl target's musllinux tags come from
    the musl plugin.
    """
    if target.is_running_system and not (platform.libc == "musl" and platform.libc_version):
        from packaging.tags import platform_tags

        return linux_first(list(platform_tags()))
    from alpinetags._elf.arch import compatible_arches
    from alpinetags._system.musl import musllinux_platforms

    linux = [f"linux_{a}" for a in compatible_arches(platform.arch)]
    if target.is_running_system:
        return linux + musllinux_platforms(platform.libc_version, platform.arch)
    if platform.libc == "glibc" and platform.libc_version:  # read from the root's libc.so.6
        from alpinetags._engine.manylinux import manylinux_platforms

        return linux + manylinux_platforms(platform.libc_version, compatible_arches(platform.arch))
    return linux


def tags_for_platforms(platforms: list[str], python: Optional[PythonBuild] = None) -> list[Tag]:
    """The tags this interpreter accepts on the given platforms, ordered as ``sys_tags`` orders them; with
    ``python`` (another CPython, read from its files: ``interpreter.python_of``) the tags that one accepts."""
    if python is not None and python.version:
        from packaging.tags import compatible_tags, cpython_tags

        version = python.version_tuple
        nodot = f"{version[0]}{version[1]}"
        abis = [f"cp{nodot}{python.abiflags}"]
        return [
            *cpython_tags(python_version=version, abis=abis, platforms=platforms),
            *compatible_tags(python_version=version, interpreter=f"cp{nodot}", platforms=platforms),
        ]
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
    """Plugin platforms, then the standard ones, without duplicates (with no argument: through the
    detection cache, ``default_platforms``)."""
    if target is None and registry is None and platform is None:
        return default_platforms()
    from alpinetags._engine.detect import probe

    target, registry, platform = probe(target, registry, platform)
    standard = standard_platforms(platform, target)
    return order_platforms(plugin_platforms(platform, registry, target), standard)


def sys_tags(target: Optional[Target] = None, registry: Optional[Registry] = None) -> list[Tag]:
    """Every tag the target accepts, best first: ``packaging.tags.sys_tags()`` plus plugin platforms."""
    return tags_for_platforms(all_platforms(target, registry))


# ------------------------------------------------------------------------------------------------
# the default target through the detection cache (alpinetags/_engine/detcache.py, docs/speed.md)


def _live_standard() -> list[str]:
    """``standard_platforms`` of the running interpreter off musl: packaging's, asked at every call."""
    from packaging.tags import platform_tags

    return linux_first(list(platform_tags()))


def _cached_answer(fields: dict[str, list[str]]) -> Optional[list[str]]:
    """``all_platforms`` from a cache entry's fields; ``None`` when they are not what ``_store`` writes."""
    plugin = fields.get("plugin")
    standard = fields.get("standard")
    live = fields.get("standard-live")
    if plugin is None or (standard is None) == (live is None) or live:
        return None
    if not _is_tag_list(plugin) or (standard is not None and not _is_tag_list(standard)):
        return None
    return order_platforms(plugin, _live_standard() if standard is None else standard)


def _code_dirs(registry: Registry) -> list[str]:
    """The directories of the code that answered (``detcache.code_dirs``): this package and the plugins."""
    from alpinetags._engine.detcache import code_dirs

    return code_dirs(registry.manager.get_plugins())


def _watched(target: Target, platform: Platform) -> list[str]:
    """Files read after the interpreter named them: its loader, and the musl loader of the arch."""
    from alpinetags._system.interpreter import find_interpreter
    from alpinetags._system.musl import LOADER_ARCH

    watch = [f"/lib/ld-musl-{LOADER_ARCH.get(platform.arch, platform.arch)}.so.1"]
    try:
        linked = find_interpreter(target).linked()
    except Exception:
        return watch
    if linked is not None and linked.loader:
        watch.append(linked.loader)
    return watch


def default_platforms(environ: Optional[Mapping[str, str]] = None) -> list[str]:
    """``all_platforms()`` of this process's default target (``/`` or ``ALPINETAGS_ROOT``).

    Answered from the user's detection cache when every input of the detection signs as it did when the
    answer was stored (``detcache``); otherwise found as always and, when nothing went wrong, stored.
    ``-v`` (the ``alpinetags`` logger at INFO) bypasses the cache: it is asked to show what is read.
    """
    import logging

    from alpinetags._engine import detcache

    env = os.environ if environ is None else environ
    root = env.get("ALPINETAGS_ROOT", "") or "/"
    cache = None
    if os.path.isdir(root) and not logging.getLogger("alpinetags").isEnabledFor(logging.INFO):
        running = os.path.realpath(root) == "/"
        candidates: tuple[str, ...] = ()
        if not running:
            from alpinetags._system.interpreter import ROOT_EXECUTABLES

            candidates = tuple("/" + p for p in ROOT_EXECUTABLES)
        cache = detcache.probe_for(root, running, env, candidates)
    fields = cache.load() if cache is not None else None
    answer = _cached_answer(fields) if fields is not None else None
    if answer is not None:
        return answer
    if cache is not None:
        cache.begin()
    from alpinetags._engine.detect import default_target, detect
    from alpinetags._engine.plugins import _reported, disabled_from_env, load_plugins

    target = default_target(env)
    warned = len(_reported)
    registry = load_plugins(disabled_from_env(env))
    platform = detect(target, registry)
    plugin = plugin_platforms(platform, registry, target)
    live = target.is_running_system and not (platform.libc == "musl" and platform.libc_version)
    standard = _live_standard() if live else standard_platforms(platform, target)
    if cache is not None and not registry.faults and len(_reported) == warned and registry.shipped_only():
        code = _code_dirs(registry)
        if code:
            stored = ("standard-live", []) if live else ("standard", standard)
            cache.store([("plugin", plugin), stored], _watched(target, platform), code)
    return order_platforms(plugin, standard)
