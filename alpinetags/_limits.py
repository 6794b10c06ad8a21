"""The caps on the work one check may do, and the budget that counts it.

A wheel on an index or an image on disk is written by someone else. Each reader bounds what it reads per
object (``elfdynamic``: sections, symbols, needed names, RPATH entries), and the totals of one check are
counted here, across every object, member and lookup of that check: symbols read, bytes inflated from a
wheel, search steps of the simulated loader, files of a root's ``ld.so.conf``. Every cap sits far above
what real wheels and roots need (the figures are in docs/robustness.md) and far below what would make a
check slow or large: hitting one means the input was built to be expensive, so it is refused
(``InputRefused``), never read on.

A budget is per check: ``per_check()`` opens one for the calls inside it (nested calls share the outer
one); a reader used outside any check gets a fresh budget per call, which bounds that call alone.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Optional

from alpinetags.errors import InputRefused

#: Section headers of one ELF object (real shared objects: under 50; with debug info under 100).
MAX_SECTIONS = 4096
#: Entries of one object's ``.dynsym`` (real: tens of thousands for the largest C++ libraries).
MAX_SYMBOLS = 1_000_000
#: Entries of one object's ``PT_DYNAMIC`` table, up to its ``DT_NULL`` (real: under 100).
MAX_DYNAMIC_ENTRIES = 65_536
#: Distinct ``DT_NEEDED`` names of one object (real: under 100).
MAX_NEEDED = 1024
#: Entries of one object's ``DT_RPATH`` or ``DT_RUNPATH`` (real: a handful).
MAX_RPATH_ENTRIES = 128
#: Entries of one dynamic relocation table (``DT_RELA``, ``DT_REL``, ``DT_JMPREL``) of one object; read
#: only for objects with TLS (``elfrelocs``). Real: docs/robustness.md.
MAX_RELOCATIONS = 4_000_000

#: Symbols read in one check, all objects together.
MAX_CHECK_SYMBOLS = 4_000_000
#: Dynamic relocations read in one check, all objects with TLS together.
MAX_CHECK_RELOCATIONS = 16_000_000
#: Bytes of symbol and library names decoded in one check (each distinct name of an object once).
MAX_CHECK_NAME_BYTES = 256 * 1024 * 1024
#: Places the simulated loader tries in one check (each RPATH/path entry tried for each name).
MAX_SEARCH_STEPS = 1_000_000
#: Path components the simulated loader resolves in a root in one check (each may be a link to follow;
#: each distinct directory and each file found is resolved once).
MAX_COMPONENTS = 2_000_000
#: Objects the simulated loader reads from a root in one check.
MAX_ROOT_OBJECTS = 20_000

#: Bytes inflated from one ELF member of a wheel (or of a tar archive inside it); declared over: refused.
#: Real: torch's CUDA wheels carry a 1.9 GB libtorch_cuda_cpp.so.
MAX_MEMBER = 4 * 1024 * 1024 * 1024
#: Bytes inflated from one wheel (ELF members and tar archives read for the check) in all. Real: a torch
#: CUDA wheel unpacks to 3.9 GB.
MAX_INFLATED = 8 * 1024 * 1024 * 1024
#: Members of one wheel (real: a few thousand for the largest).
MAX_MEMBERS = 200_000

#: Files of a root's ``ld.so.conf`` read, includes followed (real: a few dozen), and include depth.
MAX_CONF_FILES = 256
MAX_CONF_DEPTH = 8
#: Bytes of one root configuration file (``ld-musl-<arch>.path``, ``ld.so.conf`` and its includes).
MAX_CONF_SIZE = 256 * 1024
#: Entries of one directory listed for the loader's lookups (a larger one is looked up name by name).
MAX_LISTING = 100_000


def refused(
    what: str, found: int, cap: int, unit: str, error: type[InputRefused] = InputRefused
) -> InputRefused:
    """The one-line refusal for a cap: ``refused: <what>: <found> <unit> exceeds the cap of <cap>``
    (``error``: ``RootRefused`` for a root's)."""
    return error(f"{what}: {found:,} {unit} exceeds the cap of {cap:,}")


def within(exc: InputRefused, where: str) -> InputRefused:
    """``exc`` with ``where`` (a path, a wheel member) named after ``refused:``, unless it is already;
    of the same type (a root's refusal stays one)."""
    body = str(exc)[len("refused: ") :]
    if body.startswith(where):
        return exc
    return type(exc)(f"{where}: {body}")


class Budget:
    """What one check has spent so far, against the ``MAX_CHECK_*`` caps; ``charge`` refuses past one."""

    def __init__(self) -> None:
        self.spent: dict[str, int] = {}

    def charge(self, what: str, amount: int, cap: int, unit: str) -> None:
        total = self.spent.get(what, 0) + amount
        self.spent[what] = total
        if total > cap:
            raise refused(f"{what} in one check", total, cap, unit)


_current: contextvars.ContextVar[Optional[Budget]] = contextvars.ContextVar("alpinetags_budget", default=None)


def current() -> Budget:
    """The budget of the check running now, or a fresh one (bounding just the caller) outside any."""
    return _current.get() or Budget()


@contextlib.contextmanager
def per_check() -> Iterator[Budget]:
    """One budget for everything inside (a check of some wheels against a root); nested: the outer one."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    budget = Budget()
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
