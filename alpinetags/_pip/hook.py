"""The pip patch: alpine (and musllinux) platforms added to the tags pip builds.

pip has no plugin interface for tags and vendors packaging as ``pip._vendor.packaging``, so patching
the top-level ``packaging`` does nothing to it. Every tag list pip uses comes from one function,
``pip._internal.utils.compatibility_tags.get_supported(version, platforms, impl, abis)`` (pip 20.1
to 26.x at least): ``TargetPython.get_sorted_tags`` calls it for the finder (``platforms=None`` for this
system, pip's ``--platform`` values otherwise), the resolver's factory and ``pip check`` call it without
arguments. That function is the patch point for tags (the install step has its own, in
``alpinetags._pip.check``). It is wrapped so that only its ``platforms`` argument changes:

* ``platforms=None`` (this system): the platforms the alpinetags plugins give for
  ``detect(default_target())``, then pip's own ``platform_tags()``; with no plugin platform, pip's call
  is left exactly as it was.
* ``platforms=None`` with ``ALPINETAGS_ROOT`` pointing at another root: the root's own platforms
  (``tags.all_platforms`` of the root: its distro tags, ``linux_<arch>``, its musllinux tags) *replace*
  pip's, as pip's ``--platform`` does: the host's ``manylinux_*`` tags say nothing about the root, and
  ranked above the root's musllinux they made pip pick a glibc wheel for a musl root.
* explicit platforms (``--platform``): ``alpine_3_19_x86_64`` expands to 3_19 ... 3_0 and
  ``musllinux_1_2_x86_64`` to 1_2 ... 1_0 (pip expands neither); no host platform is added.

Fail open: any exception here turns into one ``alpinetags: warning:`` line on stderr, and pip gets its
original arguments. ``ALPINETAGS_PIP=0`` switches the patch off for one command.

The wrapper is installed lazily by ``alpinetags._pip.pth`` when pip imports its tag module; this module
imports the core (pluggy, distro, packaging) only on the wrapper's first call.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional

from alpinetags._pip.patching import TAGS_OFF, WARNING_PREFIX, replace_pip_function, warn

OFF_ENV = "ALPINETAGS_PIP"
_OFF_VALUES = frozenset({"0", "off", "false", "no"})
_ON_VALUES = frozenset({"", "1", "on", "true", "yes"})

_host_cache: dict[tuple[tuple[str, str], ...], list[str]] = {}
#: The explicit platforms (pip's ``--platform``) this pip process asked tags for, if any. pip then
#: installs for another system, which the native check (``pip_check``) cannot see without a root.
explicit_platforms: list[str] = []
_registry_cache: dict[str, Any] = {}


def switch_on(environ: Mapping[str, str], name: str) -> bool:
    """The on/off switch ``name``: unset, ``1``/on/true/yes is on, ``0``/off/false/no is off; anything
    else is a ``ConfigError`` naming the variable (``maybe`` is not taken for yes)."""
    value = environ.get(name, "").strip().lower()
    if value in _OFF_VALUES:
        return False
    if value in _ON_VALUES:
        return True
    from alpinetags.errors import ConfigError

    raise ConfigError(f"{name}={environ.get(name)!r} is not a switch: use 1/on/true/yes or 0/off/false/no")


def hook_enabled(environ: Mapping[str, str]) -> bool:
    """False when ``ALPINETAGS_PIP`` is ``0`` (or off/false/no); ``ConfigError`` for another value."""
    return switch_on(environ, OFF_ENV)


def _registry(environ: Mapping[str, str]) -> Any:
    """The plugins for this process (``ALPINETAGS_DISABLE_PLUGINS`` honoured), loaded once per setting."""
    from alpinetags._engine.plugins import DISABLE_ENV, disabled_from_env, load_plugins

    key = environ.get(DISABLE_ENV, "")
    if key not in _registry_cache:
        _registry_cache[key] = load_plugins(disabled_from_env(environ))
    return _registry_cache[key]


def expand_platforms(platforms: Sequence[str], environ: Optional[Mapping[str, str]] = None) -> list[str]:
    """Every explicit ``--platform`` expanded by the plugin owning its scheme, duplicates dropped.

    ``alpine_3_19_x86_64`` -> 3_19 ... 3_0 (Alpine plugin), ``musllinux_1_2_x86_64`` -> 1_2, 1_1, 1_0
    (musl plugin); anything else stands for itself. A blocked plugin expands nothing.
    """
    from alpinetags.tags import expand_platforms as core_expand

    return core_expand(list(platforms), _registry(os.environ if environ is None else environ))


def host_platforms(environ: Mapping[str, str]) -> list[str]:
    """The platforms the plugins add for this system (or ``ALPINETAGS_ROOT``), cached per process."""
    key = tuple(sorted((k, v) for k, v in environ.items() if k.startswith("ALPINETAGS_")))
    cached = _host_cache.get(key)
    if cached is not None:
        return cached
    from alpinetags._engine.detect import default_target, probe
    from alpinetags.tags import plugin_platforms

    target, registry, platform = probe(default_target(environ), _registry(environ))
    found = plugin_platforms(platform, registry, target)
    _host_cache[key] = found
    return found


_root_cache: dict[tuple[tuple[str, str], ...], Optional[list[str]]] = {}


def root_platforms(environ: Mapping[str, str]) -> Optional[list[str]]:
    """All the platforms of the root in ``ALPINETAGS_ROOT`` (``tags.all_platforms``, the order
    ``alpinetags tags --root`` prints), or ``None`` when no other root is given. Cached per process."""
    if not environ.get("ALPINETAGS_ROOT", ""):
        return None
    key = tuple(sorted((k, v) for k, v in environ.items() if k.startswith("ALPINETAGS_")))
    if key not in _root_cache:
        from alpinetags._engine.detect import default_target, probe
        from alpinetags.tags import all_platforms

        target, registry, platform = probe(default_target(environ), _registry(environ))
        _root_cache[key] = None if target.is_running_system else all_platforms(target, registry, platform)
    return _root_cache[key]


def platforms_for_pip(
    given: Optional[Sequence[str]],
    environ: Mapping[str, str],
    pip_platform_tags: Callable[[], Any],
) -> Optional[list[str]]:
    """The ``platforms`` argument to hand to pip's ``get_supported`` instead of ``given``.

    ``None`` keeps pip's default (this system, nothing added). Another root gives its own platforms
    only (``root_platforms``). Otherwise the plugins' platforms and pip's own in ``tags.order_platforms``'
    one order, the order ``alpinetags tags`` prints, whatever packaging this pip vendors (pip <= 24 puts
    ``linux_<arch>`` last, packaging >= 26.3 first).
    """
    if given:
        return expand_platforms(given, environ)
    pointed = root_platforms(environ)
    if pointed is not None:
        return pointed
    added = host_platforms(environ)
    if not added:
        return None
    from alpinetags.tags import order_platforms

    return order_platforms(added, list(pip_platform_tags()))


def _pip_platform_tags() -> Any:
    from pip._vendor.packaging.tags import platform_tags

    return platform_tags()


def _route_core_warnings() -> None:
    """Plugin faults the core logs become one ``alpinetags: warning:`` line each, whatever pip logs."""
    logger = logging.getLogger("alpinetags")
    if any(getattr(h, "alpinetags_pip", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(WARNING_PREFIX + "%(message)s"))
    handler.setLevel(logging.WARNING)
    handler.alpinetags_pip = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False


def wrap_get_supported(original: Callable[..., Any]) -> Callable[..., Any]:
    """pip's ``get_supported`` with the platforms from ``platforms_for_pip``; pip's own on any failure."""

    def get_supported(*args: Any, **kwargs: Any) -> Any:
        # Only ``platforms`` changes, wherever pip put it; any other argument goes through as given.
        positional = len(args) > 1
        platforms = args[1] if positional else kwargs.get("platforms")
        if platforms:
            explicit_platforms[:] = platforms
        try:
            enabled = hook_enabled(os.environ)
        except Exception as exc:  # ALPINETAGS_PIP=maybe: named, and pip runs as without alpinetags
            warn(f"{TAGS_OFF}: {type(exc).__name__}: {exc}")
            enabled = False
        if enabled:
            try:
                _route_core_warnings()
                chosen = platforms_for_pip(platforms, os.environ, _pip_platform_tags)
            except Exception as exc:
                warn(f"{TAGS_OFF}: {type(exc).__name__}: {exc}")
                chosen = platforms
            if positional:
                args = (args[0], chosen, *args[2:])
            else:
                kwargs["platforms"] = chosen
        return original(*args, **kwargs)

    get_supported.__doc__ = original.__doc__
    return get_supported


def _accepts_platforms(func: Any) -> bool:
    """Whether ``func`` is ``get_supported(version, platforms, impl, abis, ...)`` as the wrapper expects."""
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    return tuple(code.co_varnames[: min(code.co_argcount, 4)]) == ("version", "platforms", "impl", "abis")


def patch_tags_module(module: Any) -> None:
    """Replace ``module.get_supported`` (pip's tag module) by the wrapper (see ``replace_pip_function``)."""
    replace_pip_function(
        module,
        "get_supported",
        _accepts_platforms,
        wrap_get_supported,
        "get_supported(version, platforms, impl, abis)",
    )
