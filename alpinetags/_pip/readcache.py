"""What the install-step check read from a wheel file, kept per user until that file changes.

Reading a wheel for the check means inflating every ELF member (pyarrow: 200 MB) and reading its
dynamic symbols; the check then holds the inflated bytes for pip, which costs fresh memory. A wheelhouse
installed again and again (a venv made anew, CI with its cache kept, ``pip install --force-reinstall``)
reads the same files each time. So the read is kept in the user's cache directory (``wheel-<crc>``, with
the detection cache's rules: a ``0700`` directory of the user's own, no links, atomic writes) and a
later pip run that meets the same file takes it from there: the wheel is not opened by the check at
all, and pip decompresses every member itself, as it does without alpinetags.

What is kept is what was read from the wheel, never a verdict: the ``Requires-External`` lines of its
METADATA and each ELF member's dynamic symbols. The root is read afresh by every pip run and every
verdict is judged afresh, so a library added to or removed from the root is seen at once.

The key (inside the entry, compared whole) is the wheel file by real path and ``stat`` signature
(device, inode, size, modification and change times: a file rewritten or replaced is another key),
the code of this package (every ``.py`` file of it, so an upgrade or an edit is another key), the
interpreter, the user and the ``ALPINETAGS_*`` settings. A wheel file changed during the read, or less
than ``readlog.RACY_NS`` before it, is not kept (a second change in the same clock tick would not show).
``ALPINETAGS_NO_CACHE=1`` switches it off. An entry that does not parse to exactly the shape written is
ignored, and every failure to read or write one is silent: it can make pip faster, never change what
the check says.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from alpinetags._elf.elfdynamic import DynamicSymbols
from alpinetags._elf.elfscan import ElfObject
from alpinetags._engine import detcache
from alpinetags._engine.readlog import OPENED, sign, too_recent

FORMAT = "alpinetags wheel read cache 1"
PREFIX = "wheel-"
#: One entry at most (pyarrow 26's: about 4 MB), and at most this many of them, this many bytes in all.
MAX_SIZE = 32 * 1024 * 1024
MAX_ENTRIES = 256
MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class WheelRead:
    """What the check reads from one wheel file: the ``Requires-External`` lines of its METADATA (its
    text, ``""`` when it has none, so markers are evaluated for each root), and its ELF members."""

    metadata: str
    objects: tuple[ElfObject, ...]


@functools.cache
def _code_signature() -> str:
    """The signature of this package's code, once per process."""
    return detcache.sign_files(detcache.code_files(detcache.code_dirs([])))


def _selector(wheel: str, environ: Mapping[str, str]) -> list[str]:
    settings = sorted(
        (k, v)
        for k, v in environ.items()
        if k.startswith("ALPINETAGS_") and k not in (detcache.NO_CACHE_ENV, "ALPINETAGS_ROOT")
    )
    return [
        FORMAT,
        f"python {sys.executable!r} {sys.version!r} {sys.maxsize}",
        f"uid {os.geteuid()}",
        f"env {settings!r}",
        f"wheel {os.path.realpath(wheel)!r}",
    ]


def _key(selector: Sequence[str], signature: str) -> str:
    return "\n".join([*selector, f"file {signature}", f"code {_code_signature()}"])


@dataclass(frozen=True)
class Found:
    """What the cache holds for a wheel file as it is now: its ``read``, or only that it was ``seen``
    (read once before, and not kept then), or nothing."""

    read: Optional[WheelRead] = None
    seen: bool = False


def load(wheel: str, environ: Mapping[str, str]) -> Found:
    """What is kept for the wheel file at ``wheel`` as it is now."""
    directory = detcache.cache_dir(environ)
    if directory is None or not detcache.enabled(environ):
        return Found()
    try:
        selector = _selector(wheel, environ)
    except (OSError, ValueError):
        return Found()
    signature = sign(OPENED, wheel)[0]
    if signature.startswith("!"):  # cannot be signed ("!errno"): nothing is kept for such a file
        return Found()
    key = _key(selector, signature)
    text = detcache.read_entry(directory, detcache.file_name(selector, PREFIX), MAX_SIZE)
    if text is None or not text.startswith(key + "\n\n"):
        return Found()
    try:
        body = json.loads(text[len(key) + 2 :])
        return Found(seen=True) if body is None else Found(read=_from_json(body), seen=True)
    except (ValueError, TypeError, RecursionError):
        return Found()


def before(wheel: str) -> tuple[str, int]:
    """The wheel's signature (``readlog.sign``, as pip opens it) and the time, taken before it is read
    (``store`` compares them after)."""
    return sign(OPENED, wheel)[0], time.time_ns()


def store(
    wheel: str, environ: Mapping[str, str], read: WheelRead, started: tuple[str, int], seen: bool
) -> bool:
    """Keep ``read`` for the wheel file, if it is still the file signed in ``started`` and had not
    changed shortly before; ``False`` when nothing was kept.

    Writing a read costs about as much as a tenth of reading it (pyarrow's symbols: 4 MB of JSON). A
    wheel installed once (a container built from nothing) would pay that for nothing, so the first read
    of a file only notes that it was ``seen``; the second keeps it, and the third is answered from it."""
    directory = detcache.cache_dir(environ)
    if directory is None or not detcache.enabled(environ):
        return False
    signature, newest = sign(OPENED, wheel)
    if signature.startswith("!") or signature != started[0] or too_recent(newest, started[1]):
        return False  # unreadable now (``sign`` gives "!errno"), another file, or changed too recently
    try:
        selector = _selector(wheel, environ)
    except (OSError, ValueError):
        return False
    key = _key(selector, signature)
    name = detcache.file_name(selector, PREFIX)
    if not seen:  # the key alone (a few kB): a file downloaded to a new place each time is never kept
        return detcache.write_entry(directory, name, key + "\n\nnull", MAX_ENTRIES, MAX_BYTES)
    text = key + "\n\n" + json.dumps(_to_json(read), separators=(",", ":"))
    if len(text) > MAX_SIZE:
        return False
    return detcache.write_entry(directory, name, text, MAX_ENTRIES, MAX_BYTES)


# ------------------------------------------------------------------------------------------------
# the body: JSON, read back only if it has exactly the shape written


def _symbols_to_json(s: DynamicSymbols) -> list[Any]:
    return [s.arch, s.interpreter, s.soname, list(s.needed), list(s.required), list(s.weak),
            list(s.exported), list(s.rpath), list(s.runpath),
            [[file, list(versions)] for file, versions in s.version_needs], list(s.version_defs),
            s.machine, s.elf_class, [list(t) for t in s.loader_tags], list(s.static_tls),
            s.mentions_pyinit]  # fmt: skip


def _to_json(read: WheelRead) -> dict[str, Any]:
    return {
        "metadata": read.metadata,
        "objects": [[o.member, o.size, _symbols_to_json(o.symbols)] for o in read.objects],
    }


def _strs(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not all(type(v) is str for v in value):
        raise TypeError("not a list of strings")
    return tuple(value)


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _symbols_from_json(v: Any) -> DynamicSymbols:
    if type(v) is not list or len(v) != 16:
        raise TypeError("not a symbols record")
    arch, interpreter, soname = _strs(v[0:3])
    needs = v[9]
    if type(needs) is not list or not all(type(n) is list and len(n) == 2 for n in needs):
        raise TypeError("not version needs")
    tags = v[13]
    if type(tags) is not list or not all(type(t) is list and len(t) == 2 for t in tags):
        raise TypeError("not loader tags")
    if type(v[15]) is not bool:
        raise TypeError("not a flag")
    return DynamicSymbols(
        arch=arch,
        interpreter=interpreter,
        soname=soname,
        needed=_strs(v[3]),
        required=frozenset(_strs(v[4])),
        weak=frozenset(_strs(v[5])),
        exported=frozenset(_strs(v[6])),
        rpath=_strs(v[7]),
        runpath=_strs(v[8]),
        version_needs=tuple((_strs([f])[0], _strs(versions)) for f, versions in needs),
        version_defs=frozenset(_strs(v[10])),
        machine=_int(v[11]),
        elf_class=_int(v[12]),
        loader_tags=tuple((_int(t), _int(value)) for t, value in tags),
        static_tls=_strs(v[14]),
        mentions_pyinit=v[15],
    )


def _from_json(body: Any) -> WheelRead:
    if type(body) is not dict or set(body) != {"metadata", "objects"} or type(body["metadata"]) is not str:
        raise TypeError("not a wheel read")
    objects = body["objects"]
    if type(objects) is not list:
        raise TypeError("not a list of objects")
    out = []
    for entry in objects:
        if type(entry) is not list or len(entry) != 3 or type(entry[0]) is not str:
            raise TypeError("not an object")
        out.append(ElfObject(entry[0], _int(entry[1]), _symbols_from_json(entry[2])))
    return WheelRead(body["metadata"], tuple(out))
