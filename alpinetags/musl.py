"""Facts about musl loaders: what a musl loader path looks like, and its version.

Two ways to the version, because each works where the other cannot:

* ``read_musl_version`` reads the loader file without running it. musl keeps its banner
  ("musl libc (ARCH)" ... "Version %s") and its version string in read-only data, so the version can be
  read from any root and for any arch, even where the loader could not run.
* ``run_musl_version`` runs the loader with no arguments, as ``packaging`` does, and parses
  ``Version X.Y.Z`` from stderr. It runs only a regular file at an absolute path named
  ``ld-musl-<arch>.so.1``, with no shell, an empty environment, stdin closed and a timeout, and only for
  the running system (``Target.is_running_system``): nothing under another root is ever executed.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from typing import Optional

from .errors import LoaderError

#: The file name every musl dynamic loader has.
LOADER_NAME_RE = re.compile(r"ld-musl-([a-z0-9_]+)\.so\.1\Z")
#: Loaders are a few hundred KB; nothing larger is read.
MAX_LOADER_SIZE = 16 * 1024 * 1024
#: Seconds a loader may take to print its banner before it is killed.
RUN_TIMEOUT = 2.0

#: Wheel-tag arch -> the ``<arch>`` in ``ld-musl-<arch>.so.1`` (musl's own arch names).
LOADER_ARCH = {
    "x86_64": "x86_64",
    "i686": "i386",
    "aarch64": "aarch64",
    "armv7l": "armhf",
    "armv6l": "armhf",
    "ppc64le": "powerpc64le",
    "ppc64": "powerpc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}

_BANNER = b"musl libc ("
_VERSION_STR_RE = re.compile(rb"\x00(\d+\.\d+\.\d+[0-9A-Za-z._+~-]{0,40})\x00")
_RUN_VERSION_RE = re.compile(r"^Version (\d+\.\d+\.\d+\S*)", re.MULTILINE)
_WINDOW = 64 * 1024


def loader_arch(path: str) -> Optional[str]:
    """The ``<arch>`` of ``ld-musl-<arch>.so.1`` if ``path`` names a musl loader, else ``None``."""
    m = LOADER_NAME_RE.match(os.path.basename(path))
    return m.group(1) if m else None


def _regular_file_size(path: str) -> int:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LoaderError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LoaderError(f"{path}: not a regular file")
    if st.st_size > MAX_LOADER_SIZE:
        raise LoaderError(f"{path}: {st.st_size} bytes is too large for a musl loader")
    return st.st_size


def version_from_loader_bytes(data: bytes) -> str:
    """Find musl's version string in the bytes of a loader (``libc.so``).

    The version sits in .rodata near the banner; the search starts in a window around the banner
    (fast, and avoids version-like strings elsewhere) and widens to the whole file only if needed.
    """
    at = data.find(_BANNER)
    if at < 0:
        raise LoaderError("no musl banner: not a musl loader")
    windows = (data[max(0, at - _WINDOW) : at + _WINDOW], data)
    for window in windows:
        found = {m.group(1).decode("ascii") for m in _VERSION_STR_RE.finditer(window)}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            raise LoaderError(f"several version strings in the loader: {sorted(found)}")
    raise LoaderError("musl banner found but no version string")


def read_musl_version(path: str) -> str:
    """The musl version of the loader at ``path``, read from the file without running it."""
    size = _regular_file_size(path)
    try:
        with open(path, "rb") as f:
            data = f.read(size)
    except OSError as exc:
        raise LoaderError(f"{path}: {exc.strerror or exc}") from None
    try:
        return version_from_loader_bytes(data)
    except LoaderError as exc:
        raise LoaderError(f"{path}: {exc}") from None


def check_runnable_loader(path: str) -> None:
    """Raise ``LoaderError`` unless ``path`` is something ``run_musl_version`` may execute."""
    if not os.path.isabs(path):
        raise LoaderError(f"{path}: refusing to run a relative path")
    if loader_arch(path) is None:
        raise LoaderError(f"{path}: refusing to run a file not named ld-musl-<arch>.so.1")
    _regular_file_size(path)


def run_musl_version(path: str, timeout: float = RUN_TIMEOUT) -> str:
    """Run the musl loader at ``path`` (guarded, see the module docstring) and parse its version."""
    check_runnable_loader(path)
    try:
        proc = subprocess.run(
            [path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={},
            timeout=timeout,
            shell=False,
            close_fds=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LoaderError(f"{path}: gave no version within {timeout:g} s") from None
    except OSError as exc:
        raise LoaderError(f"{path}: cannot run: {exc.strerror or exc}") from None
    text = proc.stderr[:4096].decode("ascii", "replace")
    m = _RUN_VERSION_RE.search(text)
    if not m:
        raise LoaderError(f"{path}: printed no 'Version X.Y.Z'")
    return m.group(1)


def musllinux_platforms(version: str, arch: str) -> list[str]:
    """``musllinux_<major>_<minor>_<arch>`` from the detected minor down to 0 (PEP 656).

    Only the major and minor count; any patch or suffix is ignored. A major other than 1 (a future
    musl 2.x) gets its own minors only, since PEP 656 says nothing across majors.
    """
    m = re.match(r"(\d+)\.(\d+)", version)
    if not m:
        return []
    major, minor = int(m.group(1)), int(m.group(2))
    return [f"musllinux_{major}_{n}_{arch}" for n in range(minor, -1, -1)]
