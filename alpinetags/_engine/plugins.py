"""Finding, blocking and calling plugins, with every fault isolated to the plugin that caused it.

pluggy would stop a whole hook call at the first plugin that raises; inside pip that would mean no
tags at all. So each hook implementation is called on its own here: a plugin that fails to import,
raises, or returns the wrong type is reported once, by name, and skipped, and the others still run.

Plugins are looked up and imported when first needed, not when ``load_plugins`` returns (speed, issue
21): a command that may never call a hook (``check`` asks the plugins only for hints about a failure)
reads no entry point and imports neither pluggy nor any plugin. ``detect()`` loads them first thing, so
the warnings keep their order.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from alpinetags.errors import ConfigError, PluginError

if TYPE_CHECKING:
    import pluggy

log = logging.getLogger("alpinetags")

ENTRY_POINT_GROUP = "alpinetags"
DISABLE_ENV = "ALPINETAGS_DISABLE_PLUGINS"
#: A hook call slower than this is reported once per plugin and hook. Its result still counts: a thread
#: cannot be stopped, so an abandoned call would go on running inside pip (see docs/robustness.md).
SLOW_SECONDS = 1.0
#: A fault message is cut to this length: a plugin's exception may quote a megabyte of hostile input.
MAX_MESSAGE = 500
#: What a plugin may raise and still be isolated. ``SystemExit`` too: a plugin calling ``sys.exit()``
#: must not end pip. ``KeyboardInterrupt`` is the user's and goes through.
PLUGIN_FAULTS = (Exception, SystemExit)

_reported: set[str] = set()


def warn_once(message: str, key: Optional[str] = None) -> None:
    """Log ``message`` as a warning the first time this process sees it (or its ``key``)."""
    seen = message if key is None else key
    if seen not in _reported:
        _reported.add(seen)
        log.warning("%s", message)


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


def _describe(result: Any) -> str:
    """A hook's answer for ``-v``: a platform by its facts, a list as it is, ``None`` as "no answer"."""
    if result is None:
        return "no answer"
    try:  # a plugin's answer is not checked yet: describing it must not raise
        facts = getattr(result, "as_dict", None)
        if callable(facts):
            d = facts()
            keys = ("distro_id", "distro_version", "libc", "libc_version", "arch")
            return " ".join(f"{k}={d.get(k, '')}" for k in keys)
        return repr(result)
    except Exception as exc:
        return f"an answer that cannot be shown ({type(exc).__name__})"


def _valid(check: Callable[[Any], bool], result: Any) -> bool:
    """``check(result)``, where a result that makes the check itself raise is simply invalid."""
    try:
        return bool(check(result))
    except Exception:
        return False


def disabled_from_env(environ: Mapping[str, str]) -> frozenset[str]:
    """Plugin names listed in ``ALPINETAGS_DISABLE_PLUGINS`` (comma- or space-separated)."""
    return frozenset(n for n in re.split(r"[,\s]+", environ.get(DISABLE_ENV, "")) if n)


@dataclass(frozen=True)
class PluginInfo:
    """One plugin as ``alpinetags plugins`` lists it."""

    name: str
    module: str
    distribution: str
    version: str
    status: str  # "loaded", "blocked" or "failed: ..."


class Registry:
    """The plugins and the faults met so far. The plugins found are loaded on first need: ``manager``,
    ``plugins`` or a hook call (``load`` does it at once); ``names`` needs no loading."""

    def __init__(
        self, manager: Optional[pluggy.PluginManager] = None, pending: Optional[Callable[[], None]] = None
    ) -> None:
        self._manager = manager
        self._plugins: list[PluginInfo] = []
        self.faults: list[str] = []
        self._pending = pending
        self._finding: Optional[Callable[[], None]] = None
        self._names: list[str] = []

    def find(self) -> None:
        """Look the plugins up (their entry points), if not done yet; nothing is imported."""
        finding, self._finding = self._finding, None
        if finding is not None:
            finding()

    def load(self) -> None:
        """Import and register the plugins found, if not done yet."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending()

    @property
    def loaded(self) -> bool:
        """Whether the plugins were imported (a command that never asked them does not depend on them)."""
        return self._pending is None

    def shipped_only(self) -> bool:
        """Only this distribution's own plugins loaded (blocked ones aside): what they read is known, so
        an answer of theirs may be kept in a cache signed on those reads."""
        return all(p.status == "blocked" or (p.status == "loaded" and p.distribution == "alpinetags")
                   for p in self.plugins)  # fmt: skip

    @property
    def manager(self) -> pluggy.PluginManager:
        self.load()
        assert self._manager is not None
        return self._manager

    @property
    def plugins(self) -> list[PluginInfo]:
        """Every plugin found or registered, with its status (``loaded``, ``blocked``, ``failed: ...``)."""
        self.load()
        return self._plugins

    def names(self) -> list[str]:
        """The names of every plugin found or registered, without loading any."""
        self.find()
        return list(self._names)

    def fault(self, message: str, key: Optional[str] = None) -> None:
        message = _short(message)
        self.faults.append(message)
        warn_once(message, key)

    def _impls(self, hook_name: str) -> list[Any]:
        # pluggy calls the last registered/tryfirst implementation first; keep that order.
        return list(reversed(getattr(self.manager.hook, hook_name).get_hookimpls()))

    def _call(self, impl: Any, hook_name: str, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        args = {name: kwargs[name] for name in impl.argnames}
        start = time.perf_counter()
        try:
            result = impl.function(**args)
        except ConfigError:
            raise  # a bad user setting read by a plugin: the user must hear it, not a warning
        except PLUGIN_FAULTS as exc:
            self.fault(f"plugin {impl.plugin_name!r} raised in {hook_name}: {type(exc).__name__}: {exc}")
            return False, None
        elapsed = time.perf_counter() - start
        if log.isEnabledFor(logging.INFO):
            log.info("plugin %r %s -> %s", impl.plugin_name, hook_name, _short(_describe(result)))
        if elapsed > SLOW_SECONDS:
            self.fault(
                f"plugin {impl.plugin_name!r} is slow: {hook_name} took {elapsed:.1f} s "
                f"(over {SLOW_SECONDS:g} s)",
                key=f"slow {impl.plugin_name} {hook_name}",
            )
        return True, result

    def call_first(self, hook_name: str, check: Callable[[Any], bool], **kwargs: Any) -> tuple[Any, str]:
        """The first acceptable non-None result of ``hook_name`` and the name of the plugin that gave it."""
        for impl in self._impls(hook_name):
            ok, result = self._call(impl, hook_name, kwargs)
            if not ok or result is None:
                continue
            if not _valid(check, result):
                self.fault(f"plugin {impl.plugin_name!r} returned an invalid result from {hook_name}")
                continue
            return result, impl.plugin_name
        return None, ""

    def call_all(self, hook_name: str, check: Callable[[Any], bool], **kwargs: Any) -> list[tuple[str, Any]]:
        """Every acceptable result of ``hook_name`` as (plugin name, result), in hook order."""
        out = []
        for impl in self._impls(hook_name):
            ok, result = self._call(impl, hook_name, kwargs)
            if not ok:
                continue
            if not _valid(check, result):
                self.fault(f"plugin {impl.plugin_name!r} returned an invalid result from {hook_name}")
                continue
            out.append((impl.plugin_name, result))
        return out


def _entry_points() -> Iterable[Any]:
    from alpinetags._engine.entrypoints import entry_points

    return entry_points(ENTRY_POINT_GROUP)


def load_plugins(disabled: Iterable[str] = (), extra: Iterable[tuple[str, object]] = ()) -> Registry:
    """The plugins of the entry-point group ``alpinetags`` except the ``disabled`` names, found (a read
    of ``entry_points.txt`` files) and imported on first need (``Registry.names``, ``Registry.load``).

    ``extra`` registers (name, plugin) pairs directly: for tests and for embedding, the same path a
    plugin found through its entry point takes; with ``extra`` everything is loaded at once, so a plugin
    that cannot be registered is a ``PluginError`` here.
    """
    blocked = set(disabled)
    extra = list(extra)
    registry = Registry()
    found: list[Any] = []

    def find() -> None:
        seen: set[str] = set()
        for ep in _entry_points():
            if ep.name in seen:
                continue  # the same distribution seen twice on sys.path
            seen.add(ep.name)
            found.append(ep)
        registry._names = [ep.name for ep in found] + [name for name, _ in extra]

    def load() -> None:
        registry.find()
        _load(registry, found, blocked, extra)

    registry._finding, registry._pending = find, load
    if extra:
        registry.load()
    return registry


def _load(registry: Registry, found: list[Any], blocked: set[str], extra: list[tuple[str, object]]) -> None:
    import pluggy

    from alpinetags.hookspecs import PROJECT, AlpinetagsSpec

    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(AlpinetagsSpec)
    registry._manager = manager
    plugins = registry._plugins
    for ep in found:
        dist = getattr(ep, "dist", None)
        dist_name = str(getattr(dist, "name", "") or "")
        dist_version = str(getattr(dist, "version", "") or "")
        if ep.name in blocked:
            manager.set_blocked(ep.name)
            plugins.append(PluginInfo(ep.name, ep.value, dist_name, dist_version, "blocked"))
            continue
        try:
            plugin = ep.load()
            manager.register(plugin, name=ep.name)
        except PLUGIN_FAULTS as exc:
            message = f"plugin {ep.name!r} failed to load: {type(exc).__name__}: {exc}"
            registry.fault(message)
            plugins.append(PluginInfo(ep.name, ep.value, dist_name, dist_version, _short(f"failed: {exc}")))
            continue
        plugins.append(PluginInfo(ep.name, ep.value, dist_name, dist_version, "loaded"))
    for name, plugin in extra:
        if name in blocked:
            plugins.append(PluginInfo(name, repr(plugin), "", "", "blocked"))
            continue
        try:
            manager.register(plugin, name=name)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} cannot be registered: {exc}") from exc
        plugins.append(PluginInfo(name, repr(plugin), "", "", "loaded"))
