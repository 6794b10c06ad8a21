"""alpinetags plugin: the musl fallback for musl systems no distro plugin knows.

On Void, Chimera, OpenWrt or a bare musl chroot there is no distro clock, so this plugin falls back to
musl's: it reads the interpreter's PT_INTERP, which must name ``ld-musl-<arch>.so.1``, reads the musl
version from that loader, and gives ``musllinux_<major>_<minor>_<arch>`` tags (PEP 656). A statically
linked interpreter has no PT_INTERP and, as PEP 656 says, gets no musllinux tags.

It also gives the musllinux tags of any musl platform another plugin detected (Alpine), so a foreign
Alpine root gets them too; for the running system they equal packaging's own.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import TYPE_CHECKING, Any, Optional

from alpinetags import Platform, Target, hookimpl
from alpinetags._system.musl import musl_release, musllinux_platforms

__version__ = "0.1.0"

if TYPE_CHECKING:
    from alpinetags._system.interpreter import InterpreterFile

log = logging.getLogger("alpinetags")


def __getattr__(name: str) -> Any:
    """``musl_loader_version``, the core's, still importable from here; imported on first use, since a
    process that only reads wheels (``wheel show``) loads this plugin without detecting anything."""
    if name == "musl_loader_version":
        from alpinetags._engine.detect import musl_loader_version

        return musl_loader_version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl(trylast=True)
def alpinetags_detect(target: Target, base: Platform, interpreter: InterpreterFile) -> Optional[Platform]:
    """musllinux for an interpreter whose PT_INTERP names musl's loader (``interpreter``: read once by the
    core for everyone); an unreadable one raises its ``ElfError``, which the registry reports."""
    interp = interpreter.linked()
    if interp is None or interp.loader is None or interp.libc != "musl":
        return None  # nothing to read, static, or not musl
    from alpinetags._engine.detect import musl_loader_version

    version, how = musl_loader_version(target, interp.loader)
    version, raw = musl_release(version)
    how += raw
    sources = base.with_source("libc", interp.describe())
    return dataclasses.replace(
        base,
        libc="musl",
        libc_version=version,
        sources=(*(s for s in sources if s[0] != "libc_version"), ("libc_version", how)),
    )


@hookimpl(trylast=True)
def alpinetags_platform_tags(platform: Platform) -> list[str]:
    if platform.libc != "musl" or not platform.libc_version:
        return []
    return musllinux_platforms(platform.libc_version, platform.arch)


_TAG_RE = re.compile(r"musllinux_(\d+)_(\d+)_([a-z0-9_]+)\Z")


@hookimpl
def alpinetags_expand_platform(platform_tag: str) -> Optional[list[str]]:
    """``musllinux_1_2_x86_64`` -> 1_2, 1_1, 1_0 (PEP 656; pip does not expand it, pip issue 10760)."""
    m = _TAG_RE.match(platform_tag)
    if not m:
        return None
    return musllinux_platforms(f"{m.group(1)}.{m.group(2)}", m.group(3)) or None


@hookimpl
def alpinetags_marker_variables(platform: Platform) -> dict[str, str]:
    """``musl_version``: the musl version (``1.2.4``), ``""`` off musl."""
    return {"musl_version": platform.libc_version if platform.libc == "musl" else ""}
