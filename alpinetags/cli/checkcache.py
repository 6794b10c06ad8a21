"""``alpinetags check``'s answers kept per user until one of the files they were drawn from changes.

A check of a folder of small system files is mostly fixed cost: starting Python, importing the ELF
readers and the loader simulation, reading the root's libc and libraries again. Run again on the same
folder against the same root (a CI job, a pre-commit hook, a shell loop), nothing of that has changed.
So a check keeps what it printed and its exit code in the user's cache directory (``detcache``'s: mode
0700, written atomically, ignored when not the user's own, a link, too large or garbled), together with
every path it looked at and the signature of each (``readlog``): the files and folders checked, every
library and link of the root it followed, the directories it searched, the loader's configuration, the
data files. A later call with the same question (the same options, working directory, interpreter, user
and groups, ``ALPINETAGS_*`` and ``LD_LIBRARY_PATH``) prints the kept answer when every one of those
paths, the code of this package and of any plugin asked, and the plugins installed (``sys.path`` and
each ``entry_points.txt``) sign as they did; otherwise it checks as always.

Nothing is kept when the answer may not be the same next time: a warning was printed, a plugin other
than the shipped ones was asked, ``-v`` asked to see the reads, a path changed while it was read or less
than ``readlog.RACY_NS`` before, or a read could not be signed. ``ALPINETAGS_NO_CACHE=1`` switches it off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from alpinetags._engine import detcache, readlog

FORMAT = "alpinetags check cache 1"
PREFIX = "check-"
#: A text or JSON report of a large folder is a few hundred kilobytes; beyond this nothing is kept.
MAX_SIZE = 16 << 20
#: Questions kept (the most recently answered): a CI job or a loop over wheels asks a few hundred; and
#: no more than this many bytes in all (an entry of 255 small files is about 180 kB).
MAX_ENTRIES = 256
MAX_BYTES = 256 << 20


@dataclass(frozen=True)
class CheckOutput:
    """What a check printed: its exit code, its standard output, the lines of its standard error before
    and after it (warnings about files not read come first, the error they end in last)."""

    code: int
    stdout: str
    stderr: tuple[str, ...] = ()
    stderr_after: tuple[str, ...] = ()

    def show(self) -> int:
        for line in self.stderr:
            print(line, file=sys.stderr)
        print(self.stdout)
        for line in self.stderr_after:
            print(line, file=sys.stderr)
        return self.code


def selector(options: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """What says which question is asked: the options, where and by whom, with which settings."""
    settings = sorted(
        (k, v)
        for k, v in environ.items()
        if (k.startswith("ALPINETAGS_") and k != detcache.NO_CACHE_ENV)
        or k in ("LD_LIBRARY_PATH", "_PYTHON_HOST_PLATFORM")
    )
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    return [
        FORMAT,
        f"python {sys.executable!r} {sys.version!r} {sys.maxsize}",
        f"user {os.geteuid()} {os.getegid()} {sorted(os.getgroups())}",
        f"cwd {cwd!r}",
        f"env {settings!r}",
        f"sys.path {detcache.sys_path_dirs()!r}",
        f"options {sorted((k, repr(v)) for k, v in options.items())!r}",
    ]


def _watched_files(code_dirs: Sequence[str]) -> list[str]:
    """The code that answered and what says which plugins there are (``detcache``'s signing)."""
    dirs = detcache.sys_path_dirs()
    return [*dirs, *detcache.metadata_files(dirs), *detcache.code_files(code_dirs)]


class CheckMemo:
    """One question's entry: ``load`` the kept answer if it still holds, ``store`` a new one."""

    def __init__(self, options: Mapping[str, Any], environ: Mapping[str, str]) -> None:
        self.key = "\n".join(selector(options, environ))
        self.directory = detcache.cache_dir(environ) or ""
        self.name = detcache.file_name([self.key], PREFIX)

    def load(self) -> Optional[CheckOutput]:
        text = detcache.read_entry(self.directory, self.name, MAX_SIZE)
        fields = None if text is None else detcache.decode(text, self.key)
        if fields is None:
            return None
        try:
            reads = [(entry[0], entry[1:]) for entry in fields["reads"]]
            if readlog.signatures(reads) != fields["sigs"]:
                return None
            if [detcache.sign_files(fields["files"])] != fields["files-sig"]:
                return None
            (code,) = fields["exit"]
            (stdout,) = fields["stdout"]
            return CheckOutput(int(code), stdout, tuple(fields["stderr"]), tuple(fields["stderr-after"]))
        except (KeyError, ValueError, IndexError):
            return None

    def store(self, output: CheckOutput, log: readlog.ReadLog, plugins: Optional[Iterable[object]]) -> bool:
        """Keep ``output`` with what ``log`` saw; ``plugins``: the plugin modules asked (``None``: none)."""
        sigs = readlog.settled(log)
        if sigs is None:
            return False
        code_dirs = detcache.code_dirs(plugins or ())
        if not code_dirs:
            return False
        files = _watched_files(code_dirs)
        fields = [
            ("reads", [kind + path for kind, path in log.reads]),
            ("sigs", sigs),
            ("files", files),
            ("files-sig", [detcache.sign_files(files)]),
            ("exit", [str(output.code)]),
            ("stdout", [output.stdout]),
            ("stderr", list(output.stderr)),
            ("stderr-after", list(output.stderr_after)),
        ]
        text = detcache.encode(self.key, fields)
        if len(text) > MAX_SIZE:
            return False
        return detcache.write_entry(self.directory, self.name, text, MAX_ENTRIES, MAX_BYTES)


def memo_for(options: Mapping[str, Any], environ: Mapping[str, str], verbose: bool) -> Optional[CheckMemo]:
    """The memo of this check, or ``None``: switched off, no cache directory, or ``-v`` (show the reads)."""
    if verbose or not detcache.enabled(environ) or detcache.cache_dir(environ) is None:
        return None
    return CheckMemo(options, environ)
