"""Libraries pip meets twice in one run: the same bytes are read once.

auditwheel bundles the same build of ``libgcc_s``, ``libstdc++`` or ``libgfortran`` into wheel after
wheel, and some wheels carry one library under two or three names (pyarrow's ``libarrow_python.so``,
``.so.2600``, ``.so.2600.1.0``). Of the 40 wheels bench/bench_pip.py installs, 46 MB of ELF members
repeat one read before, every time with the very same compressed bytes in the zip.

A member is a twin of one read before when its data in the zip is byte for byte the same (the central
directory's method, CRC and sizes are only how a candidate is found: a CRC is four bytes anyone can
choose). Equal compressed bytes inflate to equal bytes, so the symbols read from the first stand for the
second, which the check then neither inflates nor keeps: pip decompresses it itself. The first member's
bytes are read again from its wheel only when the wheel file is still the one read (same ``stat``
signature), so a wheel replaced in between is never compared against.

Only libraries (objects with a soname) are remembered, the ones bundled again and again, at most
``MAX_REMEMBERED`` per process; what is remembered is what was read, never an answer about a root.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any, NamedTuple, Optional

from alpinetags._elf.zipguard import stored_data
from alpinetags._engine.detcache import stat_signature

#: Libraries remembered per pip process: the symbols of each (a few MB for the largest) stay in memory.
MAX_REMEMBERED = 512


class _First(NamedTuple):
    wheel: str
    signature: str
    info: zipfile.ZipInfo
    symbols: Any  # elfdynamic.DynamicSymbols


def _key(info: zipfile.ZipInfo) -> tuple[int, int, int, int, int]:
    return info.compress_type, info.flag_bits, info.CRC, info.compress_size, info.file_size


class Twins:
    """The libraries read so far in this process, and the lookup of a member among them."""

    def __init__(self) -> None:
        self._firsts: dict[tuple[int, int, int, int, int], _First] = {}

    def remember(self, zf: zipfile.ZipFile, wheel: str, info: zipfile.ZipInfo, symbols: Any) -> None:
        """Note a member just inflated and read (``symbols``), if it is a library not yet noted."""
        if not symbols.soname or len(self._firsts) >= MAX_REMEMBERED or zf.fp is None:
            return
        signature = stat_signature(os.fstat(zf.fp.fileno()))
        self._firsts.setdefault(_key(info), _First(wheel, signature, info, symbols))

    def find(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Optional[Any]:
        """The symbols of the library noted before whose data in its zip is the same bytes as ``info``'s in
        ``zf``; ``None`` when there is none, or it cannot be shown to be the same."""
        first = self._firsts.get(_key(info))
        if first is None or zf.fp is None:
            return None
        try:
            mine = stored_data(zf.fp.fileno(), info)
            if mine is None:
                return None
            theirs = _data_of(first)
        except (OSError, ValueError):
            return None
        return first.symbols if theirs == mine else None


def _data_of(first: _First) -> Optional[bytes]:
    """The first member's data, read again from its wheel if that file is still the one read then."""
    fd = os.open(first.wheel, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if stat_signature(os.fstat(fd)) != first.signature:
            return None
        return stored_data(fd, first.info)
    finally:
        os.close(fd)


#: The libraries read so far in this pip process: one bundled again is not read again.
this_process = Twins()
