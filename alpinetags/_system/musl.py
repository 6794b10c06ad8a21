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

import io
import logging
import os
import re
import time
from typing import TYPE_CHECKING, BinaryIO, Optional

from alpinetags._elf.arch import compatible_arches
from alpinetags._elf.elffile import DataRange, read_only_ranges
from alpinetags._safefile import open_regular, regular_size
from alpinetags.errors import ElfError, LoaderError

if TYPE_CHECKING:
    import subprocess

# subprocess, selectors and signal are imported by the functions that run a loader, the last resort:
# a version read from the file (the common case, and the native check) needs none of them (issue 21).

log = logging.getLogger("alpinetags")

#: The file name every musl dynamic loader has.
LOADER_NAME_RE = re.compile(r"ld-musl-([a-z0-9_]+)\.so\.1\Z")
#: Loaders are a few hundred KB; nothing larger is read.
MAX_LOADER_SIZE = 16 * 1024 * 1024
#: Seconds a loader may take to print its banner before it (and anything it started) is killed.
RUN_TIMEOUT = 2.0
#: At most this much of a loader's stderr is kept; the banner is a few hundred bytes.
MAX_STDERR = 64 * 1024

#: Wheel-tag arch -> the ``<arch>`` in ``ld-musl-<arch>.so.1`` (musl's own arch names).
LOADER_ARCH = {
    "x86_64": "x86_64",
    "i686": "i386",
    "aarch64": "aarch64",
    "armv8l": "armhf",
    "armv7l": "armhf",
    "armv6l": "armhf",
    "ppc64le": "powerpc64le",
    "ppc64": "powerpc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}

_BANNER = b"musl libc ("
# Version parts have at most three digits: a hostile "1.999999999" would otherwise ask for a billion tags.
# No fourth numeric part: the loader also holds "127.0.0.1" (its resolver's default), which is no version.
# The string need not follow a NUL: in Debian's i386 loader it follows float constants ("...\x80=1.2.3\0").
_VERSION_STR_RE = re.compile(
    rb"(?<![0-9A-Za-z._+~-])(\d{1,3}\.\d{1,3}\.\d{1,3}(?![.0-9])[0-9A-Za-z._+~-]{0,40})\x00"
)
# Every version string has a "." followed by digits and another "."; searching for that (a literal first)
# is ~30x faster than running the full pattern at every byte, which then runs only at those places.
_DOT_RE = re.compile(rb"\.(?=\d{1,3}\.)")
_RUN_VERSION_RE = re.compile(r"^Version (\d{1,3}\.\d{1,3}\.\d{1,3}(?![0-9])\S{0,40})", re.MULTILINE)
#: Half-widths of the windows around the banner searched in turn before the whole file. The version string
#: sits a few KB from the banner in every loader seen; the regex costs ~15 us per KB, so small goes first.
_WINDOWS = (4 * 1024, 16 * 1024, 64 * 1024)
#: The first piece of a read-only range read (its end): enough for the banner and the 16 KB window before
#: it in the Alpine loaders, whose banner sits 5-8 KB before the end of ``.rodata``.
_FIRST_READ = 32 * 1024


def loader_arch(path: str) -> Optional[str]:
    """The ``<arch>`` of ``ld-musl-<arch>.so.1`` if ``path`` names a musl loader, else ``None``."""
    m = LOADER_NAME_RE.match(os.path.basename(path))
    return m.group(1) if m else None


def _version_strings(data: bytes) -> set[str]:
    """The strings ``_VERSION_STR_RE`` finds in ``data``, found by trying it only after a first ``N.``."""
    found: set[str] = set()
    for hit in _DOT_RE.finditer(data):
        dot = hit.start()
        start = dot
        while start > 0 and dot - start < 3 and 48 <= data[start - 1] <= 57:
            start -= 1
        if start == dot:
            continue
        m = _VERSION_STR_RE.match(data, start)
        if m:
            found.add(m.group(1).decode("ascii"))
    return found


class _Reads:
    """Reads stretches of an open loader of ``size`` bytes: at most ``MAX_LOADER_SIZE`` bytes in all, however
    many ranges the file claims and however they overlap, and a file that shrinks while read is an error."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._size = size
        self._left = MAX_LOADER_SIZE

    def __call__(self, start: int, end: int) -> bytes:
        if not 0 <= start <= end <= self._size:
            raise LoaderError(f"read-only data {start}..{end} lies outside the file ({self._size} bytes)")
        if end - start > self._left:
            raise LoaderError(f"read-only data adds up to more than {MAX_LOADER_SIZE} bytes")
        self._left -= end - start
        self._f.seek(start)
        data = self._f.read(end - start)
        if len(data) != end - start:
            raise LoaderError("the file was truncated while it was read")
        return data


class _Span:
    """One read-only range, read from its end backwards, in pieces that double, only as far as needed.

    musl's banner sits near the end of ``.rodata`` (5-8 KB before it in every Alpine loader), so the first
    piece (``_FIRST_READ``) usually holds the banner and the windows around it; the ~200 KB before it are
    read only when the banner or the version string is not found nearer.
    """

    def __init__(self, r: DataRange, read: _Reads) -> None:
        self.r = r
        self._read = read
        self._lo = r.end  # self._buf holds the bytes of [self._lo, r.end)
        self._buf = b""

    def _extend(self, start: int) -> None:
        start = max(start, self.r.start)
        if start < self._lo:
            self._buf = self._read(start, self._lo) + self._buf
            self._lo = start

    def get(self, start: int, end: int) -> bytes:
        """The bytes of ``[start, end)``, a part of this range, reading what is still missing."""
        self._extend(start)
        return self._buf[start - self._lo : end - self._lo]

    def rfind_banner(self) -> int:
        """The file offset of the last banner in this range, or -1: read backwards until it is found."""
        step = _FIRST_READ
        while self._lo > self.r.start:
            old = self._lo
            self._extend(old - step)
            # only the new piece, and a banner across its end, are still to be searched
            at = self._buf.rfind(_BANNER, 0, old - self._lo + len(_BANNER) - 1)
            if at >= 0:
                return self._lo + at
            step *= 2
        return -1


def _version_in(f: BinaryIO, size: int) -> str:
    """Find musl's version string in the open loader ``f`` of ``size`` bytes, reading only what it needs.

    musl keeps its version (``__libc_version``) and the banner ("musl libc (") in read-only data, so only
    that is searched: the section headers say where it is (``elffile.read_only_ranges``, which reads only
    the headers). Anything else, ``.comment`` above all (``GCC: (Alpine 9.3.0) 9.3.0`` in Alpine 3.6-3.12),
    holds the toolchain's versions, not musl's. Each read-only range is read from its end backwards until
    the banner is found (``_Span``). The search starts in a small window around the (last) banner, inside
    the range that holds it (fast, and avoids version-like strings elsewhere), and widens to that range,
    then to all read-only data, reading more only while nothing is found. Two different versions where one
    is looked for is an error, not a guess.
    """
    try:
        ranges = read_only_ranges(f, size)
    except ElfError as exc:
        raise LoaderError(f"no musl banner: not an ELF file alpinetags can read ({exc})") from None
    read = _Reads(f, size)
    spans = [_Span(r, read) for r in ranges]
    home = None
    at = -1
    for span in spans:
        at = span.rfind_banner()
        if at >= 0:
            home = span
            break
    if home is None:
        raise LoaderError("no musl banner in its read-only data: not a musl loader")
    r = home.r
    windows = [(max(r.start, at - half), min(r.end, at + half)) for half in _WINDOWS]
    tried: list[tuple[int, int]] = []
    for start, end in (*windows, (r.start, r.end)):
        if tried and tried[-1] == (start, end):
            continue
        tried.append((start, end))
        found = _version_strings(home.get(start, end))
        if found:
            return _one(found, f"{r.name} near the banner")
    found = set()
    for span in spans:
        found |= _version_strings(span.get(span.r.start, span.r.end))
    if found:
        return _one(found, "read-only data")
    raise LoaderError(f"musl banner found in {r.name} but no version string in read-only data")


def version_from_loader_bytes(data: bytes) -> str:
    """musl's version string in the bytes of a loader (``libc.so``) already in memory (``_version_in``)."""
    return _version_in(io.BytesIO(data), len(data))


def _one(found: set[str], where: str) -> str:
    if len(found) > 1:
        raise LoaderError(f"several version strings in {where}: {sorted(found)}; cannot tell musl's")
    return found.pop()


def read_musl_version(path: str) -> str:
    """The musl version of the loader at ``path``, read from the file without running it.

    The file is opened without blocking and checked again on the open descriptor, so a FIFO or device
    swapped in after the first check cannot block the read; a file over ``MAX_LOADER_SIZE`` bytes is
    refused unread. Only the headers and the read-only data near musl's banner are read (``_version_in``):
    ~35 KB of Alpine 3.19's 650 KB loader.
    """
    fd, size = open_regular(path, MAX_LOADER_SIZE, LoaderError, "a musl loader")
    try:
        with os.fdopen(fd, "rb") as f:
            version = _version_in(f, size)
    except OSError as exc:
        raise LoaderError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    except LoaderError as exc:
        log.info("read %s: %s", path, exc)
        raise LoaderError(f"{path}: {exc}") from None
    log.info("read %s: musl %s", path, version)
    return version


def check_runnable_loader(path: str) -> None:
    """Raise ``LoaderError`` unless ``path`` is something ``run_musl_version`` may execute."""
    if not os.path.isabs(path):
        raise LoaderError(f"{path}: refusing to run a relative path")
    if loader_arch(path) is None:
        raise LoaderError(f"{path}: refusing to run a file not named ld-musl-<arch>.so.1")
    regular_size(path, MAX_LOADER_SIZE, LoaderError, "a musl loader")


def _read_stderr(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bool]:
    """Up to ``MAX_STDERR`` bytes of ``proc``'s stderr until it closes; (data, closed in time).

    Reading is done here rather than by ``communicate`` because ``communicate`` keeps reading until every
    holder of the pipe exits: a loader that leaves a child behind would make it wait for that child.
    """
    import selectors

    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while size < MAX_STDERR:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return b"".join(chunks), False
            chunk = os.read(fd, 4096)
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)
            size += len(chunk)
    return b"".join(chunks)[:MAX_STDERR], True


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    """Kill the loader and everything it started (its own session), then reap it."""
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass  # the group is already empty
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not delivered
        pass
    if proc.stderr is not None:
        proc.stderr.close()


def run_musl_version(path: str, timeout: float = RUN_TIMEOUT) -> str:
    """Run the musl loader at ``path`` (guarded, see the module docstring) and parse its version.

    The loader runs in a session of its own; when it exits, or at the timeout, that whole session is
    killed, so nothing it started outlives the call and the call never waits longer than ``timeout``.
    """
    import subprocess

    check_runnable_loader(path)
    try:
        proc = subprocess.Popen(
            [path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={},
            shell=False,
            close_fds=True,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        raise LoaderError(f"{path}: cannot run: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw, closed = _read_stderr(proc, timeout)
    finally:
        _kill_session(proc)
    if not closed:
        raise LoaderError(f"{path}: gave no version within {timeout:g} s")
    m = _RUN_VERSION_RE.search(raw[:4096].decode("ascii", "replace"))
    if not m:
        raise LoaderError(f"{path}: printed no 'Version X.Y.Z'")
    log.info("ran %s: musl %s", path, m.group(1))
    return m.group(1)


_RELEASE_RE = re.compile(r"\d{1,3}\.\d{1,3}(\.\d{1,3})?")


def musl_release(version: str) -> tuple[str, str]:
    """(upstream release, how it was written): ``1.2.4_git20230717`` -> ``("1.2.4", " (1.2.4_git20230717)")``.

    A loader prints what its packager built (Alpine 3.19: a git snapshot after 1.2.4); tags and markers
    want the release it is (``1.2.4``, a valid PEP 440 version). The second part, for ``sources``, is
    empty when the two are the same.
    """
    m = _RELEASE_RE.match(version)
    if not m or m.group(0) == version:
        return version, ""
    return m.group(0), f" (printed as {version})"


def musllinux_platforms(version: str, arch: str) -> list[str]:
    """``musllinux_<major>_<minor>_<arch>`` from the detected minor down to 0 (PEP 656).

    Only the major and minor count; any patch or suffix is ignored. A major other than 1 (a future
    musl 2.x) gets its own minors only, since PEP 656 says nothing across majors. A part of more than
    three digits is not a musl version (and would ask for a billion tags): ``[]``. ``armv8l`` gets its
    own tags, then armv7l's, as packaging gives them (``arch.compatible_arches``).
    """
    m = re.match(r"(\d{1,3})\.(\d{1,3})(?![0-9])", version)
    if not m:
        return []
    major, minor = int(m.group(1)), int(m.group(2))
    return [f"musllinux_{major}_{n}_{a}" for a in compatible_arches(arch) for n in range(minor, -1, -1)]
