"""Which paths a piece of work looked at, and a signature of each, so its answer can be kept until one of
them changes.

``check`` over a folder reads hundreds of files through a dozen modules (the scan of the folder, the
root's loader configuration, each library the simulated loader finds, links followed one by one, the
listings of the directories it searches). Naming those reads at each call site would miss one sooner or
later, and a missed input is a stale answer. So ``recording`` watches the one layer every read of this
package goes through: for the length of the block, ``os.stat``, ``os.lstat``, ``os.readlink``,
``os.scandir``, ``os.listdir``, ``os.open`` and ``open`` (built-in and ``io``) note the path they were
given (``os.path.exists``, ``realpath`` and ``os.walk`` call these). Nothing else changes: each call is
passed on as it was. A call this cannot sign (a path relative to a directory descriptor) marks the log
incomplete, and an incomplete log keeps nothing. Module imports are not seen (they are signed as code).

Each path is signed the way it was used: a file opened or a directory listed by its full ``stat``
signature (an edit, a replacement, an entry added or removed changes it); a path only looked at by
``stat`` or ``lstat`` by its type and identity, or its full signature when it is not a directory; a
missing path by its error, so that a file created there is seen. A signature newer than the start of the
work (less ``RACY_NS``) means the file changed while it was read, or so recently that a change in the same
clock tick would not show: such a log is not kept (``settled``).
"""

from __future__ import annotations

import builtins
import io
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Optional

from alpinetags._engine.detcache import dir_identity, stat_signature

#: How far before the start of the work a signed time must lie: timestamps are taken from a coarse
#: clock (a jiffy, or two seconds on FAT), and a change within the tick of the read would not show.
RACY_NS = 2_000_000_000

#: kinds of use, each signed its own way (``sign``)
OPENED, LISTED, STATED, LSTATED = "o", "d", "s", "l"


class ReadLog:
    """The paths looked at in a ``recording`` block, in order, each once per kind of use."""

    def __init__(self) -> None:
        self.started_ns = time.time_ns()
        self.reads: dict[tuple[str, str], None] = {}
        self.complete = True

    def note(self, kind: str, path: Any, dir_fd: Any = None) -> None:
        if dir_fd is not None:
            self.complete = False
            return
        if isinstance(path, int):
            return  # a descriptor: of a file opened (and noted) before
        try:
            text = os.fsdecode(path)
        except TypeError:
            self.complete = False
            return
        if not text.startswith("/proc/self/fd/"):  # a descriptor by name: its file was noted when opened
            self.reads[(kind, text)] = None


def _wrap(log: ReadLog, kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
    lstat_too = kind == STATED  # os.stat(path, follow_symlinks=False) is an lstat

    def noted(*args: Any, **kwargs: Any) -> Any:
        path = args[0] if args else kwargs.get("path", kwargs.get("file", "."))
        used = LSTATED if lstat_too and kwargs.get("follow_symlinks", True) is False else kind
        log.note(used, path, kwargs.get("dir_fd"))
        return original(*args, **kwargs)

    return noted


_WATCHED = (
    (os, "stat", STATED),
    (os, "lstat", LSTATED),
    (os, "readlink", LSTATED),
    (os, "scandir", LISTED),
    (os, "listdir", LISTED),
    (os, "open", OPENED),
    (io, "open", OPENED),
    (builtins, "open", OPENED),
)


@contextmanager
def recording() -> Iterator[ReadLog]:
    """Note every path the block hands to the functions above; restored on the way out, also on error.

    Not re-entrant and not for a process with other threads reading files (the notes would mix): the
    command line's ``check`` is its one user.
    """
    log = ReadLog()
    saved = [(module, name, getattr(module, name)) for module, name, _kind in _WATCHED]
    try:
        for module, name, kind in _WATCHED:
            setattr(module, name, _wrap(log, kind, getattr(module, name)))
        yield log
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def sign(kind: str, path: str) -> tuple[str, int]:
    """The signature of one use of ``path``, and the newest time in it (0 when it holds none)."""
    try:
        st = os.lstat(path) if kind == LSTATED else os.stat(path)
    except (OSError, ValueError) as exc:
        return f"!{getattr(exc, 'errno', None)}", 0
    if kind in (STATED, LSTATED) and stat.S_ISDIR(st.st_mode):
        return dir_identity(st), 0
    return stat_signature(st), max(st.st_mtime_ns, st.st_ctime_ns)


def signatures(reads: Iterable[tuple[str, str]]) -> list[str]:
    return [sign(kind, path)[0] for kind, path in reads]


def too_recent(newest_ns: int, started_ns: int) -> bool:
    """Whether a file whose newest time stamp is ``newest_ns`` changed during work started at
    ``started_ns``, or within ``RACY_NS`` before it: what was read from it may not be kept."""
    return newest_ns >= started_ns - RACY_NS


def settled(log: ReadLog) -> Optional[list[str]]:
    """The signatures of what ``log`` saw, or ``None`` when it may not be kept: incomplete, or a path
    changed during the work or too shortly before it (``too_recent``)."""
    if not log.complete:
        return None
    out = []
    for kind, path in log.reads:
        text, newest = sign(kind, path)
        if too_recent(newest, log.started_ns):
            return None
        out.append(text)
    return out
