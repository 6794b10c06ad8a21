"""A per-user cache of the detection, keyed on everything the detection read.

Detecting the system reads a few small files (well under a millisecond), but getting there imports
pluggy, distro, the plugins and a dozen modules of this package: about as much again as packaging's
whole ``sys_tags()``. The answer changes only when one of its inputs does, so this module keeps the
answer (the plugins' platform tags, and the standard ones unless packaging gives them live, as it does
for this very interpreter off musl) in a file of the user's cache directory, next to a *key*: a text
that names every input by its ``stat`` signature (device, inode, mode, size, modification and change
times). A call first rebuilds the key with nothing but ``os.lstat``, ``os.stat`` and ``os.readlink``
and uses the file only when the key is equal, byte for byte. ``tags.default_platforms`` is its one
user (``all_platforms()`` and ``sys_tags()`` without arguments, ``alpinetags tags`` without options).
What is in the key:

* this interpreter (``sys.executable``, ``sys.version``, ``sys.maxsize``), the user id, the root (real
  path), every ``ALPINETAGS_*`` variable (except ``ALPINETAGS_NO_CACHE``) and ``_PYTHON_HOST_PLATFORM``
  (it changes ``sysconfig.get_platform()``);
* every file detection may read, inside the root, signed link by link along the way ``Target.resolve``
  takes (a link retargeted, a file created where none was, or a file edited, moved or replaced all
  change it): ``/etc/os-release``, ``/usr/lib/os-release``, ``/etc/alpine-release``, ``/etc/apk/arch``,
  the interpreter (``sys.executable``, or the root's candidates), the loader its ``PT_INTERP`` names and
  the musl loader assumed for the arch;
* the plugins: ``sys.path`` and each of its directories (a ``.dist-info`` added or removed changes the
  directory's modification time), and each ``entry_points.txt`` in them (a plugin installed, removed
  or upgraded changes one of these, so it is seen on the next call);
* the code that answered: every ``.py`` file beside ``alpinetags/__init__.py`` and beside each shipped
  plugin's module, and those directories (an upgrade, or an edit of an editable install).

An answer is written only when nothing went wrong (no warning of any kind), only the shipped plugins
answered (a third-party plugin may read anything, so with one loaded nothing is cached), and the
inputs signed before detection still sign the same after it. The file is written atomically (a
temporary file renamed), in a directory ``0700`` of the user's own; it is ignored (and the detection
simply runs) when it is not a regular file, is a link, is not the user's own, is writable by group or
others, is too large, or does not parse. Every failure to read or write it is silent: the cache can
only make a call faster, never change its answer. ``ALPINETAGS_NO_CACHE=1`` switches it off.

This module imports only ``os``, ``stat``, ``sys`` and ``binascii``: it runs before anything else.
"""

from __future__ import annotations

import binascii
import os
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional

NO_CACHE_ENV = "ALPINETAGS_NO_CACHE"
FORMAT = "alpinetags detection cache 2"
#: A real entry is a few kilobytes; anything larger is not one of ours.
MAX_SIZE = 1 << 20
#: One file per question (root, settings, ``sys.path``, ...): beyond this many the oldest go.
MAX_ENTRIES = 64
#: Files the core and the shipped plugins read in any root (besides the interpreter and its loader).
ROOT_FILES = ("/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release", "/etc/apk/arch")
_MAX_LINKS = 40
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def cache_dir(environ: Mapping[str, str]) -> Optional[str]:
    """``$XDG_CACHE_HOME/alpinetags``, else ``$HOME/.cache/alpinetags``; ``None`` when neither is an
    absolute path (no place that is surely the user's)."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = environ.get("HOME", "")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "alpinetags")


def enabled(environ: Mapping[str, str]) -> bool:
    """False when ``ALPINETAGS_NO_CACHE`` is set to anything but ``""`` or ``0``."""
    return environ.get(NO_CACHE_ENV, "") in ("", "0")


def stat_signature(st: os.stat_result) -> str:
    """A file as ``stat`` sees it: type and mode, identity, size, modification and change times (an edit
    in place, a replacement, an entry added to a directory or removed from it changes it)."""
    return f"{st.st_mode:o},{st.st_dev},{st.st_ino},{st.st_size},{st.st_mtime_ns},{st.st_ctime_ns}"


def dir_identity(st: os.stat_result) -> str:
    """A directory passed through, by type and identity alone (what is in it is signed elsewhere)."""
    return f"D{st.st_mode:o},{st.st_dev},{st.st_ino}"


def sign_path(root: str, inside: str) -> str:
    """The signature of ``inside`` as seen in ``root``: each step of its resolution, links followed
    inside the root as ``Target.resolve`` follows them. A directory on the way counts by its identity
    (what is in it counts through the entries signed); a link by its identity and text; the last file by
    its full signature; a missing step by its error (so a file created there is seen)."""
    parts = [p for p in inside.split("/") if p not in ("", ".")]
    done: list[str] = []
    out = [repr(inside)]
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        host = os.path.join(root, *done, part)
        try:
            st = os.lstat(host)
            if stat.S_ISLNK(st.st_mode):
                dest = os.readlink(host)
        except (OSError, ValueError) as exc:
            out.append(f"!{getattr(exc, 'errno', None)}")
            break
        if stat.S_ISLNK(st.st_mode):
            links += 1
            out.append(f"L{stat_signature(st)}>{dest!r}")
            if links > _MAX_LINKS:
                break
            if dest.startswith("/"):
                done = []
            parts = [p for p in dest.split("/") if p not in ("", ".")] + parts
            continue
        on_the_way = stat.S_ISDIR(st.st_mode) and parts
        out.append(dir_identity(st) if on_the_way else stat_signature(st))
        done.append(part)
    return " ".join(out)


def sign_files(paths: Iterable[str]) -> str:
    """``os.stat`` signatures of host paths (links followed), a missing one by its error."""
    out = []
    for path in paths:
        try:
            out.append(stat_signature(os.stat(path)))
        except (OSError, ValueError) as exc:
            out.append(f"!{getattr(exc, 'errno', None)}")
    return " ".join(out)


def sys_path_dirs() -> list[str]:
    """The directories the entry-point reader (``entrypoints.entry_points``) lists: ``sys.path``, with
    ``""`` as the current directory."""
    return [os.path.abspath(entry or ".") for entry in sys.path]


def metadata_files(dirs: Iterable[str]) -> list[str]:
    """Each ``entry_points.txt`` the entry-point reader may read in ``dirs`` (found by listing them).

    Their signatures, with each directory's own (a metadata directory added or removed changes its
    modification time), stand for the plugins found: a plugin installed, removed or upgraded is seen.
    """
    out = []
    for d in dirs:
        try:
            with os.scandir(d) as it:
                names = sorted(e.name for e in it if e.name.endswith(_METADATA_SUFFIXES))
        except OSError:
            continue
        out += [os.path.join(d, name, "entry_points.txt") for name in names]
    return out


def code_files(dirs: Iterable[str]) -> list[str]:
    """The directories of the code that answered, and every Python file directly in each."""
    out = []
    for d in dirs:
        out.append(d)
        try:
            with os.scandir(d) as it:
                out += sorted(e.path for e in it if e.name.endswith(".py"))
        except OSError:
            continue
    return out


def code_dirs(plugins: Iterable[object]) -> list[str]:
    """The directories of the code that answers: this package with each of its subpackages (the engine,
    the system readers, the ELF readers and the command line live in folders of their own), and each
    plugin module's (``[]`` when one has no file: its code cannot be signed)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = [package]
    try:
        with os.scandir(package) as entries:
            dirs += [
                e.path for e in entries if e.is_dir() and os.path.isfile(os.path.join(e.path, "__init__.py"))
            ]
    except OSError:
        return []
    for plugin in plugins:
        path = getattr(plugin, "__file__", None)
        if not isinstance(path, str):
            return []
        dirs.append(os.path.dirname(os.path.abspath(path)))
    return sorted(set(dirs))


def selector(root: str, environ: Mapping[str, str]) -> list[str]:
    """The part of the key that says which question is asked: interpreter, user, root, settings."""
    settings = sorted((k, v) for k, v in environ.items() if k.startswith("ALPINETAGS_") and k != NO_CACHE_ENV)
    return [
        FORMAT,
        f"python {sys.executable!r} {sys.version!r} {sys.maxsize}",
        f"uid {os.geteuid()}",
        f"root {root!r} {os.path.realpath(root)!r}",
        f"env {settings!r} {environ.get('_PYTHON_HOST_PLATFORM')!r}",
        f"sys.path {sys_path_dirs()!r}",
    ]


def input_key(
    root: str, running: bool, environ: Mapping[str, str], candidates: Sequence[str], head: Sequence[str]
) -> str:
    """The key of what the detection reads before it knows more: the selector (``head``), the root's
    files, the interpreter (``sys.executable`` when ``running``, else the root's ``candidates``), and the
    directories plugins are found in. One line per input, every free text in ``repr``: no newline."""
    lines = list(head)
    lines += [f"file {sign_path(root, p)}" for p in ROOT_FILES]
    if running:
        lines.append(f"exe {sign_path('/', os.path.abspath(sys.executable))}")
    else:
        lines += [f"exe {sign_path(root, p)}" for p in candidates]
    lines.append(f"plugin dirs {sign_files(sys_path_dirs())}")
    return "\n".join(lines)


def file_name(selector_lines: Sequence[str], prefix: str = "detect-") -> str:
    """One file per question (so two roots in turn do not evict each other), named by a checksum of
    its selector after ``prefix`` (the check cache's are ``check-``); the whole key inside decides."""
    text = "\n".join(selector_lines).encode("utf-8", "surrogateescape")
    return f"{prefix}{binascii.crc32(text):08x}"


# ------------------------------------------------------------------------------------------------
# the file: the key, a blank line, then one field a line, ``name<TAB>value<TAB>...``, every value
# escaped (``unicode_escape``) so that none holds a tab or a newline


def _esc(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _unesc(text: str) -> str:
    return text.encode("ascii").decode("unicode_escape")


def _own_dir(path: str) -> bool:
    """``path`` is a real directory (not a link) of this user, writable by no one else."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def read_entry(directory: str, name: str, max_size: int = MAX_SIZE) -> Optional[str]:
    """The text of the cache file, or ``None`` when there is none or it may not be trusted: not in a
    directory of the user's own, a link, not a regular file, not the user's, writable by others, larger
    than ``max_size``, not UTF-8."""
    if not _own_dir(directory):
        return None
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & 0o022
            or st.st_size > max_size
        ):
            return None
        data = os.read(fd, max_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8", "surrogateescape")
    except UnicodeError:
        return None


def write_entry(
    directory: str, name: str, text: str, keep: int = MAX_ENTRIES, keep_bytes: int = MAX_ENTRIES * MAX_SIZE
) -> bool:
    """Write the file atomically (a temporary file of mode 0600, renamed); False, and nothing left
    behind, when the directory is not the user's own or anything fails. Of the files named with the same
    prefix (``detect-``), the most recently written stay: ``keep`` of them, ``keep_bytes`` in all."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return False
    if not _own_dir(directory):
        return False
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    try:
        data = text.encode("utf-8", "surrogateescape")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except (OSError, UnicodeError):
        return False
    try:
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(directory, name))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    _prune(directory, name.partition("-")[0] + "-", keep, keep_bytes)
    return True


def _prune(directory: str, prefix: str, keep: int, keep_bytes: int) -> None:
    """Remove the least recently written entries named ``prefix...`` beyond ``keep`` of them or
    ``keep_bytes`` in all (``python -c`` from many directories asks as many questions: the current
    directory is on ``sys.path``)."""
    try:
        with os.scandir(directory) as it:
            found = []
            for e in it:
                if e.name.startswith(prefix):
                    st = e.stat(follow_symlinks=False)
                    found.append((st.st_mtime_ns, st.st_size, e.path))
        found.sort(reverse=True)
        total = 0
        for i, (_mtime, size, path) in enumerate(found):
            total += size
            if i >= keep or total > keep_bytes:
                os.unlink(path)
    except OSError:
        pass


def encode(key: str, fields: Sequence[tuple[str, Sequence[str]]]) -> str:
    body = ["\t".join([name, *(_esc(v) for v in values)]) for name, values in fields]
    return "\n".join([key, "", *body])


def decode(text: str, key: str) -> Optional[dict[str, list[str]]]:
    """The fields of a file whose key is ``key`` exactly; ``None`` for any other key or a bad file."""
    if not text.startswith(key + "\n\n"):
        return None
    fields: dict[str, list[str]] = {}
    try:
        for line in text[len(key) + 2 :].split("\n"):
            name, *values = line.split("\t")
            if name in fields:
                return None
            fields[name] = [_unesc(v) for v in values]
    except (UnicodeError, ValueError):
        return None
    return fields


# ------------------------------------------------------------------------------------------------
# one question: its key, the file that may answer it, and the writing of a new answer


class Probe:
    """The cache as one caller sees it: the key of the inputs as signed before the detection ran."""

    def __init__(self, root: str, running: bool, environ: Mapping[str, str], candidates: Sequence[str]):
        self.root, self.running, self.environ, self.candidates = root, running, environ, candidates
        self.head = selector(root, environ)
        self.key = input_key(root, running, environ, candidates, self.head)
        self.directory = cache_dir(environ) or ""
        self.name = file_name(self.head)
        self.metadata: Optional[tuple[list[str], str]] = None

    def begin(self) -> None:
        """Sign the plugins' metadata files before the detection reads them (``store`` compares)."""
        files = metadata_files(sys_path_dirs())
        self.metadata = (files, sign_files(files))

    def load(self) -> Optional[dict[str, list[str]]]:
        """The answer's fields, when the file is trusted, its key is this key and the files it watches
        (the interpreter's loader, the plugins' metadata, the code) still sign the same; else ``None``."""
        text = read_entry(self.directory, self.name)
        fields = None if text is None else decode(text, self.key)
        if fields is None:
            return None
        watch, watch_sig = fields.pop("watch", []), fields.pop("watch-sig", None)
        files, files_sig = fields.pop("files", []), fields.pop("files-sig", None)
        if watch_sig != [sign_path(self.root, p) for p in watch] or files_sig != [sign_files(files)]:
            return None
        return fields

    def store(
        self, fields: Sequence[tuple[str, Sequence[str]]], watch: Sequence[str], code_dirs: Sequence[str]
    ) -> bool:
        """Write the answer with what it watches: ``watch`` (paths in the root read after the interpreter
        named them), the plugins' metadata files and the files of ``code_dirs``. Not when an input changed
        while the answer was being found (the key, signed again, differs): it may mix two states."""
        if self.metadata is None:
            return False
        metadata, metadata_sig = self.metadata
        files = metadata + code_files(code_dirs)
        extra = [
            ("watch", watch),
            ("watch-sig", [sign_path(self.root, p) for p in watch]),
            ("files", files),
            ("files-sig", [sign_files(files)]),
        ]
        if input_key(self.root, self.running, self.environ, self.candidates, self.head) != self.key:
            return False
        if metadata_files(sys_path_dirs()) != metadata or sign_files(metadata) != metadata_sig:
            return False
        return write_entry(self.directory, self.name, encode(self.key, [*fields, *extra]))


def probe_for(
    root: str, running: bool, environ: Mapping[str, str], candidates: Sequence[str]
) -> Optional[Probe]:
    """The cache for the detection of ``root`` (``running``: this very interpreter on ``/``), or ``None``
    when it is switched off or there is no cache directory for this user."""
    if not enabled(environ) or cache_dir(environ) is None:
        return None
    return Probe(root, running, environ, candidates)
