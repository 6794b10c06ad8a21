"""Real parts of the ordinary-input tests (tests/test_check_inputs.py).

* ``ruff 0.17.6`` for ``linux_armv6l`` (PyPI): a real ARMv6 hard-float executable (``Tag_CPU_arch: v6``,
  built for ``arm-unknown-linux-musleabihf``), the kind of file Alpine's ``armhf`` (ARMv6) holds. No Alpine
  armhf root is among the real parts (CI reaches PyPI and Debian only), so this file stands for ARMv6.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "inputs"
#: (file, sha256, pip spec), fetched with ``pip download --no-deps --only-binary=:all:`` on 2026-12-06.
RUFF_ARMV6 = (
    "ruff-0.17.6-py3-none-linux_armv6l.whl",
    "084d9c8f5ec718e7eba007dba339e7cb4f7571d2f267558ae080bf428fb6a69b",
    "ruff==0.17.6",
)


def armv6_wheel() -> Path:
    """The pinned ruff wheel for ``linux_armv6l``."""
    path = CACHE / RUFF_ARMV6[0]
    if not path.is_file():
        realparts._missing(f"the {RUFF_ARMV6[0]} wheel", f"pip download {RUFF_ARMV6[2]}")
    return path


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Download the pinned wheel into ``CACHE`` (once), checking its sha256."""
    filename, digest, spec = RUFF_ARMV6
    line("ruff (armv6l)", realparts.fetch_pinned_wheel(CACHE, filename, digest, spec, python=None))
