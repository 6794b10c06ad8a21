"""The two data types everything else passes around: what to probe (``Target``) and what was found
(``Platform``).

Downstream code (tags, markers, the pip hook, the experiments) takes a ``Platform`` only, so all of it
works the same for the running system, a foreign root on disk, or a system typed in by hand.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from alpinetags.errors import ConfigError

#: Names that ``--target`` treats as a C library rather than a distribution.
LIBC_NAMES = ("musl", "glibc")

_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+~-]*\Z")
_ARCH_RE = re.compile(r"[a-z0-9_]+\Z")
#: A libc version stated in ``--target``: ``1.2.4``, ``2.36``, Alpine's ``1.2.4_git20230717``, ``1.2.5-r0``.
_LIBC_VERSION_RE = re.compile(r"\d{1,4}\.\d{1,4}(\.\d{1,4})?([_+~-][0-9A-Za-z._+~-]*)?\Z")


@dataclass(frozen=True)
class Target:
    """What system to probe.

    ``root`` is the directory that plays ``/`` (a chroot or an unpacked image). ``executable`` is the
    interpreter whose ELF header tells the libc; ``None`` means ``sys.executable`` for the root ``/``
    and a search of the usual places for another root. ``arch`` forces the wheel-tag arch.
    ``environ`` holds the ``ALPINETAGS_*`` overrides; it is a parameter so that tests and callers can
    pass their own. ``given`` is a platform stated outright (``--target``): no probing at all.
    """

    root: str = "/"
    executable: Optional[str] = None
    arch: Optional[str] = None
    environ: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    given: Optional[Platform] = None

    @property
    def is_running_system(self) -> bool:
        """True when the target is this very interpreter on this very system.

        Only then may a loader be executed, and only then are packaging's own platform tags valid.
        """
        if self.given is not None or os.path.realpath(self.root) != "/":
            return False
        if self.arch is not None:
            from alpinetags._elf.arch import host_arch

            if self.arch != host_arch():
                return False  # another arch stated: this interpreter's tags and loader do not apply
        if self.executable is None:
            return True
        return os.path.realpath(self.executable) == os.path.realpath(sys.executable)

    def path(self, inside: str) -> str:
        """Map an absolute path inside the target root to a path on this machine (no link resolved)."""
        if self.root in ("", "/"):
            return inside
        return os.path.join(self.root, inside.lstrip("/"))

    def resolve(self, inside: str, max_links: int = 40) -> str:
        """Map ``inside`` to a host path, following symlinks *within* the root.

        An absolute link in an image (``/lib/ld-musl-x86_64.so.1 -> /usr/lib/libc.so``) must land in the
        image, not on this machine, and ``..`` stops at the root. Every link is followed here, so the
        path returned has no link left that the system could follow out of the root; a link loop (more
        than ``max_links`` links) raises ``OSError(ELOOP)`` rather than return a path that still has one.
        """
        if self.root in ("", "/"):
            return inside
        parts = [p for p in reversed(inside.split("/")) if p not in ("", ".")]  # a stack: next part last
        done = [self.root]  # the host path of each prefix resolved so far: linear in the parts
        links = 0
        while parts:
            part = parts.pop()
            if part == "..":
                if len(done) > 1:
                    done.pop()
                continue
            host = os.path.join(done[-1], part)
            if os.path.islink(host):
                links += 1
                if links > max_links:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links in the root", inside)
                dest = os.readlink(host)
                if dest.startswith("/"):
                    done = [self.root]
                parts.extend(p for p in reversed(dest.split("/")) if p not in ("", "."))
                continue
            done.append(host)
        return done[-1] if len(done) > 1 else os.path.join(self.root)


@dataclass(frozen=True)
class Platform:
    """What was found about a system, and where each fact came from.

    ``libc`` is ``"musl"``, ``"glibc"`` or ``""`` (unknown); ``libc_version`` is ``""`` when unknown.
    ``sources`` maps a fact name (``distro``, ``libc``, ``libc_version``, ``arch``) to a human
    description of where it was read, for ``alpinetags detect``.
    """

    arch: str
    distro_id: str = ""
    distro_version: str = ""
    distro_like: tuple[str, ...] = ()
    libc: str = ""
    libc_version: str = ""
    detected_by: str = ""
    sources: tuple[tuple[str, str], ...] = ()

    def with_source(self, fact: str, source: str) -> tuple[tuple[str, str], ...]:
        """The ``sources`` tuple with ``fact`` set to ``source`` (for ``dataclasses.replace``)."""
        kept = tuple((k, v) for k, v in self.sources if k != fact)
        return (*kept, (fact, source))

    def source(self, fact: str) -> str:
        return dict(self.sources).get(fact, "")

    def as_dict(self) -> dict[str, object]:
        return {
            "arch": self.arch,
            "distro_id": self.distro_id,
            "distro_version": self.distro_version,
            "distro_like": list(self.distro_like),
            "libc": self.libc,
            "libc_version": self.libc_version,
            "detected_by": self.detected_by,
            "sources": dict(self.sources),
        }


def parse_target_spec(spec: str) -> Platform:
    """Parse ``--target``: comma-separated ``NAME:VERSION`` facts and at most one bare arch.

    ``alpine:3.19,musl:1.2.4,x86_64`` states Alpine 3.19 with musl 1.2.4 on x86_64; ``musl:1.2.3,aarch64``
    a musl system with no distro facts; a name from ``LIBC_NAMES`` is a libc, any other a distro.
    The arch defaults to this machine's.
    """
    distro_id = distro_version = libc = libc_version = ""
    arch = ""
    if not spec.strip():
        raise ConfigError("--target: empty; expected e.g. 'alpine:3.19,musl:1.2.4,x86_64'")
    for raw in spec.split(","):
        part = raw.strip()
        if ":" in part:
            name, _, version = part.partition(":")
            name = name.strip().lower()
            version = version.strip()
            if not _ID_RE.match(name) or not _VERSION_RE.match(version):
                raise ConfigError(f"--target: {part!r} is not NAME:VERSION (e.g. alpine:3.19)")
            if name in LIBC_NAMES:
                if not _LIBC_VERSION_RE.match(version):
                    raise ConfigError(
                        f"--target: {part!r}: {version!r} is not a {name} version (e.g. {name}:"
                        f"{'1.2.4' if name == 'musl' else '2.36'})"
                    )
                if libc:
                    raise ConfigError(f"--target: two libc facts in {spec!r}")
                libc, libc_version = name, version
            else:
                if distro_id:
                    raise ConfigError(f"--target: two distro facts in {spec!r}")
                distro_id, distro_version = name, version
        elif part:
            if arch:
                raise ConfigError(f"--target: two arches in {spec!r}")
            if not _ARCH_RE.match(part):
                raise ConfigError(f"--target: {part!r} is not a wheel-tag arch (e.g. x86_64)")
            arch = part
        else:
            raise ConfigError(f"--target: empty part in {spec!r}")
    if not arch:
        from alpinetags._elf.arch import host_arch

        arch = host_arch()
    sources = [("arch", "--target")]
    if distro_id:
        sources.append(("distro", "--target"))
    if libc:
        sources.append(("libc", "--target"))
    return Platform(
        arch=arch,
        distro_id=distro_id,
        distro_version=distro_version,
        libc=libc,
        libc_version=libc_version,
        detected_by="--target",
        sources=tuple(sources),
    )
