"""More real musl loaders: Debian's of the arches ``tests/realparts.py`` lacks, and newer musl releases.

``realparts`` has Debian 12's musl 1.2.3 for six arches; this adds armel, mips64el and mipsel (bookworm,
1.2.3), riscv64 (trixie 1.2.5, sid 1.2.6) and amd64 1.2.5 and 1.2.6 (trixie, sid), so the static version
read is checked on ten Debian arches and four musl releases besides Alpine's own loaders. Each ``.deb`` is
pinned by version and sha256 and fetched straight from the Debian pool (no apt index needed, nothing
added to the machine's dpkg); ``fetch`` unpacks it with ``dpkg -x`` into ``CACHE/loaders/<name>``.

``real_loaders()`` lists every real loader the tests have: these, realparts' six Debian ones, and the
loader of each real Alpine minirootfs, each with what runs it (natively or ``qemu-<arch>-static``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "loaders"
POOL = "http://deb.debian.org/debian/pool/main/m/musl/"
#: Where a pinned file is still found once its suite has moved on (sid does): the archive as of the pin date.
SNAPSHOT = "https://snapshot.debian.org/archive/debian/20261201T000000Z/pool/main/m/musl/"


@dataclass(frozen=True)
class DebianMusl:
    """One pinned ``musl`` package of Debian: file name in the pool, sha256, loader arch, qemu to run it."""

    deb: str
    sha256: str
    musl_arch: str  # the <arch> of ld-musl-<arch>.so.1
    qemu: str  # qemu-user binary; "" runs natively on x86_64

    @property
    def name(self) -> str:
        """``1.2.3-1_armel``: version and arch, for test ids and the cache directory."""
        return self.deb[len("musl_") : -len(".deb")]

    @property
    def version(self) -> str:
        """The upstream musl version: ``musl_1.2.5-3.1~deb13u1_amd64.deb`` -> ``1.2.5``."""
        return self.name.split("-", 1)[0]


#: Pinned by hand from ``apt-cache madison musl`` (bookworm, trixie, sid) on 2026-12-01.
DEBIAN_MUSL: tuple[DebianMusl, ...] = (
    DebianMusl("musl_1.2.3-1_armel.deb",
               "0c81cdbb80388d892739a10271c10970fbe78d150d95319270221bf1e3c9b3f0", "arm", "qemu-arm-static"),
    DebianMusl("musl_1.2.3-1_mips64el.deb",
               "1a64136a8efe2351eb94b43b1204380dee83c0ff6d3a7b1d4b8e6fe2ea939f14", "mips64el",
               "qemu-mips64el-static"),
    DebianMusl("musl_1.2.3-1_mipsel.deb",
               "3cd614018557ea9a6b80a8ce36583e203e1505c29981ac534ea7c2bf30477433", "mipsel",
               "qemu-mipsel-static"),
    DebianMusl("musl_1.2.5-3.1~deb13u1_riscv64.deb",
               "cf37655ccee8fb3726f33c27929e61a792d9051c46af7d1883ed1f4d3363e784", "riscv64",
               "qemu-riscv64-static"),
    DebianMusl("musl_1.2.6-2_riscv64.deb",
               "cc23e6343e59fdd1e5b4a0ecee6b3385a985895aa33b8590b6a547b21d5287f9", "riscv64",
               "qemu-riscv64-static"),
    DebianMusl("musl_1.2.5-3.1~deb13u1_amd64.deb",
               "fd4231e1c189c0ebe01182747f83817593fefa7f6b690c484410646288b60058", "x86_64", ""),
    DebianMusl("musl_1.2.6-2_amd64.deb",
               "bb90a58274543f438b5a8e1a577b16d5bc0725ca55413131ae1f3882070760d6", "x86_64", ""),
)  # fmt: skip

#: Alpine arch -> (loader arch, qemu to run it; "" natively). x86 runs natively on an x86_64 kernel.
_ALPINE_RUN = {"x86_64": ("x86_64", ""), "x86": ("i386", ""), "aarch64": ("aarch64", "qemu-aarch64-static")}


@dataclass(frozen=True)
class RealLoader:
    """A real musl loader on disk and what it is known to be."""

    name: str  # test id: alpine-3.17-x86_64, debian-1.2.3-1_armel
    path: Path  # the host path, named ld-musl-<arch>.so.1
    version: str  # the upstream musl version its package records
    qemu: str  # "" to run natively

    def run_argv(self) -> list[str]:
        """The command that runs the loader with no arguments (so it prints its banner and version)."""
        if not self.qemu:
            return [str(self.path)]
        qemu = shutil.which(self.qemu) or f"/usr/bin/{self.qemu}"
        if not os.path.exists(qemu):
            realparts._missing(self.qemu, "apt-get install qemu-user-static")
        return [qemu, str(self.path)]


def debian_sysroot(pkg: DebianMusl) -> Path:
    """The ``dpkg -x`` root of one pinned package."""
    root = CACHE / pkg.name
    if not (root / ".done").exists():
        realparts._missing(f"{pkg.deb} unpacked ({root})", f"download {POOL}{pkg.deb} and dpkg -x it")
    return root


def debian_loader(pkg: DebianMusl) -> Path:
    """``ld-musl-<arch>.so.1`` of a pinned package (bookworm keeps it in /lib, trixie and sid in /usr/lib)."""
    root = debian_sysroot(pkg)
    name = f"ld-musl-{pkg.musl_arch}.so.1"
    for sub in ("lib", "usr/lib"):
        if os.path.lexists(root / sub / name):
            return root / sub / name
    realparts._missing(f"{name} in {root}", f"dpkg -x {pkg.deb} again")


def loader_names() -> list[str]:
    """The ids of ``real_loaders()``, known without looking at the cache (for ``parametrize``)."""
    names = [f"alpine-{m.name}" for m in realparts.minirootfs_manifest()]
    names += [f"debian-1.2.3-1_{a}" for a in realparts.LOADER_ARCHES]
    return names + [f"debian-{pkg.name}" for pkg in DEBIAN_MUSL]


def real_loader(name: str) -> RealLoader:
    """One loader of ``loader_names()``; fails the test with how to fetch it when it is not there."""
    kind, _, rest = name.partition("-")
    if kind == "alpine":
        for m in realparts.minirootfs_manifest():
            if m.name == rest:
                musl_arch, qemu = _ALPINE_RUN[m.arch]
                path = realparts.alpine_minirootfs(m.minor, m.arch) / "lib" / f"ld-musl-{musl_arch}.so.1"
                return RealLoader(name, path, m.musl_version, qemu)
    for deb_arch in realparts.LOADER_ARCHES:
        if rest == f"1.2.3-1_{deb_arch}":
            qemu = "" if deb_arch in ("amd64", "i386") else realparts.QEMU_STATIC[deb_arch]
            return RealLoader(name, realparts.musl_loader(deb_arch), "1.2.3", qemu)
    for pkg in DEBIAN_MUSL:
        if rest == pkg.name:
            return RealLoader(name, debian_loader(pkg), pkg.version, pkg.qemu)
    raise ValueError(f"no real loader {name!r}; one of {loader_names()}")


def real_loaders() -> list[RealLoader]:
    """Every real musl loader the tests have: Alpine's (one per minirootfs) and Debian's (ten arches)."""
    return [real_loader(n) for n in loader_names()]


def _download(pkg: DebianMusl, dest: Path) -> None:
    """Fetch one pinned ``.deb`` from the pool, or from the snapshot archive once the pool has dropped it;
    keep it only if its sha256 is the pinned one."""
    tmp = dest.with_suffix(".part")
    errors = []
    for base in (POOL, SNAPSHOT):
        url = base + pkg.deb.replace("~", "%7e")
        try:
            with urllib.request.urlopen(url, timeout=120) as resp, open(tmp, "wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            errors.append(f"{url}: {exc}")
            continue
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        if digest == pkg.sha256:
            tmp.replace(dest)
            return
        errors.append(f"{url}: sha256 {digest}, pinned {pkg.sha256}")
    tmp.unlink(missing_ok=True)
    raise RuntimeError("cannot fetch a pinned musl package:\n" + "\n".join(errors))


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Download and unpack every pinned package (once); ``line(part, path)`` reports each."""
    debs = realparts.CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in DEBIAN_MUSL:
        root = CACHE / pkg.name
        if not (root / ".done").exists():
            deb = debs / pkg.deb
            if not deb.exists():
                _download(pkg, deb)
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, capture_output=True)
            (root / ".done").write_text(pkg.deb + "\n")
        line(f"musl {pkg.name}", debian_loader(pkg))
