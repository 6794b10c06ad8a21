"""Detection: a ``Target`` in, a ``Platform`` out.

The core reads what any Linux system states generically (os-release, the interpreter's ELF arch, the
glibc version of the running interpreter) into a *base* platform; then the plugins' ``alpinetags_detect``
hooks are asked in order, and the first answer wins. Overrides from the environment come last.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping
from typing import Optional

from alpinetags._elf.arch import elf_arch, host_arch
from alpinetags._engine.plugins import Registry, disabled_from_env, load_plugins
from alpinetags._engine.targets import ROOT_ENV as ROOT_ENV  # defined there; still importable from here
from alpinetags._engine.targets import _explicit_arch
from alpinetags._engine.targets import default_target as default_target
from alpinetags._engine.targets import explicit_executable_arch as explicit_executable_arch
from alpinetags._engine.targets import target_from_options as target_from_options
from alpinetags._system.interpreter import (
    ROOT_EXECUTABLES as ROOT_EXECUTABLES,  # defined there; still importable from here
)
from alpinetags._system.interpreter import Interpreter as Interpreter
from alpinetags._system.interpreter import InterpreterFile, find_interpreter
from alpinetags._system.interpreter import libc_of_loader as libc_of_loader
from alpinetags._system.interpreter import read_interpreter as read_interpreter
from alpinetags._system.interpreter import target_executable as target_executable
from alpinetags._system.musl import read_musl_version, run_musl_version
from alpinetags._system.os_release import read_os_release
from alpinetags.errors import AlpinetagsError, ConfigError, LoaderError
from alpinetags.model import Platform, Target

MUSL_VERSION_ENV = "ALPINETAGS_MUSL_VERSION"
_LIBC_VERSION_RE = re.compile(r"\d{1,3}\.\d{1,3}(\.\d{1,3})?\Z")  # no part of musl has more digits

log = logging.getLogger("alpinetags")


def musl_loader_version(target: Target, loader: str, *, may_run: bool = True) -> tuple[str, str]:
    """The version the musl loader ``loader`` (a path inside the target) states, and how it was found.

    The file is read first (no process, works for any root and arch). Only for the running system, and
    only if reading fails, is the loader run: nothing from a foreign root is ever executed. ``may_run``
    False never runs it (a loader path that was assumed, not read from an interpreter). Raises
    ``LoaderError``.
    """
    try:
        path = target.resolve(loader)
    except OSError as exc:
        raise LoaderError(f"{loader} in {target.root}: {exc.strerror}") from None
    try:
        return read_musl_version(path), f"read from {path}"
    except LoaderError:
        if not (may_run and target.is_running_system):
            raise
    return run_musl_version(loader), f"ran {loader}"


def _glibc_version() -> str:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, OSError, ValueError):
        return ""
    name, _, version = value.partition(" ")
    return version if name == "glibc" else ""


def base_platform(
    target: Target, registry: Optional[Registry] = None, interpreter: Optional[InterpreterFile] = None
) -> Platform:
    """What the core reads without any plugin. A broken file is reported and left out, not raised;
    an explicit ``--executable`` that cannot stand for an interpreter is a ``ConfigError``.

    ``interpreter`` is the target's interpreter as ``detect()`` read it for everyone (read here if not given).
    """
    if interpreter is None:
        interpreter = find_interpreter(target)
    running = target.is_running_system
    sources: list[tuple[str, str]] = []
    arch = target.arch or ""
    if arch:
        sources.append(("arch", "--arch"))
    if target.executable and not running:
        if interpreter.path == target.executable:
            exe_arch = _explicit_arch(target.executable, interpreter.header, interpreter.error)
        else:  # an interpreter read for another target
            exe_arch = explicit_executable_arch(target.executable)
        if not arch:
            arch = exe_arch
            sources.append(("arch", f"ELF header of {target.executable}"))
    if arch:
        pass
    elif running:
        arch = host_arch()
        sources.append(("arch", "this interpreter (sysconfig)"))
    else:
        exe = interpreter.path
        if exe:
            if interpreter.header is not None:
                arch = elf_arch(interpreter.header)
                if arch:
                    sources.append(("arch", f"ELF header of {exe}"))
            else:
                _report(registry, f"cannot read the arch: {interpreter.error}")
        if not arch:
            arch = host_arch()
            sources.append(("arch", "this interpreter (sysconfig), nothing else said"))
    log.info("arch %s (%s)", arch, dict(sources).get("arch", ""))
    distro_id = distro_version = ""
    distro_like: tuple[str, ...] = ()
    try:
        info, path = read_os_release(target.root)
    except AlpinetagsError as exc:
        _report(registry, f"os-release ignored: {exc}")
        info, path = {}, ""
    if info:
        distro_id = info.get("id", "")
        distro_version = info.get("version_id", "")
        distro_like = tuple(info.get("id_like", "").split())
        sources.append(("distro", path))
    libc = libc_version = ""
    if running:
        libc_version = _glibc_version()
        if libc_version:
            libc = "glibc"
            sources.append(("libc", "confstr(CS_GNU_LIBC_VERSION)"))
            log.info("libc glibc %s (confstr)", libc_version)
    else:
        try:
            interp = interpreter.linked()
        except AlpinetagsError as exc:
            _report(registry, f"cannot read the interpreter: {exc}")
            interp = None
        if interp is not None and interp.libc:
            libc = interp.libc
            sources.append(("libc", interp.describe()))
            if libc == "glibc":  # its version: what the root's libc.so.6 defines (GLIBC_2.x), read not run
                from alpinetags._system.interpreter import glibc_version_in_root

                libc_version, where = glibc_version_in_root(target.root, interp.loader, arch)
                if libc_version:
                    sources.append(("libc_version", where))
    return Platform(
        arch=arch,
        distro_id=distro_id,
        distro_version=distro_version,
        distro_like=distro_like,
        libc=libc,
        libc_version=libc_version,
        detected_by="",
        sources=tuple(sources),
    )


def _report(registry: Optional[Registry], message: str) -> None:
    if registry is not None:
        registry.fault(message)
    else:
        from alpinetags._engine.plugins import warn_once

        warn_once(message)


def apply_overrides(platform: Platform, environ: Mapping[str, str]) -> Platform:
    """Apply ``ALPINETAGS_MUSL_VERSION``: a version makes the libc musl at that version; empty, unknown."""
    if MUSL_VERSION_ENV not in environ:
        return platform
    value = environ[MUSL_VERSION_ENV].strip()
    if value and not _LIBC_VERSION_RE.match(value):
        raise ConfigError(f"{MUSL_VERSION_ENV}={value!r} is not a version like 1.2.4 (or empty)")
    return dataclasses.replace(
        platform,
        libc="musl" if value else platform.libc,
        libc_version=value,
        sources=platform.with_source("libc_version", MUSL_VERSION_ENV),
    )


_ARCH_RE = re.compile(r"[a-z0-9_]{1,64}\Z")


def _is_platform(value: object) -> bool:
    """A plugin's answer is used only if it is a ``Platform`` whose fields have the types they claim.

    A frozen dataclass does not check types, and the fields end up in tag text and file paths.
    """
    if not isinstance(value, Platform) or not isinstance(value.arch, str) or not _ARCH_RE.match(value.arch):
        return False
    texts = (value.distro_id, value.distro_version, value.libc, value.libc_version, value.detected_by)
    return (
        all(isinstance(t, str) for t in texts)
        and isinstance(value.distro_like, tuple)
        and all(isinstance(t, str) for t in value.distro_like)
        and isinstance(value.sources, tuple)
        and all(
            isinstance(s, tuple) and len(s) == 2 and all(isinstance(x, str) for x in s) for s in value.sources
        )
    )


def detect(target: Optional[Target] = None, registry: Optional[Registry] = None) -> Platform:
    """Detect the platform of ``target`` (default: this process's, see ``default_target``).

    Raises ``ConfigError`` for an invalid override; every other fault is reported and skipped.
    """
    if target is None:
        target = default_target()
    if registry is None:
        registry = load_plugins(disabled_from_env(target.environ))
    registry.load()  # plugins are imported on first need; here, before anything is read or reported
    if target.given is not None:
        return target.given  # stated outright: neither probed nor overridden
    # Looked up and read once here, for the core and every plugin: each lookup on a root costs path
    # resolutions inside it, and the core and two plugins used to make their own.
    interpreter = find_interpreter(target)
    base = base_platform(target, registry, interpreter)
    found, name = registry.call_first(
        "alpinetags_detect", _is_platform, target=target, base=base, interpreter=interpreter
    )
    platform = dataclasses.replace(found, detected_by=name) if found is not None else base
    return apply_overrides(platform, target.environ)


def probe(
    target: Optional[Target] = None,
    registry: Optional[Registry] = None,
    platform: Optional[Platform] = None,
) -> tuple[Target, Registry, Platform]:
    """Fill in what a caller did not give: this process's target, its plugins, the detected platform."""
    if target is None:
        target = default_target()
    if registry is None:
        registry = load_plugins(disabled_from_env(target.environ))
    if platform is None:
        platform = detect(target, registry)
    return target, registry, platform
