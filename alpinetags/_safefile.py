"""Reading files that others control (a root's os-release, an interpreter, a loader, plugin metadata).

One rule for all of them: only a regular file is opened, without blocking, and checked again on the open
descriptor, so a FIFO or device swapped in after the first check can neither block nor be read; no more
than a fixed number of bytes is read; and every way it fails is the caller's typed error, naming the path.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from typing import BinaryIO, Optional, TypeVar

from alpinetags.errors import AlpinetagsError

T = TypeVar("T")
log = logging.getLogger("alpinetags")


def _fail(error: type[AlpinetagsError], path: str, exc: BaseException) -> AlpinetagsError:
    return error(f"{path}: {getattr(exc, 'strerror', None) or exc}")


def _check(
    path: str, st: os.stat_result, max_size: Optional[int], what: str, error: type[AlpinetagsError]
) -> int:
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: not a regular file")
    if max_size is not None and st.st_size > max_size:
        raise error(f"{path}: {st.st_size} bytes is too large for {what}")
    return st.st_size


def regular_size(
    path: str,
    max_size: Optional[int],
    error: type[AlpinetagsError],
    what: str = "this file",
    missing_ok: bool = False,
) -> Optional[int]:
    """The size of ``path`` if it is a regular file of at most ``max_size`` bytes, else ``error``.

    With ``missing_ok`` a file that does not exist (or a dangling link) gives ``None``.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        if missing_ok:
            return None
        raise _fail(error, path, exc) from None
    except (OSError, ValueError) as exc:  # a link loop, no permission, a name too long, a NUL in it
        raise _fail(error, path, exc) from None
    return _check(path, st, max_size, what, error)


def open_regular(
    path: str, max_size: Optional[int], error: type[AlpinetagsError], what: str = "this file"
) -> tuple[int, int]:
    """A read-only, non-blocking, close-on-exec descriptor of ``path`` and the file's size, after checking
    the path and then the descriptor itself. The caller closes the descriptor."""
    regular_size(path, max_size, error, what)
    log.info("reading %s", path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as exc:
        raise _fail(error, path, exc) from None
    try:
        return fd, _check(path, os.fstat(fd), max_size, what, error)
    except BaseException:
        os.close(fd)
        raise


def read_regular(
    path: str,
    max_size: int,
    error: type[AlpinetagsError],
    what: str = "this file",
    limit: Optional[int] = None,
) -> bytes:
    """The bytes of ``path`` (at most ``limit``, default ``max_size``), checked as ``open_regular`` checks."""
    fd, size = open_regular(path, max_size, error, what)
    try:
        with os.fdopen(fd, "rb") as f:
            return f.read(min(size, max_size if limit is None else limit))
    except OSError as exc:
        raise _fail(error, path, exc) from None


def parse_regular(path: str, parse: Callable[[BinaryIO, int], T], error: type[AlpinetagsError]) -> T:
    """``parse(file, size)`` on ``path`` opened as ``open_regular`` opens it (no size cap: the parser bounds
    its own reads); an ``error`` the parser raises gets the path in front of its message."""
    fd, size = open_regular(path, None, error)
    try:
        with os.fdopen(fd, "rb") as f:
            return parse(f, size)
    except OSError as exc:
        raise _fail(error, path, exc) from None
    except error as exc:
        if str(exc).startswith(path):
            raise
        raise error(f"{path}: {exc}") from None
